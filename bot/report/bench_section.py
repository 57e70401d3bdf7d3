"""The bench's section of the sticky summary comment, between two hidden markers.

Two jobs write the one summary comment: the review (its whole body, on every push) and
the bench (its own section). The review keeps the section the bench wrote
(:func:`carry_over`), the bench replaces only its section (:func:`with_section`); both
write under the same per-PR Redis lock. String work only: no GitHub, no bench engine.
"""

from __future__ import annotations

START = "<!-- ruvopt:bench -->"
END = "<!-- /ruvopt:bench -->"


def extract(body: str) -> str | None:
    """The bench section of ``body`` (markers included), if there is one."""
    start = body.find(START)
    end = body.find(END, start)
    if start < 0 or end < 0:
        return None
    return body[start : end + len(END)]


def with_section(body: str, section: str) -> str:
    """``body`` with its bench section replaced by ``section`` (appended if it had none)."""
    old = extract(body)
    if old is not None:
        return body.replace(old, section)
    return f"{body.rstrip()}\n\n{section}\n"


def carry_over(old_body: str, new_body: str, limit: int) -> str:
    """``new_body`` (a review's summary) keeping the bench section of ``old_body``; a section
    that no longer fits under ``limit`` characters is cut to its headline."""
    section = extract(old_body)
    if section is None or extract(new_body) is not None:
        return new_body
    if len(new_body) + len(section) + 2 > limit:
        section = condensed(section)
    if len(new_body) + len(section) + 2 > limit:
        return new_body
    return with_section(new_body, section)


def condensed(section: str) -> str:
    """The section's heading and headline only, pointing at the check run for the rest."""
    lines = [line for line in section.split("\n") if line.strip()][:3]
    head = [line for line in lines if line not in (START, END)]
    return "\n".join([START, *head, "", "The full table is in the `ruvopt/bench` check run.", END])
