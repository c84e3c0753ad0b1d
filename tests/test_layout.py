"""The shape of the code: small modules, no import cycles, runtime code that never imports
training code."""

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("stance", "training")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `path` imports, at any depth (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n in modules}
    return found


def test_no_module_is_over_300_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


def test_there_is_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}

    def visit(node: str, path: list[str]) -> list[str] | None:
        for dep in graph[node]:
            if dep in path:
                return path[path.index(dep):] + [dep]
            if (cycle := visit(dep, path + [dep])) is not None:
                return cycle
        return None

    for start in graph:
        assert visit(start, [start]) is None, f"import cycle starting at {start}"


def test_runtime_code_never_imports_training_code():
    modules = _modules()
    offenders = {name: sorted(d for d in _imports(path, modules) if d.startswith("training"))
                 for name, path in modules.items() if name.startswith("stance")}
    assert {k: v for k, v in offenders.items() if v} == {}
