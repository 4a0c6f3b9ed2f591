"""The batch runner and the console script, on fixture notebooks (ok, failing, hanging with a child process)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from distillnb import cli
from distillnb.catalog import PAPERS

FIX = Path(__file__).parent / "fixtures"
ENTRY_KEYS = {"slug", "title", "notebook", "status", "wall_s", "cost", "over_budget", "verdict", "reason", "claim", "headline",
              "min_effect", "control", "control_verdict", "revised", "seeds", "teacher_seeds", "seed", "commit",
              "metrics", "error", "figures", "threads"}
CARD_KEYS = {"scale", "created", "commit", "budget", "calibration", "batch", "over_budget", "nbs_unchanged", "papers"}


@pytest.fixture
def nbs(tmp_path):
    "A copy of the fixture notebooks, so that a test can check nothing is written beside them."
    d = tmp_path / "nbs"
    shutil.copytree(FIX, d)
    return d


def listing(d):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def check_schema(card, scale="ci"):
    assert CARD_KEYS <= set(card), sorted(CARD_KEYS - set(card))
    assert card["scale"] == scale
    for p in card["papers"]:
        assert ENTRY_KEYS <= set(p), sorted(ENTRY_KEYS - set(p))
        assert p["status"] in ("ok", "failed", "timeout", "memory")
        assert p["verdict"] in ("holds", "does not hold", "inconclusive", None)
        assert p["reason"] in ("better", "worse", "no effect", "unclear", None)
        assert isinstance(p["wall_s"], (int, float))


def alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_list_shows_every_paper(capsys):
    assert cli.main(["list", "--out", "/nonexistent"]) == 0
    out = capsys.readouterr().out
    for p in PAPERS:
        assert p.slug in out and p.title in out
    assert "nbs/papers/sinkd.ipynb" in out or "(not yet written)" in out


def test_reproduce_only_one(nbs, tmp_path):
    before = listing(nbs)
    card = cli.reproduce("ci", only=["ok"], out=tmp_path / "reports", timeout=120, nbs_dir=nbs, progress=False)
    check_schema(card)
    (p,) = card["papers"]
    assert (p["slug"], p["status"], p["verdict"], p["reason"], p["seeds"], p["error"]) == ("ok", "ok", "holds", "better", [0, 1, 2], None)
    assert (p["control_verdict"], p["min_effect"], p["teacher_seeds"], p["seed"]) == ("holds", 0.1, [0, 1, 2], 0)
    assert p["revised"] == {"mech": "control arm added after a run"}
    assert p["metrics"]["claims"]["score"]["diff_mean"] == pytest.approx(1.0)
    # time is a cost against the calibration workload, measured once per batch
    calib = card["calibration"]["calib_s"]
    assert calib > 0 and card["batch"]["calib_s"] == calib
    assert p["cost"] == pytest.approx(p["wall_s"] / calib, abs=0.01)
    rep = tmp_path / "reports"
    assert (rep / "ci" / "ok.ipynb").exists() and (rep / "ci" / "ok" / "scores.png").exists()
    assert p["figures"] == ["ci/ok/scores.png"]
    # the kernel's working directory is the output folder, not the notebooks' folder
    assert (rep / "ci" / "ok" / "litter.txt").exists()
    on_disk = json.loads((rep / "scorecard.json").read_text())
    check_schema(on_disk)
    md = (rep / "scorecard.md").read_text()
    assert "| [ok](ci/ok.ipynb) | ok | the method scores higher | **holds (better)** | holds | 0.1 | 3 | 3 |" in md
    assert "![ok: scores](ci/ok/scores.png)" in md and "| ok | control | the mechanism adds to the control † control arm" in md
    assert listing(nbs) == before, "the run wrote into the notebooks' folder"
    assert card["nbs_unchanged"] is True


def test_seed_is_passed(nbs, tmp_path):
    card = cli.reproduce("ci", only=["ok"], out=tmp_path / "r", timeout=120, seed=1000, nbs_dir=nbs, progress=False,
                         calibrate_first=False)
    p = card["papers"][0]
    assert (p["seeds"], p["seed"], p["cost"]) == ([1000, 1001, 1002], 1000, None)


def test_failure_and_timeout_do_not_stop_the_batch(nbs, tmp_path):
    before = listing(nbs)
    out = tmp_path / "reports"
    rc = cli.main(["reproduce", "--nbs", str(nbs), "--out", str(out), "--timeout", "15", "--jobs", "2", "--no-calibration",
                   "--max-memory", "1"])
    assert rc == 1
    card = json.loads((out / "scorecard.json").read_text())
    check_schema(card)
    assert card["batch"]["jobs"] == 2
    by = {p["slug"]: p for p in card["papers"]}
    assert by["ok"]["status"] == "ok" and by["ok"]["verdict"] == "holds"
    assert by["fail"]["status"] == "failed" and "deliberate failure" in by["fail"]["error"]
    assert by["fail"]["verdict"] is None and by["fail"]["figures"] == []
    assert by["hang"]["status"] == "timeout"
    # a kernel that dies, and one that fills memory past --max-memory, are reported; the batch goes on
    assert by["crash"]["status"] == "failed" and "the kernel died" in by["crash"]["error"]
    assert by["memhog"]["status"] == "memory" and "limit 1.00 GB" in by["memhog"]["error"]
    # everything the timed-out notebook started is gone: its kernel and the child it detached into a session of its own
    kernel, child = map(int, (out / "ci" / "hang" / "pids.txt").read_text().split())
    assert not alive(kernel) and not alive(child)
    assert by["hang"]["killed_processes"] >= 2
    assert listing(nbs) == before


def test_no_stale_figures_for_a_failed_run(nbs, tmp_path):
    out = tmp_path / "reports"
    stale = out / "ci" / "fail" / "old.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an earlier run's figure")
    card = cli.reproduce("ci", only=["fail"], out=out, timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    assert card["papers"][0]["figures"] == [] and not stale.exists()


def test_only_merges_into_the_scorecard(nbs, tmp_path):
    out = tmp_path / "reports"
    cli.reproduce("ci", only=["ok"], out=out, timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False, seed=7)
    card = cli.reproduce("ci", only=["fail"], out=out, timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    by = {p["slug"]: p for p in card["papers"]}
    assert {s: p["status"] for s, p in by.items()} == {"ok": "ok", "fail": "failed"}
    assert (by["ok"]["seed"], by["fail"]["seed"]) == (7, 0), "merged entries keep the seed of their own run"


def test_a_notebook_that_writes_into_nbs_fails(nbs, tmp_path):
    nb = json.loads((nbs / "ok.ipynb").read_text())
    nb["cells"][-1]["source"] = [f"open({str(nbs / 'written.txt')!r}, 'w').write('x')\n"] + nb["cells"][-1]["source"]
    (nbs / "writer.ipynb").write_text(json.dumps(nb))
    card = cli.reproduce("ci", only=["writer"], out=tmp_path / "r", timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    (p,) = card["papers"]
    assert p["status"] == "failed" and "written.txt" in p["error"] and card["nbs_unchanged"] is False


def test_bad_arguments(nbs, tmp_path, capsys):
    with pytest.raises(ValueError, match="`scale`: expected one of"):
        cli.reproduce("huge", nbs_dir=nbs)
    with pytest.raises(ValueError, match="`only`: expected slugs"):
        cli.reproduce("ci", only=["nope"], nbs_dir=nbs)
    with pytest.raises(ValueError, match="`timeout`"):
        cli.reproduce("ci", timeout=0, nbs_dir=nbs)
    with pytest.raises(ValueError, match="`jobs`"):
        cli.reproduce("ci", jobs=0, nbs_dir=nbs)
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--nbs", str(nbs), "--only", "nope"])
    assert "`only`" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "distillnb"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "reproduce" in r.stdout


def test_table_from_the_scorecard(nbs, tmp_path, capsys):
    out = tmp_path / "r"
    cli.reproduce("ci", only=["ok"], out=out, timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    assert cli.main(["table", "--out", str(out)]) == 0
    t = capsys.readouterr().out
    assert "| [ok](nbs/papers/ok.ipynb) | the method scores higher | **holds** (better): score method vs baseline, 1 [1, 1] |" in t
    assert "the mechanism adds to the control | **holds** (better): score method vs control, 0.5 [0.5, 0.5] | 0.1 | 3 | 3 |" in t


def test_resume_skips_what_is_done(nbs, tmp_path):
    out = tmp_path / "r"
    kw = dict(out=out, timeout=120, nbs_dir=nbs, progress=False, calibrate_first=False)
    first = cli.reproduce("ci", only=["ok"], **kw)["papers"][0]
    res = out / "ci" / "ok" / "result.json"
    stamp = res.stat().st_mtime_ns
    again = cli.reproduce("ci", only=["ok"], resume=True, **kw)["papers"][0]
    assert again["resumed"] is True and res.stat().st_mtime_ns == stamp and again["key"] == first["key"]
    other_seed = cli.reproduce("ci", only=["ok"], resume=True, seed=5, **kw)["papers"][0]
    assert "resumed" not in other_seed and other_seed["seeds"] == [5, 6, 7]  # another seed: run again
    nb = nbs / "ok.ipynb"
    nb.write_text(nb.read_text().replace("OK fixture", "OK fixture, edited"))
    edited = cli.reproduce("ci", only=["ok"], resume=True, seed=5, **kw)["papers"][0]
    assert "resumed" not in edited and edited["key"]["notebook_sha256"] != other_seed["key"]["notebook_sha256"]
    assert not list(out.glob(".*.tmp")), "scorecards are written through a temporary file and a rename"


def test_ctrl_c_leaves_a_valid_scorecard(nbs, tmp_path):
    import os, signal, time
    out = tmp_path / "r"
    exe = Path(sys.executable).parent / "distillnb"
    proc = subprocess.Popen([str(exe), "reproduce", "--nbs", str(nbs), "--out", str(out), "--only", "ok", "hang",
                             "--jobs", "2", "--no-calibration", "--timeout", "300"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pids = out / "ci" / "hang" / "pids.txt"
    deadline = time.time() + 120
    while not ((out / "ci" / "ok" / "result.json").exists() and pids.exists()) and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # let the ok notebook's entry be collected
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    card = json.loads((out / "scorecard.json").read_text())
    assert card["interrupted"] is True and card["not_run"] == ["hang"]
    assert {p["slug"]: p["status"] for p in card["papers"]} == {"ok": "ok"}
    kernel, child = map(int, pids.read_text().split())
    assert not alive(kernel) and not alive(child)
