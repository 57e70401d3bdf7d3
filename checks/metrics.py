"""Per-crate metrics, counted exactly as docs/metrics.md states (names are a JSON contract).

File-level parts (unsafe counts) are computed per file and cached with the file; the
crate-level parts come from the crate root and the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruvopt.checks.context import CrateContext, FileContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.model import FILE_SUMMED_METRICS, Metrics
from ruvopt.checks.safety import verdicts as safety
from ruvopt.checks.syntax import rust

METRIC_NODE_KINDS: tuple[str, ...] = safety.NODE_KINDS


def file_metrics(ctx: FileContext) -> dict[str, int]:
    blocks = safety.unsafe_block_verdicts(ctx)
    impls = safety.unsafe_impl_verdicts(ctx)
    fns = safety.unsafe_fn_verdicts(ctx)
    return {
        "unsafe_blocks": len(blocks),
        "unsafe_blocks_documented": sum(ok for _, ok in blocks),
        "unsafe_impls": len(impls),
        "unsafe_impls_documented": sum(ok for _, ok in impls),
        "unsafe_fns": len(fns),
        "unsafe_fns_with_safety_doc": sum(ok for _, ok in fns),
    }


def root_metrics(root: FileContext | None) -> dict[str, int]:
    if root is None:
        return dict.fromkeys(
            ("root_lines", "pub_use_statements", "pub_use_names", "crate_allow_attributes", "crate_allow_lints"), 0
        )
    node = root.tree.root_node
    uses = rust.pub_use_declarations(node)
    allows = rust.crate_allow_attributes(node)
    return {
        "root_lines": root.line_count,
        "pub_use_statements": len(uses),
        "pub_use_names": sum(len(rust.use_tree_leaves(u)) for u in uses),
        "crate_allow_attributes": len(allows),
        "crate_allow_lints": sum(len(lints) for _, lints in allows),
    }


def manifest_metrics(ctx: CrateContext, heavy: Sequence[str]) -> dict[str, Any]:
    """``heavy``: RO301's patterns; a binary-only crate's defaults are only its own build,
    so, as for RO301, its heavy defaults do not count."""
    found = cargo.heavy_defaults(ctx.workspace, ctx.manifest, heavy) if ctx.crate.lib_root else None
    features = ctx.manifest.table("features")
    default = features.get("default", [])
    deps = ctx.manifest.table("dependencies")
    optional = [name for name, spec in deps.items() if isinstance(spec, dict) and spec.get("optional") is True]
    return {
        "default_features": [str(f) for f in default] if isinstance(default, list) else [],
        "optional_dependencies": len(optional),
        "heavy_default_dependencies": len(found.names) if found else 0,
    }


def crate_metrics(
    ctx: CrateContext,
    per_file: dict[str, dict[str, int]],
    line_counts: dict[str, int],
    max_lines: int,
    heavy: Sequence[str],
) -> Metrics:
    """Combine cached per-file numbers with the crate root and manifest; ``files_over_limit``
    counts files over ``max_lines`` (RO101's option), ``heavy_default_dependencies`` the
    optional dependencies matching ``heavy`` (RO301's) that ``default`` turns on — both
    options looked up by the engine."""
    metrics = Metrics()
    for name, value in root_metrics(ctx.root_file).items():
        metrics[name] = value
    for name in FILE_SUMMED_METRICS:
        metrics[name] = sum(m.get(name, 0) for m in per_file.values())
    metrics["rs_files"] = len(line_counts)
    metrics["rs_lines"] = sum(line_counts.values())
    metrics["max_file_lines"] = max(line_counts.values(), default=0)
    metrics["files_over_limit"] = sum(1 for n in line_counts.values() if n > max_lines)
    for name, value in manifest_metrics(ctx, heavy).items():
        metrics[name] = value
    return metrics
