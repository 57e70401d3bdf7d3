"""Bounds on a TOML text before it is parsed, so a hostile manifest costs milliseconds.

tomlkit keeps every token of a document (that is what lets suggested edits keep the
author's layout), at a price: an array of a million numbers (3 MB) took 173 s and 1.5 GB,
and 10,000 nested inline tables overflowed the stack of the line mapper. Real manifests
are far inside these limits — the largest in the Debian crate corpus, web-sys's with
1,500 features, is 53 KB, nests 3 levels deep and has 3,000 commas.
"""

from __future__ import annotations

MAX_TOML_BYTES = 1024 * 1024
MAX_TOML_DEPTH = 64  # nested arrays and inline tables
MAX_TOML_ITEMS = 200_000  # commas: a bound on array elements and inline-table entries


def over_limits(text: str) -> str | None:
    """Why ``text`` is too large to parse, or None. Strings and comments are skipped, so a
    bracket inside a quoted value does not count."""
    if len(text) > MAX_TOML_BYTES:
        return f"{len(text)} characters, over the {MAX_TOML_BYTES} ruvopt parses"
    if text.count(",") > MAX_TOML_ITEMS:
        return f"{text.count(',')} commas (array elements, table entries), over the {MAX_TOML_ITEMS} ruvopt parses"
    depth = deepest(text)
    if depth > MAX_TOML_DEPTH:
        return f"arrays and inline tables nested {depth} deep, over the {MAX_TOML_DEPTH} ruvopt parses"
    return None


def deepest(text: str) -> int:
    """The deepest nesting of ``[``/``{`` outside strings and comments (a ``[table]``
    header counts 1, like an array)."""
    depth = best = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif ch in "\"'":
            i = _string_end(text, i)
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return best


def _string_end(text: str, start: int) -> int:
    """Index of the last character of the string that starts at ``start``."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        return len(text) if end < 0 else end + 2
    i = start + 1
    while i < len(text) and text[i] not in (quote, "\n"):
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i
