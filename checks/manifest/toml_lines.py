"""Where each key of a TOML file is written: key path → (first line, last line).

The values come from a TOML reader (``tomllib``), which gives no positions; a finding on a
manifest must sit on the exact line a reviewer would change. tree-sitter-toml (the same C
runtime as the Rust grammar) parses the text with positions, and one walk over its tree
records, for every key path (``("dependencies", "tokenizers", "features", 0)`` — array
elements by index, array-of-tables entries by index too), the lines its key and value
occupy, with TOML's table semantics on top: dotted keys write their parents, ``[a.b]``
writes ``a`` implicitly (and ``[a]`` may still come later), ``[bin.x]`` belongs to the
latest ``[[bin]]`` entry, a key written twice is a duplicate.

It never raises: on broken input the grammar recovers and the walk records what it can;
``unterminated`` says where a string, array or inline table that never closes begins —
an opening token the parser had to leave inside an error node (RO001 points there).
"""

from __future__ import annotations

import contextlib
import tomllib
from dataclasses import dataclass, field
from functools import cache

import tree_sitter
import tree_sitter_toml

Key = tuple[str | int, ...]
OPENERS = {"[": "array", "{": "inline table", '"': "string", "'": "string", '"""': "string", "'''": "string"}
VALUE_SKIPPED = frozenset({"comment", "ERROR", ",", "[", "]", "{", "}", "="})


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # 1-based line of the key (or header)
    end: int  # 1-based line where the value (or table) ends


