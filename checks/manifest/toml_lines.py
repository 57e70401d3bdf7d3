"""Where each key of a TOML file is written: key path → (first line, last line).

tomlkit gives values, not positions, and a finding on a manifest must sit on the exact
line a reviewer would change. This scanner walks the text once and records, for every
key path (``("dependencies", "tokenizers", "features", 0)`` — array elements by index,
array-of-tables entries by index too), the lines its key and value occupy. It knows
just enough TOML to do that exactly: the four string forms, nested arrays and inline
tables, comments, dotted and quoted keys, ``[table]`` and ``[[array]]`` headers.

It never raises: on broken input it records what it reached, and ``unterminated`` says
where a string, array or inline table that never closed began (RO001 points there).
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass, field
from typing import NoReturn

Key = tuple[str | int, ...]
BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _Broken(Exception):
    """Raised inside the scanner at malformed input; the partial index is kept."""


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
        self._starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        self._pos = 0
        self._aot_counts: dict[Key, int] = {}
        self._implicit: set[Key] = set()  # tables only named by a deeper header so far
        # RecursionError: nesting deeper than the stack (a TOML bomb) is broken input too.
        with contextlib.suppress(_Broken, IndexError, RecursionError):
            self._document()

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

    # -- scanner -----------------------------------------------------------------------

    def _line_at(self, pos: int) -> int:
        return bisect.bisect_right(self._starts, pos)

    def _peek(self, offset: int = 0) -> str:
        pos = self._pos + offset
        return self.text[pos] if pos < len(self.text) else ""

    def _skip_blank(self, newlines: bool) -> None:
        """Skip spaces, tabs, comments and (when ``newlines``) line breaks."""
        while self._pos < len(self.text):
            ch = self.text[self._pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self._pos += 1
            elif ch == "#":
                end = self.text.find("\n", self._pos)
                self._pos = len(self.text) if end < 0 else end
            else:
                return

    def _record(self, key: Key, start: int, end: int) -> None:
        if key in self.spans:
            self.duplicates.append((key, start))
            return
        self.spans[key] = Span(start, end)

    def _extend(self, key: Key, end: int) -> None:
        span = self.spans.get(key)
        if span is not None and end > span.end:
            self.spans[key] = Span(span.start, end)

    def _document(self) -> None:
        table: Key = ()
        while True:
            self._skip_blank(newlines=True)
            if self._pos >= len(self.text):
                return
            line = self._line_at(self._pos)
            if self._peek() == "[":
                table = self._header(line)
            else:
                parts = self._key()
                self._expect("=")
                end = self._value(table + parts)
                self._record_dotted(table, parts, line, end)
                self._extend_table(table, end)

    def _header(self, line: int) -> Key:
        array = self._peek(1) == "["
        self._pos += 2 if array else 1
        parts = self._key()
        self._expect("]]" if array else "]")
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

    def _extend_table(self, table: Key, end: int) -> None:
        for i in range(1, len(table) + 1):
            self._extend(table[:i], end)

    def _record_dotted(self, table: Key, parts: Key, line: int, end: int) -> None:
        for i in range(1, len(parts)):  # `a.b = 1` also writes `a`
            prefix = table + parts[:i]
            self.spans.setdefault(prefix, Span(line, end))
            self._extend(prefix, end)
        self._record(table + parts, line, end)

    def _unclosed(self, line: int, kind: str) -> NoReturn:
        self.unterminated, self.unterminated_kind = line, kind
        raise _Broken

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self.text.startswith(token, self._pos):
            raise _Broken
        self._pos += len(token)

    def _key(self) -> Key:
        parts: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            ch = self._peek()
            if ch in ('"', "'"):
                parts.append(self._string(multiline_ok=False))
            else:
                start = self._pos
                while self._peek() in BARE_KEY_CHARS and self._peek():
                    self._pos += 1
                if self._pos == start:
                    raise _Broken
                parts.append(self.text[start : self._pos])
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return tuple(parts)
            self._pos += 1

    def _value(self, path: Key) -> int:
        """Scan one value; record nested keys and elements; return the line it ends on."""
        self._skip_blank(newlines=False)
        start_line = self._line_at(self._pos)
        ch = self._peek()
        if ch == "[":
            self._array(path, start_line)
        elif ch == "{":
            self._inline_table(path, start_line)
        elif ch in ('"', "'"):
            self._string(multiline_ok=True)
        else:
            while self._peek() and self._peek() not in ",]}\n#":
                self._pos += 1
        return self._line_at(max(self._pos - 1, 0))

    def _array(self, path: Key, start_line: int) -> None:
        self._pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if not self._peek():
                self._unclosed(start_line, "array")
            if self._peek() == "]":
                self._pos += 1
                return
            if self._peek() == ",":
                self._pos += 1
                continue
            line = self._line_at(self._pos)
            end = self._value((*path, index))
            self.spans[(*path, index)] = Span(line, end)
            index += 1

    def _inline_table(self, path: Key, start_line: int) -> None:
        self._pos += 1
        while True:
            self._skip_blank(newlines=True)  # TOML 1.1 allows newlines; tomlkit accepts them
            if not self._peek():
                self._unclosed(start_line, "inline table")
            if self._peek() == "}":
                self._pos += 1
                return
            if self._peek() == ",":
                self._pos += 1
                continue
            line = self._line_at(self._pos)
            parts = self._key()
            self._expect("=")
            end = self._value(path + parts)
            self._record_dotted(path, parts, line, end)

    def _string(self, *, multiline_ok: bool) -> str:
        quote = self._peek()
        start_line = self._line_at(self._pos)
        if multiline_ok and self.text.startswith(quote * 3, self._pos):
            close = self.text.find(quote * 3, self._pos + 3) if quote == "'" else self._basic_ml_end()
            if close < 0:
                self._unclosed(start_line, "string")
            while self.text.startswith(quote, close + 3):  # `""""` closes after one quote
                close += 1
            value = self.text[self._pos + 3 : close]
            self._pos = close + 3
            return value
        return self._single_line_string(quote, start_line)

    def _basic_ml_end(self) -> int:
        pos = self._pos + 3
        while pos < len(self.text):
            if self.text[pos] == "\\":
                pos += 2
            elif self.text.startswith('"""', pos):
                return pos
            else:
                pos += 1
        return -1

    def _single_line_string(self, quote: str, start_line: int) -> str:
        out: list[str] = []
        pos = self._pos + 1
        while True:
            if pos >= len(self.text) or self.text[pos] == "\n":
                self._unclosed(start_line, "string")
            ch = self.text[pos]
            if ch == quote:
                self._pos = pos + 1
                return "".join(out)
            if ch == "\\" and quote == '"':
                pos, decoded = self._escape(pos)
                out.append(decoded)
                continue
            out.append(ch)
            pos += 1

    def _escape(self, pos: int) -> tuple[int, str]:
        code = self.text[pos + 1 : pos + 2]
        if code in ESCAPES:
            return pos + 2, ESCAPES[code]
        width = {"u": 4, "U": 8}.get(code)
        if width:
            try:
                return pos + 2 + width, chr(int(self.text[pos + 2 : pos + 2 + width], 16))
            except ValueError:
                pass
        return pos + 2, code
