"""Cargo manifest queries shared by the manifest rules: dependencies and the feature graph.

Dependencies are read from every table Cargo reads them from (``[dependencies]``,
``[build-dependencies]``, ``[dev-dependencies]`` and their ``[target.'cfg(..)'.*]``
forms, with the legacy ``dev_dependencies`` spelling), renamed dependencies
(``tk = { package = "tokenizers" }``) keep both names, and ``x.workspace = true`` is
resolved against the root's ``[workspace.dependencies]`` the way Cargo merges them
(features are the union, ``default-features`` comes from the workspace entry).

The feature graph follows Cargo's feature resolver: ``"dep:x"`` enables the optional
dependency ``x``; ``"x/f"`` enables ``x`` (and its implicit feature) plus ``x``'s feature
``f``; the weak ``"x?/f"`` enables ``f`` only if something else enables ``x``; an optional
dependency never named as ``dep:x`` gets an implicit feature ``x = ["dep:x"]``.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ruvopt.checks.manifest.toml_lines import TomlLines
from ruvopt.checks.manifest.workspace import Manifest, Workspace

DEP_TABLES = {
    "dependencies": "normal",
    "build-dependencies": "build",
    "build_dependencies": "build",
    "dev-dependencies": "dev",
    "dev_dependencies": "dev",
}

# A node of the feature graph: ("feature", name), ("dep", name) or ("dep-feature", "x/f"
# or "x?/f", as written).
Node = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str  # the key in the manifest: the name code uses (after `-` → `_`)
    package: str  # the crate's name on the registry (differs when renamed)
    kind: str  # normal | build | dev
    key: tuple[str, ...]  # where it is declared, e.g. ("target", "cfg(unix)", "dependencies", "x")
    optional: bool
    default_features: bool
    features: tuple[str, ...]  # written on this declaration
    inherited_features: tuple[str, ...] = ()  # from [workspace.dependencies]
    workspace: bool = False  # `x.workspace = true`

    @property
    def ident(self) -> str:
        """The identifier Rust code uses for this dependency."""
        return self.name.replace("-", "_")

    @property
    def all_features(self) -> tuple[str, ...]:
        return self.inherited_features + self.features


def workspace_root(workspace: Workspace, manifest: Manifest) -> Manifest | None:
    """The manifest whose ``[workspace]`` this one belongs to: the nearest ancestor with one."""
    for candidate in workspace.ancestor_manifests(manifest.directory):
        if candidate.doc is not None and candidate.table("workspace"):
            return candidate
    return None


def workspace_dependencies(root: Manifest | None) -> dict[str, Any]:
    return root.table("workspace", "dependencies") if root is not None else {}


def dependencies(manifest: Manifest, workspace_deps: dict[str, Any] | None = None) -> list[Dependency]:
    """Every dependency declaration of ``manifest``, in manifest order."""
    found: list[Dependency] = []
    for table_name, kind in DEP_TABLES.items():
        found += _declarations(manifest.table(table_name), (table_name,), kind, workspace_deps or {})
    for target, spec in manifest.table("target").items():
        if not isinstance(spec, dict):
            continue
        for table_name, kind in DEP_TABLES.items():
            table = spec.get(table_name)
            if isinstance(table, dict):
                found += _declarations(table, ("target", str(target), table_name), kind, workspace_deps or {})
    return found


def _declarations(
    table: dict[str, Any], prefix: tuple[str, ...], kind: str, ws_deps: dict[str, Any]
) -> list[Dependency]:
    found = []
    for name, spec in table.items():
        spec = spec if isinstance(spec, dict) else {"version": spec}
        inherited: dict[str, Any] = {}
        if spec.get("workspace") is True:
            raw = ws_deps.get(name, {})
            inherited = raw if isinstance(raw, dict) else {"version": raw}
        package = spec.get("package", inherited.get("package", name))
        default_features = inherited.get("default-features", inherited.get("default_features", True))
        if not inherited:
            default_features = spec.get("default-features", spec.get("default_features", True))
        found.append(
            Dependency(
                name=str(name),
                package=str(package),
                kind=kind,
                key=(*prefix, str(name)),
                optional=spec.get("optional") is True,
                default_features=default_features is not False,
                features=_strings(spec.get("features")),
                inherited_features=_strings(inherited.get("features")),
                workspace=spec.get("workspace") is True,
            )
        )
    return found


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()


class FeatureGraph:
    """The ``[features]`` table of one manifest, with implicit features and closures."""

    def __init__(self, manifest: Manifest, deps: list[Dependency]) -> None:
        raw = manifest.table("features")
        self.explicit: dict[str, tuple[str, ...]] = {str(k): _strings(v) for k, v in raw.items()}
        self.deps: dict[str, list[Dependency]] = {}
        for dep in deps:
            if dep.kind != "dev":  # dev-dependencies cannot be optional or named by features
                self.deps.setdefault(dep.name, []).append(dep)
        named = {v[4:] for values in self.explicit.values() for v in values if v.startswith("dep:")}
        self.implicit: dict[str, tuple[str, ...]] = {
            name: (f"dep:{name}",)
            for name, decls in self.deps.items()
            if any(d.optional for d in decls) and name not in named and name not in self.explicit
        }
        self._closures: dict[str, dict[Node, Node | None]] = {}

    @cached_property
    def all(self) -> dict[str, tuple[str, ...]]:
        return {**self.implicit, **self.explicit}

    def optional(self, name: str) -> bool:
        return any(d.optional for d in self.deps.get(name, []))

    def edges(self, value: str) -> list[Node]:
        """What one entry of a feature's list names: a feature, a dependency, or `x/f`."""
        if value.startswith("dep:"):
            return [("dep", value[4:])]
        if "/" in value:
            return [("dep-feature", value)]  # `x/f` or the weak `x?/f`, as written
        return [("feature", value)] if value in self.all else []

    def children(self, node: Node) -> list[Node]:
        """What a node turns on: a feature its entries; a non-weak `x/f` the optional `x`."""
        kind, name = node
        if kind == "feature":
            return [child for value in self.all.get(name, ()) for child in self.edges(value)]
        dep = name.split("/", 1)[0]
        if kind != "dep-feature" or dep.endswith("?") or not self.optional(dep):
            return []
        return [("dep", dep), *([("feature", dep)] if dep in self.all else [])]

    def closure(self, *features: str) -> dict[Node, Node | None]:
        """Everything ``features`` turn on, each node mapped to the node that turned it on."""
        parents: dict[Node, Node | None] = {("feature", f): None for f in features if f in self.all}
        queue = deque(parents)
        while queue:
            node = queue.popleft()
            for child in self.children(node):
                if child not in parents:
                    parents[child] = node
                    queue.append(child)
        return parents

    def enables_dep(self, feature: str, dep: str) -> bool:
        if feature not in self._closures:
            self._closures[feature] = self.closure(feature)
        return ("dep", dep) in self._closures[feature]

    def features_enabling(self, dep: str) -> list[str]:
        """Features whose closure turns on the optional dependency ``dep``."""
        return [f for f in self.all if f != "default" and self.enables_dep(f, dep)]


