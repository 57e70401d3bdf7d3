"""SAFETY-comment verdicts, shared by RO201/RO202/RO203 and the unsafe metrics.

(Placeholder interface; the clippy-exact implementation replaces the bodies.)
"""

from __future__ import annotations

import tree_sitter

from checks.context import FileContext

NODE_KINDS: tuple[str, ...] = ("unsafe_block", "impl_item", "function_item", "function_signature_item", "trait_item")


def unsafe_block_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    """Every ``unsafe { }`` block of the file with whether clippy would accept its comment."""
    return [(node, False) for node in ctx.nodes("unsafe_block")]


def unsafe_impl_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    return []


def unsafe_fn_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    return []
