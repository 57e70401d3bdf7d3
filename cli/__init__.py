"""The ``ruvopt`` command line: check, review, bench (light) and serve/worker (App)."""

from __future__ import annotations


def describe(doc: str | None) -> str | None:
    """A module docstring's first paragraph as ``--help`` shows it: reST's double
    backticks become the single ones a terminal reader expects."""
    if not doc:
        return None
    return doc.split("\n\n")[0].replace("``", "`")
