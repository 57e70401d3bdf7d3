"""``unsafe fn``s written in a crate's own ``macro_rules!`` transcribers, for RO203.

clippy 0.1.95 lints the functions a macro expands to, and reports each at its definition
inside the macro (once, however often the macro is expanded): ``pub unsafe fn $name(…)``
in ``macro_rules! reader`` is a missing ``# Safety`` section at that line as soon as the
crate writes ``reader!(read_u32, u32);`` where the function is exported — at the crate
root or in a ``pub mod`` (measured with ``tests/fixtures/clippy-ro203-gaps``). A macro
the crate never invokes expands to nothing and is never linted.

tree-sitter leaves a transcriber as tokens, so the function is read from them: the
``unsafe`` token followed by ``fn``, a ``pub`` before it (``pub(crate)`` is not public),
the doc comments and attributes before that (a ``# Safety`` heading, ``#[doc(hidden)]``,
``#[allow(clippy::missing_safety_doc)]``), and whether it sits in an ``impl … for …``
(a trait impl's methods are never checked). Docs that come from the caller
(``$(#[$meta:meta])*`` before the function) cannot be read here: such functions are
left alone.

Each invocation is recorded by name with the module scope it is written in; the crate
level decides whether some invocation puts the function where it is exported.
"""

from __future__ import annotations

from typing import Any

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.safety import doc as safety_doc
from ruvopt.checks.safety.macros import _unsafe_tokens, macro_name

# Macros of the standard library: an invocation of one expands no local macro.
STD_MACROS = frozenset(
    {
        "assert",
        "assert_eq",
        "assert_ne",
        "debug_assert",
        "debug_assert_eq",
        "debug_assert_ne",
        "format",
        "format_args",
        "print",
        "println",
        "eprint",
        "eprintln",
        "write",
        "writeln",
        "vec",
        "panic",
        "todo",
        "unimplemented",
        "unreachable",
        "matches",
        "cfg",
        "concat",
        "stringify",
        "include",
        "include_str",
        "include_bytes",
        "env",
        "option_env",
        "line",
        "column",
        "file",
        "module_path",
        "dbg",
        "thread_local",
        "compile_error",
        "macro_rules",
        "addr_of",
        "addr_of_mut",
    }
)
ALLOW_WORDS = ("missing_safety_doc", "clippy::style", "clippy::all")


def macro_fns(ctx: FileContext) -> list[dict[str, Any]]:
    """Every ``unsafe fn`` in the file's ``macro_rules!`` transcribers, as RO203 needs it."""
    found = []
    for definition in ctx.nodes("macro_definition"):
        if definition.text is None or b"unsafe" not in definition.text:
            continue
        name = next((c for c in definition.named_children if c.type == "identifier"), None)
        for keyword, following in _unsafe_tokens(definition):
            if following is not None and following.type == "fn":
                fact = _fn_fact(ctx, keyword, following)
                if fact is not None:
                    found.append({"macro": ctx.node_text(name) if name is not None else "", **fact})
    return found


def _fn_fact(ctx: FileContext, keyword: tree_sitter.Node, fn: tree_sitter.Node) -> dict[str, Any] | None:
    tokens = keyword.parent.children if keyword.parent is not None else []
    index = next(i for i, t in enumerate(tokens) if t == keyword)
    start, own_pub = keyword, False
    if index >= 1 and tokens[index - 1].type == "pub":
        start, own_pub, index = tokens[index - 1], True, index - 1
    elif index >= 2 and tokens[index - 1].type == "token_tree" and tokens[index - 2].type == "pub":
        start, index = tokens[index - 2], index - 2  # `pub(crate)`: not exported
    fragments, attributes, from_caller = _preceding(ctx, tokens[:index])
    holder = _holder(keyword)
    if holder == "trait impl":
        return None  # a trait impl's methods inherit the trait's docs
    body = next((t for t in tokens[index:] if t.type == "token_tree" and (t.text or b"")[:1] == b"{"), None)
    end = body.start_byte if body is not None else fn.end_byte
    return {
        "line": start.start_point[0] + 1,
        "col": start.start_point[1] + 1,
        "source": ctx.line(start.start_point[0] + 1),
        "anchor": ctx.data[start.start_byte : end].decode(errors="replace"),
        "own_pub": own_pub or holder == "trait",
        "documented": bool(fragments) and safety_doc.markdown_has_safety_heading(safety_doc.unindent(fragments)),
        "from_caller": from_caller,
        "hidden": any("doc" in a and "hidden" in a for a in attributes),
        "allowed": any(a.startswith(("allow", "expect")) and any(w in a for w in ALLOW_WORDS) for a in attributes),
    }


def _preceding(ctx: FileContext, before: list[tree_sitter.Node]) -> tuple[list[str], list[str], bool]:
    """(doc fragments, attribute texts, docs given by the caller) written before a fn."""
    fragments: list[str] = []
    attributes: list[str] = []
    position = len(before) - 1
    while position >= 0:
        token = before[position]
        if token.type == "line_comment" and token.child_by_field_name("outer") is not None:
            doc = token.child_by_field_name("doc")
            fragments.append(ctx.node_text(doc).rstrip("\r\n") if doc is not None else "")
        elif (
            token.type == "token_tree"
            and ctx.node_text(token).startswith("[")
            and position >= 1
            and before[position - 1].type == "#"
        ):
            attributes.append("".join(ctx.node_text(token)[1:-1].split()))
            position -= 1
        elif token.type == "token_repetition" and "#" in ctx.node_text(token):
            return fragments[::-1], attributes, True  # `$(#[$meta])*`: the caller's docs
        elif token.type not in ("line_comment", "block_comment"):
            break
        position -= 1
    return fragments[::-1], attributes, False


def _holder(keyword: tree_sitter.Node) -> str:
    """ "trait impl", "impl" or "trait" when the fn's token tree is the body of one, else ""."""
    tree = keyword.parent
    outer = tree.parent if tree is not None else None
    if tree is None or outer is None or outer.type not in ("token_tree", "token_repetition"):
        return ""
    siblings = outer.children
    before = siblings[: next(i for i, s in enumerate(siblings) if s == tree)]
    # The nearest `impl`/`trait` since the previous item (`;` or a `{…}` body) owns the tree.
    for position in range(len(before) - 1, -1, -1):
        token = before[position]
        if token.type == "impl":
            return "trait impl" if any(t.type == "for" for t in before[position:]) else "impl"
        if token.type == "trait":
            return "trait"
        if token.type == ";" or (token.type == "token_tree" and (token.text or b"")[:1] == b"{"):
            return ""
    return ""


def macro_calls(ctx: FileContext, scope: Any) -> list[list[Any]]:
    """[name, inline modules, public scope, hidden] of each invocation of a non-std macro
    (deduplicated); ``scope(node)`` is ``exports.Nest.scope``."""
    found = set()
    for invocation in ctx.nodes("macro_invocation"):
        name = macro_name(invocation)
        if not name or name in STD_MACROS:
            continue
        inline, public, hidden = scope(invocation)
        found.add((name, tuple(inline), public, hidden))
    return [[name, list(inline), public, hidden] for name, inline, public, hidden in sorted(found)]
