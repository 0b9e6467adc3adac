"""The imports point one way: no module imports itself back through others, and the leaves
(vocab/, imports/, geo/) import nothing of server/ (the contracts in pyproject.toml). Tests share
code only through tests/helpers/ and tests/conftest.py."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "geo", "imports", "vocab", "seed")


def test_the_leaf_packages_import_nothing_of_server() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == EXIT_STATUS_SUCCESS


def test_no_module_imports_itself_back() -> None:
    """Also imports inside functions: a cycle hidden in a function is still a cycle."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    assert len(graph.modules) > 100
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.add(" → ".join((importer, *back)))
    assert sorted(cycles) == []


def _test_imports_that_reach_into_other_modules(path: Path) -> list[str]:
    """The imports of `path` that take a test module, or a private name of any module under tests/."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                found.append(f"from {'.' * node.level}{module} import … (use tests.helpers)")
            elif module == "tests" or module.startswith("tests."):
                if any(part.startswith("test_") for part in module.split(".")):
                    found.append(f"from {module} import …")
                found += [
                    f"from {module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") or (module == "tests" and a.name.startswith("test_"))
                ]
        elif isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.startswith("tests.") and any(p.startswith("test_") for p in a.name.split("."))
            ]
    return found


def test_test_modules_share_code_only_through_the_helpers() -> None:
    tests = sorted((ROOT / "tests").rglob("*.py"))
    assert len(tests) > 40
    offending = {
        str(p.relative_to(ROOT)): found for p in tests if (found := _test_imports_that_reach_into_other_modules(p))
    }
    assert offending == {}


def test_the_helper_check_would_see_a_test_module_import(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "from tests.registry.test_disclosure import EXPECTED\n"
        "from tests.conftest import _private\n"
        "from .helpers import world\n"
        "import tests.core.test_settings\n"
        "from tests.helpers.world import World\n",
        encoding="utf-8",
    )
    assert _test_imports_that_reach_into_other_modules(probe) == [
        "from tests.registry.test_disclosure import …",
        "from tests.conftest import _private",
        "from .helpers import … (use tests.helpers)",
        "import tests.core.test_settings",
    ]
