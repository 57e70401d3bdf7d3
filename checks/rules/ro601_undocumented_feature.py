from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.model import Finding, Severity

DOC_FILES = ("readme.md", "cargo_features.md")
NAME_CHARS = "A-Za-z0-9_-"
MAX_SEPARATE = 20  # more undocumented features than this: one finding on `[features]`


class UndocumentedFeature(CrateRule):
    """## What it does
    Flags a Cargo feature (a key of `[features]`) that no documentation mentions. A
    feature is documented when its name appears as a whole word or backticked token
    (`` `candle` ``, `--features candle`, `"candle"`; not inside `candle-core`) in:

    - `README.md` or `CARGO_FEATURES.md` (any letter case) in the crate's directory or
      the workspace root, or the file `package.readme` names;
    - a `## ` comment directly above the feature in `Cargo.toml` (the convention of
      the `document-features` crate, which copies them into the crate docs);
    - the crate root's `//!` docs (what docs.rs shows).

    More than 20 undocumented features (per-module bindings such as `winapi`) give one
    finding on the `[features]` header instead of one per feature.

    `default` is not a feature to document; neither are the implicit features of
    optional dependencies, nor names starting with `_` (the convention for internal
    features that users should not enable).

    ## Why is this bad?
    A feature nobody can find is a feature nobody turns on — or off. When heavy
    dependencies move behind opt-in features (checklist item 1), users need a guide to
    choose them: the checklist's item 11 updates `README.md` and `CARGO_FEATURES.md`.

    ## Example
    ```toml
    [features]
    candle = ["dep:candle-core"]   # README.md never says `candle`
    ```

    Use instead:
    ```markdown
    ## Features
    - `candle`: local inference with Candle (adds ~35 MB of compiled code).
    ```
    """

    code = "RO601"
    name = "undocumented-feature"
    severity = Severity.INFO
    checklist_item = "11"

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        manifest = ctx.manifest
        # A broken manifest is RO001's finding.
        if manifest.doc is None:
            return
        features = [str(name) for name in manifest.table("features")]
        # No features, nothing to document.
        if not features:
            return
        docs = _documentation(ctx)
        index = cargo.index(manifest)
        lines = index.text.split("\n")
        missing = [
            name
            for name in features
            # `default` is not chosen by name; `_internal` features are private by convention.
            if name != "default"
            and not name.startswith("_")
            and not _mentions(docs, name)
            and not _doc_comment_above(lines, index.line("features", name))
        ]
        # Hundreds of per-module features (winapi, web-sys) are one problem, not hundreds.
        if len(missing) > MAX_SEPARATE:
            shown = ", ".join(f"`{name}`" for name in missing[:5])
            yield ctx.report_manifest(
                self,
                index.line("features"),
                f"Document the {len(missing)} features no guide mentions ({shown}, …) in `README.md` or "
                "`CARGO_FEATURES.md`",
                key="features",
                fix_title="Add a feature guide, or describe the features in the crate docs",
            )
            return
        for name in missing:
            yield ctx.report_manifest(
                self,
                index.line("features", name),
                f"Document the feature `{name}` in `README.md` or `CARGO_FEATURES.md`: say what it enables and costs",
                key=f"features.{name}",
                fix_title=f"Add a line for `{name}` to the crate's feature guide",
            )


def _mentions(docs: str, name: str) -> bool:
    return re.search(rf"(?<![{NAME_CHARS}]){re.escape(name)}(?![{NAME_CHARS}])", docs) is not None


def _doc_comment_above(lines: list[str], line: int) -> bool:
    """A `## …` comment (document-features) right above the feature's line."""
    number = line - 1
    while number >= 1 and lines[number - 1].strip().startswith("#"):
        if lines[number - 1].strip().startswith("##"):
            return True
        number -= 1
    return False


def _documentation(ctx: CrateContext) -> str:
    tree = ctx.workspace.tree
    paths = []
    for directory in dict.fromkeys((ctx.crate.dir, "")):
        paths += [p for p in tree.files_in(directory) if posixpath.basename(p).lower() in DOC_FILES]
    readme = _readme(ctx)
    if readme is not None:
        paths.append(readme)
    texts = [tree.read_text(p) for p in dict.fromkeys(paths) if tree.exists(p)]
    root = ctx.root_file
    if root is not None:
        texts.append("\n".join(line for line in root.lines if line.lstrip().startswith("//!")))
    return "\n".join(texts)


def _readme(ctx: CrateContext) -> str | None:
    """The file `package.readme` names (`readme.workspace = true` included)."""
    readme = ctx.manifest.table("package").get("readme")
    directory = ctx.crate.dir
    if isinstance(readme, dict) and readme.get("workspace") is True:
        root = cargo.workspace_root(ctx.workspace, ctx.manifest)
        readme = root.table("workspace", "package").get("readme") if root is not None else None
        directory = posixpath.dirname(root.path) if root is not None else ""
    if not isinstance(readme, str):
        return None
    return posixpath.normpath(posixpath.join(directory, readme))
