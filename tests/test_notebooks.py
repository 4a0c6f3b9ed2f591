"""Conventions every paper notebook must follow, checked without running it."""
import json
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
