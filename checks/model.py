"""The data model every layer shares: findings, edits and per-crate metrics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, Protocol


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` picks the most severe."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class RuleInfo(Protocol):
    """What a finding records of the rule that made it (every rule class has these)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> Severity: ...


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace lines ``start_line..end_line`` (1-based, inclusive) of ``path``.

    Whole-line edits are what a GitHub ```suggestion block can express, so every
    mechanical fix is stated that way.
    """

    path: str
    start_line: int
    end_line: int
    replacement: str


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    rule: str
    severity: Severity
    path: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str
    fix_title: str | None = None
    suggestion: Edit | None = None
    fingerprint: str = ""
    new: bool | None = None  # None until compared with a base commit
    # The rule's anchor and its occurrence index, without the path: what the fingerprint
    # hashes together with the path, kept so diff mode can follow a renamed file.
    anchor: str = field(default="", compare=False, repr=False)

    def sort_key(self) -> tuple[int, str, int, int, str]:
        """Most severe first, then by place."""
        return (-int(self.severity), self.path, self.start_line, self.start_col, self.code)

    def with_new(self, new: bool) -> Finding:
        return self._copy(self.fingerprint, new, self.anchor)

    def with_fingerprint(self, fingerprint: str, anchor: str) -> Finding:
        """A copy with its final fingerprint."""
        return self._copy(fingerprint, self.new, anchor)

    def _copy(self, fingerprint: str, new: bool | None, anchor: str) -> Finding:
        # By hand: dataclasses.replace costs 10 µs a finding, and a warm re-review copies
        # ~10,000 of them.
        return Finding(
            self.code,
            self.rule,
            self.severity,
            self.path,
            self.start_line,
            self.start_col,
            self.end_line,
            self.end_col,
            self.message,
            self.fix_title,
            self.suggestion,
            fingerprint,
            new,
            anchor,
        )

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: asdict deep-copies every field, and the caches
        # serialise tens of thousands of findings on a warm re-review.
        data = {name: getattr(self, name) for name in FINDING_FIELDS}
        data["severity"] = self.severity.label
        if self.suggestion is not None:
            s = self.suggestion
            data["suggestion"] = {
                "path": s.path,
                "start_line": s.start_line,
                "end_line": s.end_line,
                "replacement": s.replacement,
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        data = dict(data)
        data["severity"] = SEVERITY_BY_LABEL[data["severity"]]
        if data.get("suggestion") is not None:
            data["suggestion"] = Edit(**data["suggestion"])
        return cls(**data)

    def to_row(self) -> list[Any]:
        """The compact form the caches keep: every field in order, severity by label."""
        s = self.suggestion
        return [
            self.code,
            self.rule,
            self.severity.label,
            self.path,
            self.start_line,
            self.start_col,
            self.end_line,
            self.end_col,
            self.message,
            self.fix_title,
            None if s is None else [s.path, s.start_line, s.end_line, s.replacement],
            self.fingerprint,
            self.new,
            self.anchor,
        ]

    @classmethod
    def from_row(cls, row: list[Any]) -> Finding:
        (
            code,
            rule,
            severity,
            path,
            start_line,
            start_col,
            end_line,
            end_col,
            message,
            fix_title,
            suggestion,
            fingerprint,
            new,
            anchor,
        ) = row
        return cls(
            code,
            rule,
            SEVERITY_BY_LABEL[severity],
            path,
            start_line,
            start_col,
            end_line,
            end_col,
            message,
            fix_title,
            None if suggestion is None else Edit(*suggestion),
            fingerprint,
            new,
            anchor,
        )


FINDING_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Finding))
SEVERITY_BY_LABEL: dict[str, Severity] = {s.label: s for s in Severity}


# Metric names are part of the JSON contract: never rename one.
METRIC_NAMES: tuple[str, ...] = (
    "root_lines",
    "pub_use_statements",
    "pub_use_names",
    "crate_allow_attributes",
    "crate_allow_lints",
    "unsafe_blocks",
    "unsafe_blocks_documented",
    "unsafe_impls",
    "unsafe_impls_documented",
    "unsafe_fns",
    "unsafe_fns_with_safety_doc",
    "rs_files",
    "rs_lines",
    "max_file_lines",
    "files_over_limit",
    "default_features",
    "optional_dependencies",
    "heavy_default_dependencies",
)

# Metrics that only add up across files (the rest come from the crate root or manifest).
FILE_SUMMED_METRICS: tuple[str, ...] = (
    "unsafe_blocks",
    "unsafe_blocks_documented",
    "unsafe_impls",
    "unsafe_impls_documented",
    "unsafe_fns",
    "unsafe_fns_with_safety_doc",
)


@dataclass(slots=True)
class Metrics:
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in METRIC_NAMES:
            raise KeyError(f"unknown metric {name!r}")
        self.values[name] = value

    def to_dict(self) -> dict[str, Any]:
        return {name: self.values[name] for name in METRIC_NAMES if name in self.values}


@dataclass(slots=True)
class CrateReport:
    name: str
    path: str  # crate directory relative to the analysed root, "." for the root
    root: str | None  # crate root file (lib.rs / main.rs) relative to the analysed root
    metrics: Metrics
    base_metrics: Metrics | None = None


@dataclass(slots=True)
class Notice:
    """Something the report must mention that is not a rule finding (skipped files…)."""

    path: str
    message: str


@dataclass(slots=True)
class Report:
    crates: list[CrateReport]
    findings: list[Finding]
    notices: list[Notice] = field(default_factory=list)
    base_ref: str | None = None
    head_ref: str | None = None

    def to_cache(self) -> dict[str, Any]:
        """A JSON-able form for the per-commit report cache (not the public JSON contract)."""
        return {
            "crates": [[c.name, c.path, c.root, c.metrics.to_dict()] for c in self.crates],
            "findings": [f.to_row() for f in self.findings],
            "notices": [[n.path, n.message] for n in self.notices],
        }

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> Report:
        return cls(
            [CrateReport(name, path, root, Metrics(dict(metrics))) for name, path, root, metrics in data["crates"]],
            [Finding.from_row(f) for f in data["findings"]],
            [Notice(path, message) for path, message in data["notices"]],
        )
