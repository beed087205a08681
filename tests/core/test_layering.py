"""Data flows one way: a module never imports from a later stage of the pipeline.

profile → level → plan → cases → engine → judgments → estimates → verdicts → report. The
stages are the packages below, in order; the API, the pipeline and the CLI sit on top.
Imports inside `if TYPE_CHECKING:` blocks are annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "assay"

#: package (or top-level module) → its stage; a module may import its own stage or earlier
STAGE: dict[str, int] = {
    "core": 0,
    "_lazy": 0,
    "taxonomy": 1,
    "regimes": 2,
    "levels": 3,  # profile, level, plan
    "banks": 4,  # cases
    "transforms": 5,
    "targets": 6,
    "agents": 6,
    "engine": 7,
    "attacks": 7,
    "graders": 8,  # judgments
    "scoring": 9,  # estimates, verdicts
    "store": 10,
    "report": 11,
    "evidence": 12,
    "labels": 12,
    "view": 13,
    "testing": 14,
    "_pipeline": 15,
    "api": 16,
    "cli": 17,
    "__main__": 18,
}


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every `assay.*` import outside `if TYPE_CHECKING:` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "assay":
            if node.module == "assay":
                found += [(node.lineno, f"assay.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "assay"]
    return found


def _lazy_targets(tree: ast.AST) -> list[tuple[int, str]]:
    """`lazy_module("assay.x")` stand-ins import too, only later."""
    return [
        (node.lineno, node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "lazy_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]


def test_every_package_has_a_stage() -> None:
    names = {p.name.removesuffix(".py") for p in SRC.iterdir() if p.name != "__init__.py"}
    names -= {"__pycache__"}
    assert names <= set(STAGE), f"give these a stage: {sorted(names - set(STAGE))}"


def test_no_module_imports_a_later_stage() -> None:
    backwards: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        own = path.relative_to(SRC).parts[0].removesuffix(".py")
        if own == "__init__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, module in _imports(tree) + _lazy_targets(tree):
            parts = module.split(".")
            if len(parts) < 2 or parts[1] not in STAGE:
                continue
            if STAGE[parts[1]] > STAGE[own]:
                backwards.append(f"{path.relative_to(SRC.parent)}:{line} imports {module}")
    assert not backwards, "imports from a later stage:\n" + "\n".join(backwards)


def test_the_check_sees_a_backward_import() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from assay.report import model\n"
        "def f():\n    from assay.scoring import decide\n"
    )
    assert [m for _, m in _imports(tree)] == ["assay.scoring"]


def test_tests_mirror_the_source_folders() -> None:
    """Every test lives in a folder named after the part of `src/assay` it tests (or
    `acceptance` for whole-process tests); shared helpers stay at the top of tests/."""
    tests = Path(__file__).resolve().parents[1]
    packages = {p.name for p in (tests.parent / "src" / "assay").iterdir() if (p / "__init__.py").exists()}
    assert not sorted(tests.glob("test_*.py")), "put each test file in the folder of what it tests"
    folders = {p.parent.name for p in tests.glob("*/test_*.py")}
    assert folders - {"acceptance"} <= packages, f"not a src/assay package: {sorted(folders - packages)}"
