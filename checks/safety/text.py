"""The text half of clippy 0.1.95's `undocumented_unsafe_blocks`: is there a SAFETY comment?

Clippy decides on source lines, not on the syntax tree: given the line holding `unsafe`
(or the first line of the enclosing statement) and the first line of the enclosing body
(the *window start*, never scanned itself), it looks at the lines in between, nearest
first. Every rule below was measured against clippy 0.1.95 with the placement crate in
``tests/fixtures/clippy-placement`` (``tests/test_clippy_agreement.py`` keeps it honest):

1. Blank lines are skipped; so are *one-line attributes* (the trimmed line starts with
   ``#[`` or ``#![`` and ends with ``]``) when ``accept-comment-above-attributes`` is on.
   A multi-line attribute, ``# [x]`` or ``#[x] // note`` is not skipped.
2. If the nearest remaining line starts with ``//`` (``///`` and ``////`` too), the run of
   such lines above it (blank lines and skipped attributes may sit between) is accepted
   when one line contains ``SAFETY:`` (ASCII case-insensitive, anywhere in the line) and
   is not inside a doc-comment code fence. Fences are toggled by lines that start with
   ``///`` + optional spaces + three backticks, counting *upwards* from the nearest line,
   so a ``// SAFETY:`` line above an unclosed ``/// ```` is ignored. A run without the
   word decides "no": nothing further up is looked at.
3. Otherwise the nearest line is accepted if its first comment opener (the earliest
   ``//`` or ``/*``, strings not excepted: the test is textual) is followed by optional
   whitespace and ``SAFETY:`` — a trailing comment such as ``let n = 1; // SAFETY: …``.
4. Otherwise, going up, the first line that starts with ``/*`` is accepted when that
   block comment contains ``SAFETY:`` and only whitespace follows it up to the target
   line (an attribute in between is not whitespace).

Inside the block, clippy also accepts a comment that is the first thing after the
opening brace and starts with ``SAFETY:`` after ``//`` or ``/*`` and optional whitespace.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
WORD = "SAFETY:"


def has_safety_word(text: str) -> bool:
    """``SAFETY:`` anywhere, ASCII case-insensitive (Rust's ``to_ascii_uppercase``)."""
    return WORD in text.translate(_ASCII_UPPER)


def starts_with_safety_word(text: str) -> bool:
    return text.lstrip()[: len(WORD)].translate(_ASCII_UPPER) == WORD


def is_one_line_attribute(trimmed: str) -> bool:
    """A line clippy skips as an attribute: ``#[…]`` / ``#![…]`` ending on the same line."""
    return trimmed.startswith(("#[", "#![")) and trimmed.rstrip().endswith("]")


def toggles_fence(trimmed: str) -> bool:
    """A doc-comment code fence line: ``///`` (repeated) then whitespace then backticks."""
    rest = trimmed
    while rest.startswith("///"):
        rest = rest[3:]
    return rest.lstrip().startswith("```")


def _candidates(lines: Sequence[str], target: int, window: int, attributes: bool) -> Iterator[tuple[int, str]]:
    """Lines strictly between ``window`` and ``target`` (0-based), nearest first, trimmed."""
    for number in range(target - 1, window, -1):
        trimmed = lines[number].lstrip()
        if not trimmed:
            continue
        if attributes and is_one_line_attribute(trimmed):
            continue
        yield number, trimmed


def trailing_comment_is_safety(trimmed: str) -> bool:
    """Rule 3: the line's earliest ``//`` or ``/*`` is followed by ``SAFETY:``."""
    openers = [i for i in (trimmed.find("//"), trimmed.find("/*")) if i >= 0]
    if not openers:
        return False
    return starts_with_safety_word(trimmed[min(openers) + 2 :])


def block_comment_end(text: str, start: int) -> int:
    """Index just past the (nested) block comment opening at ``start``; len(text) if open."""
    depth = 0
    index = start
    while index < len(text) - 1:
        pair = text[index : index + 2]
        if pair == "/*":
            depth += 1
            index += 2
        elif pair == "*/":
            depth -= 1
            index += 2
            if depth == 0:
                return index
        else:
            index += 1
    return len(text)


def _block_comment_accepted(lines: Sequence[str], number: int, target: int) -> bool:
    """Rule 4: the comment opening line ``number`` holds SAFETY: and only whitespace follows."""
    first = lines[number]
    text = "\n".join([first[len(first) - len(first.lstrip()) :], *lines[number + 1 : target]]) + "\n"
    end = block_comment_end(text, 0)
    return has_safety_word(text[:end]) and (text[end:].strip() == "")


def comment_above(lines: Sequence[str], target: int, window: int, *, attributes: bool) -> bool:
    """Whether clippy accepts the lines above 0-based line ``target`` (window excluded)."""
    found = _candidates(lines, target, window, attributes)
    nearest = next(found, None)
    if nearest is None:
        return False
    number, trimmed = nearest
    if trimmed.startswith("//"):
        return _line_comment_run_accepted(trimmed, found)
    if trailing_comment_is_safety(trimmed):
        return True
    while not trimmed.startswith("/*"):
        following = next(found, None)
        if following is None:
            return False
        number, trimmed = following
    return _block_comment_accepted(lines, number, target)


def _line_comment_run_accepted(trimmed: str, rest: Iterator[tuple[int, str]]) -> bool:
    in_fence = False
    while True:
        if toggles_fence(trimmed):
            in_fence = not in_fence
        if has_safety_word(trimmed) and not in_fence:
            return True
        following = next(rest, None)
        if following is None or not following[1].startswith("//"):
            return False
        trimmed = following[1]


def comment_inside(after_brace: str) -> bool:
    """The first thing after a block's ``{`` is a ``//`` or ``/*`` comment starting with SAFETY:."""
    text = after_brace.lstrip()
    return text.startswith(("//", "/*")) and starts_with_safety_word(text[2:])
