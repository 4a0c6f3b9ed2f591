"""Conventions every paper notebook must follow, checked without running it."""
import json
import re
from pathlib import Path

import papermill as pm
import pytest

from distillnb.catalog import PAPERS, get_paper

NBS = Path(__file__).parents[1] / "nbs" / "papers"
PAPER_NBS = sorted(NBS.glob("*.ipynb"))


def test_every_notebook_is_in_the_catalogue():
    slugs = {p.slug for p in PAPERS}
    assert PAPER_NBS, "no paper notebook found"
    for p in PAPER_NBS:
        assert p.stem in slugs, f"{p.name} is not in distillnb.catalog.PAPERS"


@pytest.mark.parametrize("path", PAPER_NBS, ids=lambda p: p.stem)
def test_parameters_cell(path, caplog):
    "Papermill parses the parameters cell (no warning) and finds the four shared parameters with their defaults."
    params = pm.inspect_notebook(str(path))
    bad = [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    assert not bad, f"papermill cannot parse the parameters cell (avoid '=' and quotes in comments): {bad}"
    assert {"scale", "seed", "device", "out_dir"} <= set(params)
    assert params["scale"]["default"] == '"ci"' and params["out_dir"]["default"] == '""'
    assert params["seed"]["default"] == "0" and params["device"]["default"] == '"auto"'


@pytest.mark.parametrize("path", PAPER_NBS, ids=lambda p: p.stem)
def test_exports_its_module_and_records(path):
    nb = json.loads(path.read_text())
    src = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    module = get_paper(path.stem).module.removeprefix("distillnb.")
    assert any(s.strip() == f"#| default_exp {module}" for s in src), f"expected '#| default_exp {module}'"
    assert any("record(" in s for s in src), "the notebook must write its result with report.record(...)"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "papermill needs a python3 kernelspec"


TIME_WORD = re.compile(r"\b(wall|wall_s|cpu|cpu_s|perf_counter|process_time|time\.time|elapsed|seconds)\b")
STRINGS = re.compile(r"\"[^\"]*\"|'[^']*'")


def asserts_a_time(line):
    "An assertion that compares a time (strings such as the device name 'cpu' are not counted)."
    code = STRINGS.sub("''", line).split("#")[0]
    return any(re.match(r"\s*(if .*: *)?assert\b", st) and re.search(r"[<>]", st) and TIME_WORD.search(st)
               for st in code.split(";"))


def test_no_time_assertions():
    "Time is the batch runner's job (a cost against its calibration workload): no notebook or test asserts one."
    roots = Path(__file__).parents[1]
    found = []
    for nb in sorted((roots / "nbs").rglob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] == "code":
                found += [f"{nb.name}: {l.strip()}" for l in "".join(c["source"]).splitlines() if asserts_a_time(l)]
    for py in sorted((roots / "tests").rglob("*.py")):
        found += [f"{py.name}: {l.strip()}" for l in py.read_text().splitlines() if asserts_a_time(l)]
    assert not found, found


def test_the_time_assertion_detector():
    assert asserts_a_time('if scale == "ci": assert cpu < 60, f"ci budget exceeded: {cpu:.1f} s"')
    assert asserts_a_time("t0 = time.perf_counter(); f(); assert time.perf_counter() - t0 < 0.1")
    assert asserts_a_time("assert time.perf_counter() - t0 < 1.0")
    assert not asserts_a_time('assert get_device("cpu").type == "cpu"')
    assert not asserts_a_time("assert 0 <= x.min() and x.max() < 32")
