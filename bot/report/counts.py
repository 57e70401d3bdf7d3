"""The numbers the check run, the review and the summary all state, from one object.

Counted so they stay true across retries and later pushes: ``inline`` counts new
findings that have an inline comment on the pull request, whether it was posted by this
run or by an earlier one (a retried job posts nothing twice, and its counts must not
change because of that).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counts:
    reported: int  # findings the filter mode reports: one annotation each
    new: int  # of those, new (fingerprint absent at the merge base)
    inline: int  # new findings with an inline review comment on the PR (now or earlier)
    summary_only: int  # new findings listed only in the summary: outside the hunks or past the cap
    fixed: int  # base findings whose fingerprint is gone at head

    def __post_init__(self) -> None:
        if self.inline + self.summary_only != self.new:
            raise ValueError(f"inline {self.inline} + summary-only {self.summary_only} != new {self.new}")

    def sentence(self) -> str:
        """One line every output carries verbatim, so a reader (and a test) can compare them."""
        return (
            f"**{self.reported}** finding(s) reported, **{self.new}** new: "
            f"{self.inline} commented inline, {self.summary_only} in the summary only; {self.fixed} fixed."
        )
