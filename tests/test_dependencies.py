"""docs/dependencies.md, pyproject.toml and the code's imports say the same thing."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"The CLI": "runtime", "The App": "app", "Tests": "test"}
LIGHT = (
    "checks",
    "cli/check.py",
    "cli/review.py",
    "cli/action.py",
    "cli/clone.py",
    "cli/bench.py",
    "cli/main.py",
    "bot/report",
    "bot/bench",
    "bot/git/mirror.py",
)


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    lists = {"runtime": project["dependencies"], "app": extras["app"], "test": extras["test"]}
    return {kind: {_name(r) for r in reqs if not r.startswith("ruvopt")} for kind, reqs in lists.items()}


def documented() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in SECTIONS.values()}
    kind = None
    for line in (ROOT / "docs" / "dependencies.md").read_text().splitlines():
        if line.startswith("## "):
            kind = next((k for title, k in SECTIONS.items() if line[3:].startswith(title)), None)
        elif kind and line.startswith("| ") and not line.startswith(("| package", "|---")):
            cell = line.split("|")[1]
            if "not a pip dependency" in cell:
                continue
            found[kind] |= {_name(n.strip()) for n in cell.split(",")}
    return found


def imported_distributions(paths: list[Path]) -> set[str]:
    modules: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"ruvopt", "__future__"}
    owners = packages_distributions()
    return {_name(dist) for module in third_party for dist in owners.get(module, [module])}  # PEP 503 names


def _py(*where: str) -> list[Path]:
    out: list[Path] = []
    for item in where:
        path = ROOT / item
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return out


def test_each_list_in_pyproject_is_the_table_in_the_docs() -> None:
    assert documented() == declared()


def test_the_light_install_declares_what_the_engine_and_cli_import() -> None:
    assert imported_distributions(_py(*LIGHT)) <= declared()["runtime"]


def test_every_runtime_import_is_declared_and_every_declared_package_is_imported() -> None:
    deps = declared()
    used = imported_distributions(_py("checks", "bot", "cli"))
    assert used <= deps["runtime"] | deps["app"], "imported but not declared"
    assert deps["runtime"] | deps["app"] <= used, "declared but imported nowhere"
