"""The docs site as a reader meets it (headless Chromium), and `make lab` serving a paper notebook."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from distillnb import cli
from distillnb.docs import build_offline, process_notebooks

ROOT = Path(__file__).parents[1]
FIX = Path(__file__).parent / "fixtures"
CHROME = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--virtual-time-budget=8000",
         "--window-size=1200,900"]


def chrome(*args, timeout=90):
    return subprocess.run([CHROME, *FLAGS, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The offline site of the repository's notebooks, with a scorecard (and its figure) from a fixture run."
    if CHROME is None: pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium): the site cannot be checked")
    probe = chrome("--dump-dom", "about:blank", timeout=60)
    if probe.returncode != 0: pytest.skip(f"Chromium does not start here: {probe.stderr.strip()[-300:]}")
    d = tmp_path_factory.mktemp("site")
    nbs = d / "fixtures"; shutil.copytree(FIX, nbs)
    cli.reproduce("ci", only=["ok"], out=d / "reports", timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    process_notebooks(ROOT / "nbs", d / "_proc", reports=ROOT / "reports")
    build_offline(d / "_proc", d / "_docs", ROOT / "_quarto.yml", scorecard=d / "reports" / "scorecard.md")
    return d / "_docs"


def dom(page):
    r = chrome("--dump-dom", page.as_uri())
    assert r.returncode == 0, r.stderr[-500:]
    return r.stdout


def screenshot(page, tmp_path):
    png = tmp_path / (page.stem + ".png")
    r = chrome(f"--screenshot={png}", page.as_uri())
    assert r.returncode == 0 and png.exists(), r.stderr[-500:]
    from PIL import Image
    im = Image.open(png).convert("L")
    lo, hi = im.getextrema()
    assert hi - lo > 100, "the screenshot is blank"
    return im


@pytest.mark.parametrize("page,title,math", [("index.html", "distillnb", False), ("papers/sinkd.html", "SinKD", True),
                                             ("05_report.html", "Report", True)])
def test_page_has_title_and_rendered_math(site, page, title, math, tmp_path):
    html = dom(site / page)
    assert f"<title>" in html and title in html.split("<title>")[1].split("</title>")[0]
    assert "<nav>" in html and "Papers: diffusion" in html, "the navigation of _quarto.yml is missing"
    if math: assert 'class="MathJax' in html, "no equation was typeset by the bundled MathJax"
    assert "#|" not in html, "nbdev directives leaked into the page"
    screenshot(site / page, tmp_path)


def test_scorecard_page_shows_its_figure(site, tmp_path):
    html = dom(site / "scorecard.html")
    assert "distillnb scorecard" in html and "<img" in html and "ci/ok/scores.png" in html
    assert (site / "ci" / "ok" / "scores.png").exists()
    assert 'href="papers/ok.html"' in html  # rows link the paper pages of the site
    screenshot(site / "scorecard.html", tmp_path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_a_paper_notebook():
    if not (ROOT / ".venv" / "bin" / "jupyter").exists(): pytest.skip("make lab needs the repository's .venv (make venv)")
    port = free_port()
    proc = subprocess.Popen(["make", "-s", "-C", str(ROOT), "lab", f"LAB_ARGS=--port {port} --ServerApp.token= --ServerApp.password="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url, body, deadline = f"http://127.0.0.1:{port}/api/contents/papers/sinkd.ipynb", None, time.time() + 90
        while time.time() < deadline and body is None:
            try: body = json.loads(urllib.request.urlopen(url, timeout=5).read())
            except OSError: time.sleep(1)
        assert body is not None, "JupyterLab did not answer on 127.0.0.1"
        assert body["type"] == "notebook" and body["content"]["cells"], body.get("message")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10).read().decode()
        assert "JupyterLab" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
