"""The code's layout, checked: no import cycles (counting imports inside functions), no module over 350
lines, a docstring in every package's __init__.py, at most 8 modules directly in search/, no test code imported
by the product and no test file imported at all, and no module or file named in prose (docstrings, comments, the
README) that does not exist."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import re
import tokenize
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


def test_no_module_imports_a_test_file():
    """Shared test code lives in tests/helpers.py: a test file is imported by no test, no bench script."""
    files = project_files() + sorted((ROOT / "tests").rglob("*.py"))
    modules = {module_name(p) for p in files}
    test_files = {m for m in modules if m.rpartition(".")[2].startswith("test_")}
    assert not {str(p.relative_to(ROOT)): t for p in files for t in imports(p, modules) & test_files}


def test_fault_injection_is_installed_through_the_epoch_hooks(monkeypatch):
    from search.runtime import epoch_hooks
    from tests import faults

    monkeypatch.setattr(epoch_hooks, "EPOCH_HOOKS", [])
    faults.install()
    faults.install()
    assert epoch_hooks.EPOCH_HOOKS == [faults.maybe_fail]


# A dotted module reference in prose (docstrings, comments, strings, the README), and a file path.
MODULE_REF = re.compile(r"(?<![\w.])(?:common|data_utils|models|training|search|serving)(?:\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = {"log", "json", "yaml", "md", "csv", "py", "txt", "png"}  # search.log is a file, not a module
MISSPELT = {"search.num_sample"}  # the misspelt key that the docs and tests show an error message for
PATH_REF = re.compile(r"\b(?:common|data_utils|models|training|search|serving|bench|tests|spaces)/[\w/]+\.(?:py|yaml|sh)\b")
PLACEHOLDER_PATHS = {"spaces/x.yaml", "bench/NAME.py"}  # the README's and bench/'s stand-ins for a user's file


def prose(path: Path) -> str:
    """The comments and strings of a Python file (where names go stale when code moves); a Markdown file whole."""
    if path.suffix != ".py":
        return path.read_text()
    with path.open("rb") as f:
        return "\n".join(t.string for t in tokenize.tokenize(f.readline) if t.type in (tokenize.COMMENT, tokenize.STRING))


def top_level_names(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def stale(ref: str, search_keys: set[str]) -> bool:
    """Whether ``ref`` (``a.b.c``) names neither a module nor a top-level name of one; ``search.<key>`` is a
    space file's key (``search.time_budget_s``), not a module."""
    parts = ref.split(".")
    if ref in MISSPELT or parts[-1] in FILE_SUFFIXES or (parts[0] == "search" and parts[1] in search_keys):
        return False
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            return i < len(parts) and parts[i] not in top_level_names(module)
    return True


def test_prose_names_modules_and_files_that_exist():
    from search.space.spec import SearchSection

    search_keys = {f.name for f in dataclasses.fields(SearchSection)} | {n for n in dir(SearchSection) if not n.startswith("_")}
    texts = {p: prose(p) for p in [*project_files(), *sorted((ROOT / "tests").rglob("*.py")), ROOT / "README.md"]}
    bad = sorted(
        {
            f"{p.relative_to(ROOT)}: {ref}"
            for p, text in texts.items()
            for ref in MODULE_REF.findall(text)
            if stale(ref, search_keys)
        }
        | {
            f"{p.relative_to(ROOT)}: {ref}"
            for p, text in texts.items()
            for ref in PATH_REF.findall(text)
            if ref not in PLACEHOLDER_PATHS and not (ROOT / ref).exists()
        }
    )
    assert not bad, bad


def test_the_suites_longest_first_order_names_files_that_exist():
    from tests.conftest import LONGEST_FIRST

    assert [p for p in LONGEST_FIRST if not (ROOT / p).is_file()] == []