@dataclass
class TomlLines:
    text: str
    spans: dict[Key, Span] = field(default_factory=dict)
    duplicates: list[tuple[Key, int]] = field(default_factory=list)  # key defined again at line
    unterminated: int | None = None  # line where an unclosed string/array/table began
    unterminated_kind: str = ""  # "string", "array" or "inline table"

    def __post_init__(self) -> None:
        self._aot_counts: dict[Key, int] = {}
        self._implicit: set[Key] = set()  # tables only named by a deeper header so far
        root = _parser().parse(self.text.encode("utf-8", errors="surrogateescape")).root_node
        # RecursionError: nesting deeper than the stack (a TOML bomb) is broken input too;
        # what was indexed before it stays.
        with contextlib.suppress(RecursionError):
            self._document(root)
            if root.has_error:
                self._find_unclosed(root)

    # -- queries ---------------------------------------------------------------------

    def find(self, *path: str | int) -> Span | None:
        return self.spans.get(tuple(path))

    def line(self, *path: str | int) -> int:
        """Line of ``path``, else of its nearest written ancestor, else 1."""
        key: Key = tuple(path)
        while key:
            if key in self.spans:
                return self.spans[key].start
            key = key[:-1]
        return 1

    def text_line(self, number: int) -> str:
        """The text of 1-based line ``number`` ('' past the end)."""
        lines = self.text.split("\n")
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def element_line(self, path: Key, index: int) -> int:
        """Line of element ``index`` of the array at ``path`` (falls back to the key's line)."""
        return self.line(*path, index)

    # -- the walk ----------------------------------------------------------------------

    def _record(self, key: Key, start: int, end: int) -> None:
        if key in self.spans:
            self.duplicates.append((key, start))
            return
        self.spans[key] = Span(start, end)

    def _extend(self, key: Key, end: int) -> None:
        span = self.spans.get(key)
        if span is not None and end > span.end:
            self.spans[key] = Span(span.start, end)

    def _document(self, root: tree_sitter.Node) -> None:
        self._pairs(root, ())
        for node in root.named_children:
            if node.type in ("table", "table_array_element"):
                line = node.start_point[0] + 1
                key_node = node.named_children[0] if node.named_children else None
                if key_node is None or key_node.type not in ("bare_key", "quoted_key", "dotted_key"):
                    continue
                table = self._header(_key(key_node), line, array=node.type == "table_array_element")
                self._pairs(node, table)

    def _pairs(self, container: tree_sitter.Node, table: Key) -> None:
        for pair in container.named_children:
            if pair.type != "pair":
                continue
            parts, value = _pair_parts(pair)
            if not parts:
                continue
            line = pair.start_point[0] + 1
            end = self._value(table + parts, value, line)
            self._record_dotted(table, parts, line, end)
            for i in range(1, len(table) + 1):
                self._extend(table[:i], end)

    def _header(self, parts: Key, line: int, *, array: bool) -> Key:
        for i in range(1, len(parts)):  # implicit parents: `[a.b]` also writes `a`
            parent = self._resolve(parts[:i])
            if parent not in self.spans:
                self.spans[parent] = Span(line, line)
                self._implicit.add(parent)
        if array:
            index = self._aot_counts.get(parts, 0)
            self._aot_counts[parts] = index + 1
            self.spans.setdefault(parts, Span(line, line))
            table: Key = (*parts, index)
        else:
            table = self._resolve(parts)
        if table in self._implicit:  # `[a.b]` then `[a]` is valid TOML, not a duplicate
            self._implicit.discard(table)
            self.spans[table] = Span(line, line)
        else:
            self._record(table, line, line)
        return table

    def _resolve(self, parts: Key) -> Key:
        """``[[bin]]`` then ``[bin.x]``: the sub-table belongs to the latest array entry."""
        resolved: Key = ()
        for part in parts:
            resolved = (*resolved, part)
            count = self._aot_counts.get(resolved)
            if count:
                resolved = (*resolved, count - 1)
        return resolved

    def _record_dotted(self, table: Key, parts: Key, line: int, end: int) -> None:
        for i in range(1, len(parts)):  # `a.b = 1` also writes `a`
            prefix = table + parts[:i]
            self.spans.setdefault(prefix, Span(line, end))
            self._extend(prefix, end)
        self._record(table + parts, line, end)

    def _value(self, path: Key, value: tree_sitter.Node | None, line: int) -> int:
        """Record the keys and elements inside one value; return the line it ends on."""
        if value is None:
            return line
        if value.type == "array":
            index = 0
            for element in value.named_children:
                if element.type in VALUE_SKIPPED:
                    continue
                start = element.start_point[0] + 1
                self.spans[(*path, index)] = Span(start, self._value((*path, index), element, start))
                index += 1
        elif value.type == "inline_table":
            for pair in value.named_children:
                if pair.type != "pair":
                    continue
                parts, inner = _pair_parts(pair)
                if parts:
                    start = pair.start_point[0] + 1
                    self._record_dotted(path, parts, start, self._value(path + parts, inner, start))
        return _last_line(value)

    def _find_unclosed(self, root: tree_sitter.Node) -> None:
        """The first opening token the parser left inside an error node: never closed."""
        errors = [root] if root.type == "ERROR" else []
        stack = [root]
        while stack and not errors:
            node = stack.pop()
            for child in reversed(node.children):
                if child.type == "ERROR":
                    errors.append(child)
                elif child.has_error:
                    stack.append(child)
        errors.sort(key=lambda n: n.start_byte)
        for error in errors:
            for child in error.children:
                kind = OPENERS.get(child.type)
                if kind is not None:
                    self.unterminated, self.unterminated_kind = child.start_point[0] + 1, kind
                    return


def _pair_parts(pair: tree_sitter.Node) -> tuple[Key, tree_sitter.Node | None]:
    """(key parts, value node) of a ``pair``."""
    named = [c for c in pair.named_children if c.type not in ("comment", "ERROR")]
    if not named or named[0].type not in ("bare_key", "quoted_key", "dotted_key"):
        return (), None
    return _key(named[0]), named[1] if len(named) > 1 else None


def _key(node: tree_sitter.Node) -> Key:
    if node.type == "dotted_key":
        return tuple(part for child in node.named_children for part in _key(child))
    text = (node.text or b"").decode("utf-8", errors="surrogateescape")
    if node.type == "quoted_key":
        try:  # the TOML reader decodes escapes exactly as the values are decoded
            return tuple(tomllib.loads(f"{text} = 0"))
        except tomllib.TOMLDecodeError:
            return (text.strip("\"'"),)
    return (text,)


def _last_line(node: tree_sitter.Node) -> int:
    """1-based line of the node's last character (a value ending a line ends there)."""
    row, column = node.end_point
    return row + 1 if column > 0 or row == node.start_point[0] else row
