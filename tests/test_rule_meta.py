"""The rule catalogue's own invariants: unique codes, code ↔ file name, doc sections,
a fixture per rule, and generated docs that are up to date."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ruvopt.checks.registry import all_rules
from ruvopt.checks.render import docs

RULES = all_rules()
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
REQUIRED_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "Use instead:")


def test_codes_are_unique() -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))


def test_names_are_unique_and_kebab_case() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_file_name_matches_code_and_name(rule: type) -> None:
    module = Path(sys.modules[rule.__module__].__file__ or "").stem
    assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}"
    assert rule.__name__ == "".join(part.capitalize() for part in rule.name.split("-"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docstring_has_every_section(rule: type) -> None:
    doc = rule.__doc__ or ""
    missing = [s for s in REQUIRED_SECTIONS if s not in doc]
    assert missing == []
    if rule.options:
        assert "## Options" in doc
        for option in rule.options:
            assert f"`{option}`" in doc, f"option {option} is not documented"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_a_fixture_and_snapshot(rule: type) -> None:
    assert (FIXTURES / rule.code / "crate" / "Cargo.toml").is_file()
    assert (FIXTURES / rule.code / "snapshot.txt").is_file()


def test_generated_rule_docs_are_current() -> None:
    stale = [path for path, text in docs.render_all().items() if not path.exists() or path.read_text() != text]
    assert stale == [], "run `make docs` to regenerate"