@dataclass(frozen=True, slots=True)
class HeavyDefaults:
    """The optional dependencies matching ``heavy`` patterns that ``default`` turns on."""

    graph: FeatureGraph
    parents: dict[Node, Node | None]  # the closure of `default`
    names: list[str]  # dependency names as the manifest writes them, in closure order


def heavy_defaults(workspace: Workspace, manifest: Manifest, patterns: Sequence[str]) -> HeavyDefaults | None:
    """What RO301 flags and the ``heavy_default_dependencies`` metric counts, for a
    manifest with a ``default`` feature (None without one, or when it does not parse).
    Renamed dependencies match by their real crate name, inherited ones through the root's
    ``[workspace.dependencies]``."""
    if manifest.doc is None:
        return None
    defaults = manifest.table("features").get("default")
    if not isinstance(defaults, list) or not defaults:
        return None
    deps = dependencies(manifest, workspace_dependencies(workspace_root(workspace, manifest)))
    graph = FeatureGraph(manifest, deps)
    parents = graph.closure("default")
    names = []
    for kind, name in parents:
        if kind != "dep" or not graph.optional(name):
            continue
        packages = {d.package for d in graph.deps.get(name, [])}
        if any(fnmatch.fnmatchcase(p, pattern) for p in packages for pattern in patterns):
            names.append(name)
    return HeavyDefaults(graph, parents, names)


def chain(parents: dict[Node, Node | None], node: Node) -> list[str]:
    """``default → candle → candle-core``: the route by which a closure reached ``node``."""
    labels: list[str] = []
    current: Node | None = node
    while current is not None:
        label = current[1]
        if not labels or labels[-1] != label:  # an implicit feature and its dependency
            labels.append(label)
        current = parents.get(current)
    return labels[::-1]


def index(manifest: Manifest) -> TomlLines:
    """The line index of a manifest (cached on nothing: manifests are small)."""
    return TomlLines(manifest.text)
