"""Doc comments of ``unsafe fn`` / ``unsafe trait`` items and clippy's ``# Safety`` test.

clippy 0.1.95's ``missing_safety_doc`` renders the item's docs as Markdown
(``///``, ``/** */`` and ``#[doc = "…"]`` fragments, common indentation removed as
rustdoc does) and accepts a heading of any level, anywhere (also in a list or a quote,
ATX or setext), one of whose text pieces, trimmed, is exactly ``Safety``, ``SAFETY``,
``Implementation safety`` or ``Implementation Safety``. So ``# safety``, ``# Safety:``,
``# Safety section``, ``#Safety`` (not a heading) and a ``# Safety`` line inside a code
fence do not count; ``# *Safety*`` and ``# Safety <!-- … -->`` do (measured with the
placement crate).
"""

from __future__ import annotations

import ast
from functools import cache, lru_cache

import tree_sitter
from markdown_it import MarkdownIt

from ruvopt.checks.syntax import rust

SAFETY_HEADINGS = frozenset({"Safety", "SAFETY", "Implementation safety", "Implementation Safety"})
DOC_SIBLINGS = frozenset({"attribute_item", "line_comment", "block_comment"})


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark")


def is_unsafe_fn(item: tree_sitter.Node, data: bytes | None = None) -> bool:
    """Whether the fn item carries ``unsafe``; with the file's ``data``, a byte search
    between the item's start and its name first settles most items (no ``unsafe`` there:
    not an unsafe fn) without walking their children."""
    if data is not None:
        name = item.child_by_field_name("name")
        end = name.start_byte if name is not None else item.end_byte
        if data.find(b"unsafe", item.start_byte, end) < 0:
            return False
    return rust.has_modifier(item, "unsafe")


def impl_of(item: tree_sitter.Node) -> tree_sitter.Node | None:
    """The ``impl`` block an associated item sits in, if any."""
    parent = item.parent
    owner = parent.parent if parent is not None and parent.type == "declaration_list" else None
    return owner if owner is not None and owner.type == "impl_item" else None


def in_trait_impl(item: tree_sitter.Node) -> bool:
    impl = impl_of(item)
    return impl is not None and impl.child_by_field_name("trait") is not None


def _string_value(literal: tree_sitter.Node) -> str:
    text = literal.text.decode(errors="replace") if literal.text else '""'
    if text.startswith("r"):  # raw string: r#"…"#
        return text.lstrip("r#")[1:].rstrip("#")[:-1]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip('"')
    return value if isinstance(value, str) else ""


def _block_doc(text: str) -> str:
    """rustdoc's clean-up of ``/** … */``: drop a leading `` * `` column and blank edges."""
    lines = text.split("\n")
    if len(lines) > 1 and all(line.lstrip().startswith("*") for line in lines[1:] if line.strip()):
        lines = [lines[0]] + [line.lstrip()[1:] for line in lines[1:]]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def doc_attribute_value(attribute_item: tree_sitter.Node) -> str | None:
    """The string of ``#[doc = "…"]``, None for any other attribute (``#[doc(hidden)]`` too)."""
    if rust.attribute_name(attribute_item) != "doc":
        return None
    attribute = next((c for c in attribute_item.named_children if c.type == "attribute"), None)
    value = attribute.child_by_field_name("value") if attribute is not None else None
    if value is None or value.type not in ("string_literal", "raw_string_literal"):
        return None
    return _string_value(value)


def doc_fragments(item: tree_sitter.Node) -> list[str]:
    """Outer doc fragments written before ``item``, in source order."""
    fragments: list[str] = []
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in DOC_SIBLINGS:
        if sibling.type == "attribute_item":
            value = doc_attribute_value(sibling)
            if value is not None:
                fragments.append(value)
        elif sibling.child_by_field_name("outer") is not None:
            doc = sibling.child_by_field_name("doc")
            text = doc.text.decode(errors="replace") if doc is not None and doc.text else ""
            fragments.append(_block_doc(text) if sibling.type == "block_comment" else text.rstrip("\r\n"))
        sibling = sibling.prev_named_sibling
    return fragments[::-1]


def unindent(fragments: list[str]) -> str:
    """Join fragments and remove the indentation common to their non-blank lines."""
    lines = "\n".join(fragments).split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


@lru_cache(maxsize=4096)
def markdown_has_safety_heading(markdown: str) -> bool:
    # Every accepted heading contains one of these: most docs are decided without parsing.
    if "afety" not in markdown and "AFETY" not in markdown:
        return False
    tokens = _markdown().parse(markdown)
    for index, token in enumerate(tokens[:-1]):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        for child in inline.children or []:
            if child.type == "text" and child.content.strip() in SAFETY_HEADINGS:
                return True
    return False


def has_safety_section(item: tree_sitter.Node) -> bool:
    """Whether the docs of ``item`` have a heading clippy accepts as a Safety section."""
    fragments = doc_fragments(item)
    return bool(fragments) and markdown_has_safety_heading(unindent(fragments))


def is_doc_hidden(item: tree_sitter.Node) -> bool:
    """``#[doc(hidden)]`` among the attributes written before ``item``."""
    for attribute in rust.preceding_attributes(item):
        if rust.attribute_name(attribute) != "doc":
            continue
        arguments = rust.attribute_arguments(attribute)
        if arguments is not None and "hidden" in rust.token_tree_entries(arguments):
            return True
    return False
