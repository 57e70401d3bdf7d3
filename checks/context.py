"""What a rule sees: one file (``FileContext``) or one crate (``CrateContext``).

Everything expensive is computed once and cached on the context: the decoded text, the
line list, the parse tree and the nodes of each kind (one query run for all rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import tree_sitter

from ruvopt.checks.model import Edit, Finding, RuleInfo
from ruvopt.checks.syntax import parse

if TYPE_CHECKING:
    from ruvopt.checks.config import Config
    from ruvopt.checks.manifest.workspace import Crate, Manifest, Workspace


# A run of whitespace between two word characters (`mut self`, `pub fn`): it matters.
_NEEDED_SPACE = re.compile(r"(?<=\w)\s+(?=\w)")


def normalise(text: str) -> str:
    """Whitespace-normalised text: the part of a fingerprint that survives reformatting.

    Whitespace between two word characters becomes one space and all other whitespace
    goes, so re-indenting and re-wrapping (`x.iter()` vs `x\n    .iter()`) agree.
    """
    marked = _NEEDED_SPACE.sub("\0", text)  # a NUL already in the text also ends as a space: still stable
    return "".join(marked.split()).replace("\0", " ")


# Fingerprints use the start of a node's text only: nested findings (10,000 nested
# `Box::new(…)`) would otherwise normalise quadratic amounts of text.
ANCHOR_CHARS = 1024
ANCHOR_BYTES = 4 * ANCHOR_CHARS  # raw text read for one anchor (whitespace shrinks it)


def anchor(kind: str, text: str) -> str:
    """The provisional fingerprint a rule attaches; the engine adds path and occurrence."""
    return f"{kind}\0{normalise(text[:ANCHOR_BYTES])[:ANCHOR_CHARS]}"


@dataclass(eq=False)
class FileContext:
    path: str
    data: bytes
    config: Config
    wanted_kinds: frozenset[str] = frozenset()
    # (kind, qualifier, name, why) of calls benches make into this file: set only for the
    # engine's second pass over such files (``ruvopt.checks.hot.benches``).
    bench_hot: tuple[tuple[str, str, str, str], ...] = ()

    @cached_property
    def text(self) -> str:
        # Invalid UTF-8 is replaced, never fatal: the file is still counted and checked.
        return self.data.decode("utf-8", errors="replace")

    @cached_property
    def lines(self) -> list[str]:
        """Source lines without their newline; ``lines[i]`` is line ``i + 1``."""
        return self.text.split("\n")

    @cached_property
    def line_count(self) -> int:
        """What ``wc -l`` prints: the number of newline bytes."""
        return self.data.count(b"\n")

    @cached_property
    def tree(self) -> tree_sitter.Tree:
        return parse.parse(self.data)

    @cached_property
    def _nodes(self) -> dict[str, list[tree_sitter.Node]]:
        return parse.collect(self.tree, self.wanted_kinds)

    def nodes(self, kind: str) -> list[tree_sitter.Node]:
        if kind not in self.wanted_kinds:
            raise KeyError(f"node kind {kind!r} was not declared in a rule's node_kinds")
        return self._nodes[kind]

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def line(self, number: int) -> str:
        """1-based line, '' past the end."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def report(
        self,
        rule: RuleInfo,
        node: tree_sitter.Node,
        message: str,
        *,
        fix_title: str | None = None,
        suggestion: Edit | None = None,
        anchor_node: tree_sitter.Node | None = None,
    ) -> Finding:
        """A finding spanning ``node``; the fingerprint anchors on ``anchor_node`` (or node)."""
        key = anchor_node or node
        return Finding(
            code=rule.code,
            rule=rule.name,
            severity=rule.severity,
            path=self.path,
            start_line=node.start_point[0] + 1,
            start_col=node.start_point[1] + 1,
            end_line=node.end_point[0] + 1,
            end_col=node.end_point[1] + 1,
            message=message,
            fix_title=fix_title,
            suggestion=suggestion,
            fingerprint=anchor(key.type, self._anchor_text(key)),
        )

    def _anchor_text(self, node: tree_sitter.Node) -> str:
        end = min(node.end_byte, node.start_byte + ANCHOR_BYTES)
        return self.data[node.start_byte : end].decode("utf-8", errors="replace")

    def report_line(
        self,
        rule: RuleInfo,
        line: int,
        message: str,
        *,
        key: str,
        fix_title: str | None = None,
        suggestion: Edit | None = None,
    ) -> Finding:
        """A finding on a whole line (file-level facts such as length)."""
        return Finding(
            code=rule.code,
            rule=rule.name,
            severity=rule.severity,
            path=self.path,
            start_line=line,
            start_col=1,
            end_line=line,
            end_col=len(self.line(line)) + 1,
            message=message,
            fix_title=fix_title,
            suggestion=suggestion,
            fingerprint=anchor("file", key),
        )


