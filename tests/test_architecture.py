"""The import graph: no cycles anywhere, and the layer contracts in pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ruvopt.checks", "ruvopt.bot", "ruvopt.cli")


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm: every group of modules that import each other (size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert len(graph.modules) > 50  # the packages were found
    assert strongly_connected(graph) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_the_layer_contracts_hold() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-4000:]


def _layer_modules() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return [
        module.strip()
        for contract in config["contracts"]
        if contract["type"] == "layers"
        for layer in contract["layers"]
        for module in layer.split(":")
    ]


def test_the_architecture_page_names_every_layer_and_subpackage() -> None:
    """docs/architecture.md describes the tree as it is: each module of a layer contract
    and each sub-package folder of checks/ and bot/ is named on the page."""
    page = (ROOT / "docs/architecture.md").read_text()
    prose = re.sub(r"```.*?```", "", page, flags=re.S)  # the diagram is drawn, not quoted
    quoted = set(re.findall(r"`([^`\n]+)`", prose))
    missing = []
    for module in _layer_modules():
        short = module.removeprefix("ruvopt.").removeprefix("checks.")
        if not {short, f"{short}/", module} & quoted:
            missing.append(module)
    for folder in ("checks", "bot"):
        for package in sorted(p.parent for p in (ROOT / folder).glob("*/__init__.py")):
            if f"{package.name}/" not in page and f"`{folder}.{package.name}`" not in page:
                missing.append(f"{folder}/{package.name}/")
    assert not missing, f"docs/architecture.md does not mention: {missing}"
