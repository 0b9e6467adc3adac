"""The imports point one way: no module imports itself back through others, and the leaves
(vocab/, imports/, geo/) import nothing of server/ (the contracts in pyproject.toml)."""

from __future__ import annotations

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
