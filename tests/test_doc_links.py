"""Every relative link in the README and docs/ points at a file (or folder) that exists,
so the guides the README promises (install, self-hosting, Kubernetes, observability,
security) cannot silently go missing or move."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # absolute URLs and in-page anchors
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{page.name} links to missing files: {broken}"


def test_the_readme_links_the_five_operator_guides():
    readme = (ROOT / "README.md").read_text()
    for guide in ("install", "self-hosting", "kubernetes", "observability", "security"):
        assert f"(docs/{guide}.md)" in readme
