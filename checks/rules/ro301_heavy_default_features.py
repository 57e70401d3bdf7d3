from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.manifest.toml_lines import Span, TomlLines
from ruvopt.checks.model import Edit, Finding, Severity

MAX_NAMED = 3  # heavy dependencies named in one message; the rest are counted
TRAILING_COMMENT = re.compile(r"^\s*(#.*)$")  # what follows the value's closing `]`
DEFAULT_HEAVY = [
    "candle-*",
    "tokio",
    "tokenizers",
    "hf-hub",
    "ort",
    "tch",
    "wgpu",
    "burn",
    "burn-*",
    "onnxruntime",
    "torch-sys",
    "tensorflow",
    "llama-cpp-2",
    "polars",
    "polars-*",
    "arrow",
    "arrow-*",
    "datafusion",
    "datafusion-*",
    "opencv",
]


class HeavyDefaultFeatures(CrateRule):
    """## What it does
    Flags a library's `default` feature when it turns on, directly or through other
    features, an optional dependency whose crate name matches `heavy`. The message shows
    the route, e.g. `default → candle → candle-core`. Renamed dependencies are matched by
    their real crate name (`package = …`), workspace-inherited ones by the
    `[workspace.dependencies]` entry. The suggestion is the checklist's mechanical fix:
    `default = []` plus a `full` feature holding the old defaults (when a `full` feature
    already covers them, only `default = []`; when it exists but does not, the new
    feature is called `full-default`).

    Binary-only crates are not flagged: nobody depends on them, so their defaults are
    only their own build.

    The finding is one per crate; the crate's `heavy_default_dependencies` metric counts
    the dependencies it names, with a limit of 0. So in diff mode a pull request that adds
    a heavy default next to one that was already there (the finding unchanged) still
    fails the gate — the count went up — and one that removes one of two passes.

    ## Why is this bad?
    Every crate that depends on this one compiles its default features unless it opts
    out with `default-features = false` — most never do, and one dependency that forgets
    brings the heavy stack back for the whole build. The checklist's item 1: Candle
    (35 MB compiled) and Tokio on by default cost 15–25 % of every build of `ruvllm`.

    The default `heavy` list is ML runtimes and data engines that take a minute or more
    to build, or build C/C++ libraries: Candle, Burn, ONNX Runtime (`ort`,
    `onnxruntime`), libtorch (`tch`, `torch-sys`), TensorFlow, llama.cpp
    (`llama-cpp-2`), `wgpu`, Polars, Arrow, DataFusion, OpenCV, plus the checklist's
    `tokio`, `tokenizers` and `hf-hub`.

    ## Example
    ```toml
    [features]
    default = ["async-runtime", "candle"]
    candle = ["dep:candle-core", "dep:candle-nn"]
    ```

    Use instead:
    ```toml
    [features]
    default = []
    full = ["async-runtime", "candle"]
    candle = ["dep:candle-core", "dep:candle-nn"]
    ```

    ## Options
    - `heavy` (list of strings): crate-name globs (`*` matches any run of characters)
      of dependencies too heavy to be on by default.
    """

    code = "RO301"
    name = "heavy-default-features"
    severity = Severity.WARNING
    checklist_item = "1"
    options: ClassVar[dict[str, Any]] = {"heavy": DEFAULT_HEAVY}

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        # A binary-only crate's defaults are its own build, not its users'.
        if ctx.crate.lib_root is None:
            return
        # None: a broken manifest (RO001's finding) or no `default` feature.
        found = cargo.heavy_defaults(ctx.workspace, ctx.manifest, [str(p) for p in self.option("heavy")])
        # Nothing heavy is reachable from `default`: light defaults are fine.
        if found is None or not found.names:
            return
        manifest, graph, heavy = ctx.manifest, found.graph, found.names
        index = cargo.index(manifest)
        span = index.find("features", "default")
        line = span.start if span else index.line("features")
        routes = ", ".join(_route(graph, found.parents, name) for name in heavy[:MAX_NAMED])
        more = f" and {len(heavy) - MAX_NAMED} more" if len(heavy) > MAX_NAMED else ""
        old = [str(d) for d in manifest.table("features")["default"]]
        holder = _holder(graph, old)
        yield ctx.report_manifest(
            self,
            line,
            f"Make the heavy optional dependencies opt-in: `default` turns on {routes}{more}",
            key="features.default",
            fix_title=f"Set `default = []`; `{holder}` already holds the old defaults"
            if holder == "full" and "full" in graph.all
            else f"Set `default = []` and move the old defaults into a `{holder}` feature",
            suggestion=_suggestion(manifest.path, index, span, graph, old) if span else None,
        )


def _suggestion(path: str, index: TomlLines, span: Span, graph: cargo.FeatureGraph, defaults: list[str]) -> Edit:
    """`default = []` plus `full = [old defaults]`, keeping the key's spelling and indent."""
    first, last = index.text_line(span.start), index.text_line(span.end)
    key = first[: first.index("=")] if "=" in first else "default "
    comment = TRAILING_COMMENT.match(last[last.rfind("]") + 1 :]) if "]" in last else None
    replacement = f"{key}= []" + (f"  {comment.group(1)}" if comment else "")
    name = _holder(graph, defaults)
    # An existing `full` that already holds the old defaults needs no new feature.
    if name not in graph.all:
        new_key = name.join(key.rsplit("default", 1))
        replacement += f"\n{new_key}= {json.dumps(defaults)}"
    return Edit(path, span.start, span.end, replacement)


def _holder(graph: cargo.FeatureGraph, defaults: list[str]) -> str:
    """`full`, unless a `full` exists that does not cover the defaults: then `full-default`."""
    if "full" not in graph.all:
        return "full"
    full = set(graph.closure("full"))
    return "full" if all(set(graph.edges(d)) <= full for d in defaults) else "full-default"


def _route(graph: cargo.FeatureGraph, parents: dict[cargo.Node, cargo.Node | None], name: str) -> str:
    """`` `candle-core` (default → candle → candle-core) ``, naming a renamed crate too."""
    packages = sorted({d.package for d in graph.deps.get(name, [])} - {name})
    route = " → ".join(cargo.chain(parents, ("dep", name)))
    return f"`{name}` (crate `{packages[0]}`, via {route})" if packages else f"`{name}` ({route})"
