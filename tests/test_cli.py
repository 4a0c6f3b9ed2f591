"""The batch runner and the console script, on fixture notebooks (ok, failing, hanging)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from distillnb import cli
from distillnb.catalog import PAPERS

FIX = Path(__file__).parent / "fixtures"
ENTRY_KEYS = {"slug", "title", "notebook", "status", "wall_s", "verdict", "claim", "metrics", "seeds", "error"}


@pytest.fixture
def nbs(tmp_path):
    "A copy of the fixture notebooks, so that a test can check nothing is written beside them."
    d = tmp_path / "nbs"
    shutil.copytree(FIX, d)
    return d


def listing(d):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def check_schema(card, scale="ci"):
    assert set(card) >= {"scale", "created", "commit", "papers"}
    assert card["scale"] == scale
    for p in card["papers"]:
        assert ENTRY_KEYS <= set(p), sorted(ENTRY_KEYS - set(p))
        assert p["status"] in ("ok", "failed", "timeout")
        assert p["verdict"] in ("holds", "does not hold", "inconclusive", None)
        assert isinstance(p["wall_s"], (int, float))


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
    assert (p["slug"], p["status"], p["verdict"], p["seeds"], p["error"]) == ("ok", "ok", "holds", [0, 1, 2], None)
    assert p["metrics"]["claims"]["score"]["diff_mean"] == pytest.approx(1.0)
    rep = tmp_path / "reports"
    assert (rep / "ci" / "ok.ipynb").exists() and (rep / "ci" / "ok" / "scores.png").exists()
    assert p["figures"] == ["ci/ok/scores.png"]
    on_disk = json.loads((rep / "scorecard.json").read_text())
    check_schema(on_disk)
    md = (rep / "scorecard.md").read_text()
    assert "| [ok](ci/ok.ipynb) | ok | holds | the method scores higher | 3 |" in md
    assert "![ok: scores](ci/ok/scores.png)" in md
    assert listing(nbs) == before, "the run wrote into the notebooks' folder"


def test_seed_is_passed(nbs, tmp_path):
    card = cli.reproduce("ci", only=["ok"], out=tmp_path / "r", timeout=120, seed=1000, nbs_dir=nbs, progress=False)
    assert card["papers"][0]["seeds"] == [1000, 1001, 1002]


def test_failure_and_timeout_do_not_stop_the_batch(nbs, tmp_path):
    before = listing(nbs)
    out = tmp_path / "reports"
    rc = cli.main(["reproduce", "--nbs", str(nbs), "--out", str(out), "--timeout", "12"])
    assert rc == 1
    card = json.loads((out / "scorecard.json").read_text())
    check_schema(card)
    by = {p["slug"]: p for p in card["papers"]}
    assert by["ok"]["status"] == "ok" and by["ok"]["verdict"] == "holds"
    assert by["fail"]["status"] == "failed" and "deliberate failure" in by["fail"]["error"]
    assert by["fail"]["verdict"] is None
    assert by["hang"]["status"] == "timeout" and by["hang"]["wall_s"] < 60
    assert listing(nbs) == before


def test_only_merges_into_the_scorecard(nbs, tmp_path):
    out = tmp_path / "reports"
    cli.reproduce("ci", only=["ok"], out=out, timeout=120, nbs_dir=nbs, progress=False)
    card = cli.reproduce("ci", only=["fail"], out=out, timeout=120, nbs_dir=nbs, progress=False)
    assert {p["slug"]: p["status"] for p in card["papers"]} == {"ok": "ok", "fail": "failed"}


def test_bad_arguments(nbs, tmp_path, capsys):
    with pytest.raises(ValueError, match="`scale`: expected one of"):
        cli.reproduce("huge", nbs_dir=nbs)
    with pytest.raises(ValueError, match="`only`: expected slugs"):
        cli.reproduce("ci", only=["nope"], nbs_dir=nbs)
    with pytest.raises(ValueError, match="`timeout`"):
        cli.reproduce("ci", timeout=0, nbs_dir=nbs)
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--nbs", str(nbs), "--only", "nope"])
    assert "`only`" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "distillnb"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "reproduce" in r.stdout
