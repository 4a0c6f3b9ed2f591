"""The house: four floors, imports only point down; no paper imports another paper or a toolkit's private name."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).parents[1] / "distillnb"
FLOORS = {  # module -> floor (0 the toolkit, 1 the family toolkits, 2 the papers, 3 the CLI on top)
    "divergences": 0, "train": 0, "data": 0, "models": 0, "metrics": 0, "report": 0, "catalog": 0, "chunked": 0,
    "toydiff": 1, "toydiff_metrics": 1, "lm": 1, "classifier": 1, "multimodal": 1,
    "cli": 3, "docs": 3,
}


def floor(mod: str) -> int:
    if mod.startswith("papers."): return 2
    if mod not in FLOORS: raise AssertionError(f"distillnb.{mod} has no floor: add it to FLOORS (and to the README's map)")
    return FLOORS[mod]


def imports(path: Path):
    "(module imported, names imported) of every intra-package import in `path`."
    tree = ast.parse(path.read_text())
    me = path.relative_to(PKG).with_suffix("").as_posix().replace("/", ".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = me.split(".")[:-node.level]
                mod = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("distillnb."):
                mod = node.module.removeprefix("distillnb.")
            else:
                continue
            yield mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("distillnb."): yield a.name.removeprefix("distillnb."), []


MODULES = sorted(p for p in PKG.rglob("*.py") if p.name not in ("__init__.py", "_modidx.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PKG).as_posix())
def test_imports_point_down(path):
    me = path.relative_to(PKG).with_suffix("").as_posix().replace("/", ".")
    for mod, names in imports(path):
        if mod == "": continue
        assert floor(mod) <= floor(me), f"distillnb.{me} (floor {floor(me)}) imports distillnb.{mod} (floor {floor(mod)})"
        if me.startswith("papers."):
            assert not mod.startswith("papers."), f"distillnb.{me} imports another paper, distillnb.{mod}"
            private = [n for n in names if n.startswith("_")]
            assert not private, f"distillnb.{me} imports private names {private} from distillnb.{mod}: make them public there"


def test_the_rule_can_fail(tmp_path):
    bad = PKG / "papers" / "_probe_test_only.py"
    bad.write_text("from ..divergences import _plogratio\n")
    try:
        with pytest.raises(AssertionError, match="private names"):
            test_imports_point_down(bad)
    finally:
        bad.unlink()