@dataclass(eq=False)
class CrateContext:
    crate: Crate
    workspace: Workspace
    config: Config
    files: dict[str, FileContext] = field(default_factory=dict)  # crate roots, parsed on demand
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> path -> facts
    wanted_kinds: frozenset[str] = frozenset()  # node kinds the files read on demand collect

    @property
    def manifest(self) -> Manifest:
        return self.crate.manifest

    def file(self, path: str) -> FileContext | None:
        """A crate file's context (read on demand; roots are the usual callers)."""
        if path not in self.files:
            if not self.workspace.tree.exists(path):
                return None
            self.files[path] = FileContext(path, self.workspace.tree.read(path), self.config, self.wanted_kinds)
        return self.files[path]

    @property
    def root_file(self) -> FileContext | None:
        return self.file(self.crate.root) if self.crate.root else None

    def checkable_roots(self) -> Iterator[FileContext]:
        """Every crate root (library and binaries) that root-level rules can check."""
        for root in self.crate.roots:
            file = self.file(root)
            # A root listed in the manifest but absent from the tree: RO001's business.
            if file is None:
                continue
            # Over `max-file-bytes`: not checked by any rule; the report carries a notice.
            if len(file.data) > self.config.max_file_bytes:
                continue
            yield file

    def report_manifest(
        self,
        rule: RuleInfo,
        line: int,
        message: str,
        *,
        key: str,
        fix_title: str | None = None,
        suggestion: Edit | None = None,
        manifest: Manifest | None = None,
    ) -> Finding:
        """A finding on a line of this crate's manifest; ``key`` (a TOML key path) anchors it."""
        return manifest_finding(
            rule, manifest or self.manifest, line, message, key=key, fix_title=fix_title, suggestion=suggestion
        )


@dataclass(eq=False)
class WorkspaceContext:
    workspace: Workspace
    config: Config
    crates: list[Crate]  # the selected crates

    @property
    def root_manifest(self) -> Manifest | None:
        return self.workspace.root_manifest

    def report_manifest(
        self,
        rule: RuleInfo,
        manifest: Manifest,
        line: int,
        message: str,
        *,
        key: str,
        fix_title: str | None = None,
        suggestion: Edit | None = None,
    ) -> Finding:
        return manifest_finding(rule, manifest, line, message, key=key, fix_title=fix_title, suggestion=suggestion)


def manifest_finding(
    rule: RuleInfo,
    manifest: Manifest,
    line: int,
    message: str,
    *,
    key: str,
    fix_title: str | None = None,
    suggestion: Edit | None = None,
) -> Finding:
    """A finding on one manifest line; ``key`` (a TOML key path) anchors the fingerprint."""
    text = manifest.text.split("\n")
    width = len(text[line - 1]) if 0 < line <= len(text) else 0
    return Finding(
        code=rule.code,
        rule=rule.name,
        severity=rule.severity,
        path=manifest.path,
        start_line=line,
        start_col=1,
        end_line=line,
        end_col=width + 1,
        message=message,
        fix_title=fix_title,
        suggestion=suggestion,
        fingerprint=anchor("toml", key),
    )
