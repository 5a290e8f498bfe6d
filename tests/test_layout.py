"""The code's layout, checked: no import cycles (counting imports inside functions), no module over 350
lines, a docstring in every package's __init__.py, at most 8 modules directly in search/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("common", "data_utils", "models", "training", "search", "serving")
MAX_LINES = 350


def project_files() -> list[Path]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    return sorted(files + list((ROOT / "bench").rglob("*.py")))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str], name: str | None = None) -> set[str]:
    """The project modules ``path`` imports, wherever the import statement is (top level or in a function)."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, the module mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_one_through_an_import_inside_a_function(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    (tmp_path / "m.py").write_text("def f():\n    from pkg import other\n")
    assert imports(tmp_path / "m.py", {"pkg", "pkg.other"}, name="m") == {"pkg.other"}


def test_no_import_cycles():
    files = project_files()
    modules = {module_name(p) for p in files}
    graph = {module_name(p): imports(p, modules) for p in files}
    # A package's __init__ importing its own modules is how a package offers them, not a cycle.
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    assert find_cycle(graph) is None


@pytest.mark.parametrize("path", project_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_size(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_package_has_a_docstring():
    inits = [ROOT / pkg / "__init__.py" for pkg in PACKAGES]
    inits += [d / "__init__.py" for pkg in PACKAGES for d in (ROOT / pkg).rglob("*") if d.is_dir() and d.name != "__pycache__"]
    inits += [
        d / "__init__.py" for d in [ROOT / "tests", *(ROOT / "tests").rglob("*")] if d.is_dir() and any(d.glob("test_*.py"))
    ]
    missing = [str(p.relative_to(ROOT)) for p in inits if not p.is_file() or not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing


def test_search_holds_at_most_8_modules_directly():
    assert len(list((ROOT / "search").glob("*.py"))) <= 8


def test_no_product_module_imports_test_code():
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p) for p in project_files()} | {"tests", "tests.faults", "tests.helpers"}
    assert not {str(p.relative_to(ROOT)): t for p in files for t in imports(p, modules) if t.startswith("tests")}


def test_fault_injection_is_installed_through_the_epoch_hooks(monkeypatch):
    from search.runtime import epoch_hooks
    from tests import faults

    monkeypatch.setattr(epoch_hooks, "EPOCH_HOOKS", [])
    faults.install()
    faults.install()
    assert epoch_hooks.EPOCH_HOOKS == [faults.maybe_fail]
