from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ruvopt.checks.base import WorkspaceRule
from ruvopt.checks.context import WorkspaceContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.manifest.workspace import Manifest
from ruvopt.checks.model import Finding, Severity

DEFAULT_HEAVY_FEATURES = [
    "tokenizers/onig",
    "openssl/vendored",
    "openssl-sys/vendored",
    "native-tls/vendored",
    "reqwest/native-tls-vendored",
]
DEFAULT_HEAVY_IN_DEFAULTS = ["tokenizers/onig"]


@dataclass(frozen=True, slots=True)
class _Hit:
    manifest: Manifest
    line: int
    key: str
    message: str
    fix_title: str


class HeavyDependencyFeature(WorkspaceRule):
    """## What it does
    Flags a dependency declaration that turns on a feature listed in `heavy-features`
    (`crate/feature`, matched on the real crate name, so renamed dependencies count):
    in its `features = [...]`, through its default features (`heavy-in-defaults`: crates
    whose own `default` includes a heavy feature, unless `default-features = false`),
    or in a `[features]` entry such as `pcre = ["tokenizers/onig"]` that the crate's
    `default` reaches. Each declaration is reported once where it is written: the
    dependency's line in a member's manifest, or its `[workspace.dependencies]` entry
    when the feature is inherited from there (only if some member inherits it).

    A feature entry that `default` does not reach is the fix, not the problem: it lets
    users opt in (the checklist's Option A, `tokenizers-pcre = ["tokenizers/onig"]`).
    `[dev-dependencies]` are not checked: they are built for tests, not by users.

    ## Why is this bad?
    These features compile a large C library from source for every build: `onig`
    builds the Oniguruma regex engine (the checklist's item 6: 8–18 MB and a C
    toolchain, when the pure-Rust default regex backend would do), `vendored` builds
    OpenSSL with its Perl-driven configure. Not in the default list, on purpose:
    `tokio/full` (tokio's own README recommends it to applications; its cost is Rust code
    of moderate size) and `reqwest/native-tls` (reqwest's default, links the system
    library instead of building one).

    ## Example
    ```toml
    [dependencies]
    tokenizers = { version = "0.20", default-features = false, features = ["onig"] }
    ```

    Use instead:
    ```toml
    [dependencies]
    tokenizers = { version = "0.20", default-features = false }

    [features]
    tokenizers-pcre = ["tokenizers/onig"]
    ```

    ## Options
    - `heavy-features` (list of strings): `crate/feature` pairs that are heavy.
    - `heavy-in-defaults` (list of strings): `crate/feature` pairs where the crate's
      own default features turn the heavy feature on (`tokenizers` defaults to `onig`).
    """

    code = "RO302"
    name = "heavy-dependency-feature"
    severity = Severity.WARNING
    checklist_item = "6"
    options: ClassVar[dict[str, Any]] = {
        "heavy-features": DEFAULT_HEAVY_FEATURES,
        "heavy-in-defaults": DEFAULT_HEAVY_IN_DEFAULTS,
    }

    def run(self, ctx: WorkspaceContext) -> Iterator[Finding]:
        heavy = {str(p) for p in self.option("heavy-features")}
        in_defaults = [str(p).split("/", 1) for p in self.option("heavy-in-defaults") if "/" in str(p)]
        hits: dict[tuple[str, str], _Hit] = {}
        for crate in ctx.crates:
            # A broken manifest is RO001's finding.
            if crate.manifest.doc is None:
                continue
            root = cargo.workspace_root(ctx.workspace, crate.manifest)
            deps = cargo.dependencies(crate.manifest, cargo.workspace_dependencies(root))
            for hit in self._declared(crate.manifest, root, deps, heavy, in_defaults):
                hits.setdefault((hit.manifest.path, hit.key), hit)
            for hit in self._from_default(crate.manifest, deps, heavy):
                hits.setdefault((hit.manifest.path, hit.key), hit)
        for hit in hits.values():
            yield ctx.report_manifest(self, hit.manifest, hit.line, hit.message, key=hit.key, fix_title=hit.fix_title)

    def _declared(
        self,
        manifest: Manifest,
        root: Manifest | None,
        deps: list[cargo.Dependency],
        heavy: set[str],
        in_defaults: list[list[str]],
    ) -> Iterator[_Hit]:
        for dep in deps:
            # Dev-dependencies are built for this crate's tests only, never for its users.
            if dep.kind == "dev":
                continue
            where = (manifest, dep.key)
            if dep.workspace and root is not None:
                where = (root, ("workspace", "dependencies", dep.name))
            for index, feature in enumerate(dep.features):
                if f"{dep.package}/{feature}" in heavy:
                    line = cargo.index(manifest).line(*dep.key, "features", index)
                    yield self._hit(manifest, line, dep.key, dep, feature, "features")
            for index, feature in enumerate(dep.inherited_features):
                if f"{dep.package}/{feature}" in heavy and root is not None:
                    line = cargo.index(root).line(*where[1], "features", index)
                    yield self._hit(root, line, where[1], dep, feature, "features")
            for package, feature in in_defaults:
                # `default-features = false` keeps the crate's heavy default off.
                if dep.package == package and dep.default_features and feature not in dep.all_features:
                    line = cargo.index(where[0]).line(*where[1])
                    yield self._hit(where[0], line, where[1], dep, feature, "default")

    def _from_default(self, manifest: Manifest, deps: list[cargo.Dependency], heavy: set[str]) -> Iterator[_Hit]:
        graph = cargo.FeatureGraph(manifest, deps)
        parents = graph.closure("default")
        for node in parents:
            if node[0] != "dep-feature":
                continue
            written, feature = node[1].split("/", 1)
            dep_name = written.rstrip("?")
            packages = {d.package for d in graph.deps.get(dep_name, [])}
            if not any(f"{p}/{feature}" in heavy for p in packages):
                continue
            # A weak `x?/f` only applies when something else turns the optional `x` on.
            if graph.optional(dep_name) and ("dep", dep_name) not in parents:
                continue
            parent = parents[node]
            owner = parent[1] if parent is not None else "default"
            values = graph.explicit.get(owner, ())
            position = next((i for i, v in enumerate(values) if v == node[1]), None)
            path = ("features", owner) if position is None else ("features", owner, position)
            route = " → ".join(cargo.chain(parents, node))
            yield _Hit(
                manifest,
                cargo.index(manifest).line(*path),
                ".".join(("features", owner, node[1])),
                f"Make `{node[1]}` opt-in: the default features turn on this heavy feature ({route})",
                f"Move `{node[1]}` into a feature that `default` does not include",
            )

    def _hit(
        self,
        manifest: Manifest,
        line: int,
        key: tuple[str | int, ...],
        dep: cargo.Dependency,
        feature: str,
        how: str,
    ) -> _Hit:
        anchor = ".".join(str(k) for k in (*key, how, feature))
        if how == "default":
            return _Hit(
                manifest,
                line,
                anchor,
                f"Set `default-features = false` on `{dep.name}`: "
                f"its default features turn on the heavy feature `{feature}`",
                f"Add `default-features = false` and list only the `{dep.package}` features you use",
            )
        return _Hit(
            manifest,
            line,
            anchor,
            f"Drop the heavy feature `{feature}` from `{dep.name}`, or enable it only from an opt-in feature",
            f'Remove `"{feature}"` here and add e.g. `{dep.name}-{feature} = ["{dep.name}/{feature}"]` '
            "under `[features]`",
        )
