"""Generates ``docs/rules/<CODE>.md`` (and an index) from the rule docstrings.

Run ``python -m checks.docs``; a test fails when the committed pages are stale.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from checks.base import Rule
from checks.registry import all_rules

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "rules"
HELP_URI = "https://github.com/ruvopt/ruvopt/blob/main/docs/rules/{code}.md"


def help_uri(code: str) -> str:
    return HELP_URI.format(code=code)


def rule_markdown(rule: type[Rule]) -> str:
    body = inspect.cleandoc(rule.__doc__ or "")
    lines = [
        f"# {rule.code} {rule.name}",
        "",
        f"Severity: **{rule.severity.label}** · scope: {getattr(rule, 'scope', 'file')}"
        + (f" · checklist item {rule.checklist_item}" if rule.checklist_item else ""),
        "",
        body,
        "",
    ]
    if rule.options:
        lines += ["Configuration (defaults shown):", "", "```toml", f"[rules.{rule.code}]"]
        lines += [f"{name} = {json.dumps(value)}" for name, value in rule.options.items()]
        lines += ["```", ""]
    lines += [
        f"Silence one finding with `// ruvopt: allow({rule.code}) <reason>` on its line or the line above;",
        f'turn the rule off with `ignore = ["{rule.code}"]` in `ruvopt.toml`.',
        "",
    ]
    return "\n".join(lines)


def index_markdown(rules: tuple[type[Rule], ...]) -> str:
    lines = ["# Rules", "", "Generated from the rule docstrings by `python -m checks.docs`.", "",
             "| code | name | severity | checklist item |", "|---|---|---|---|"]
    for rule in rules:
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity.label} | {rule.checklist_item} |")
    return "\n".join(lines) + "\n"


def render_all() -> dict[Path, str]:
    rules = all_rules()
    pages = {DOCS_DIR / f"{rule.code}.md": rule_markdown(rule) for rule in rules}
    pages[DOCS_DIR / "README.md"] = index_markdown(rules)
    return pages


def main() -> None:
    DOCS_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in render_all().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(DOCS_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
