"""What a re-check takes from the cache above the file level, keyed by the blobs it read.

- **Manifest facts** (a ``Cargo.toml``'s parsed value, or its error) by the manifest's blob.
- **The workspace model** (which crates exist, their roots) by the set of manifest blobs.
- **A crate's rule results and metrics** by what the crate-level rules read: the crate's
  files (their per-file facts are a function of their blobs), the manifests of the
  crate's directory and every directory above it (its own and its workspace root's), and
  anything else the rules looked at through the tree — a README, a feature guide, a
  ``package.readme`` file, a directory listing. Those extra reads are recorded while the
  rules run (:class:`RecordingTree`) and checked again before a cached result is used, so
  editing the root ``README.md`` re-runs the rules of the crates that read it, and editing
  one crate re-runs that crate's rules, not the workspace's.
- **The workspace rules' results** by every manifest blob, the selected crates and the
  files they read (``ruvopt.toml``, ``.cargo/config.toml``), recorded the same way.

Every key also holds the ruleset version and the configuration digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ruvopt.checks.cache import ResultCache
from ruvopt.checks.config import Config
from ruvopt.checks.manifest.workspace import (
    Crate,
    ManifestFacts,
    Workspace,
    facts_from_json,
    facts_to_json,
    load_workspace,
    manifest_paths,
    read_toml,
)
from ruvopt.checks.registry import ruleset_version
from ruvopt.checks.source import Entry, SourceTree

# Parsed manifests by blob, kept for the life of the process (the App's worker re-reviews
# the same repositories); bounded so a worker that sees many repositories stays small.
_FACTS_MEMORY: dict[str, ManifestFacts] = {}
FACTS_MEMORY_LIMIT = 20_000


def digest(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


class BlobIds:
    """Blob ids of a tree's files, each computed once (a directory tree hashes the file)."""

    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self._ids: dict[str, str] = {}

    def __getitem__(self, path: str) -> str:
        blob = self._ids.get(path)
        if blob is None:
            blob = self._ids[path] = self.tree.blob_id(path)
        return blob

    def get(self, path: str) -> str | None:
        """The blob id, or None when the tree has no such file."""
        return self[path] if self.tree.exists(path) else None

    def many(self, paths: list[str]) -> dict[str, str]:
        return {p: self[p] for p in paths}


class ManifestStore:
    """Manifest facts by blob: process memory, then the cache, then ``tomllib``."""

    def __init__(self, tree: SourceTree, cache: ResultCache, blobs: BlobIds) -> None:
        self.tree, self.cache, self.blobs = tree, cache, blobs

    def facts(self, path: str) -> ManifestFacts:
        return self.prefetch([path])[path]

    def prefetch(self, paths: list[str]) -> dict[str, ManifestFacts]:
        blob_of = {p: self.blobs[p] for p in paths}
        found = {b: _FACTS_MEMORY[b] for b in blob_of.values() if b in _FACTS_MEMORY}
        missing = sorted(set(blob_of.values()) - set(found))
        if missing:
            stored = self.cache.get_many(f"manifest:{b}" for b in missing)
            found.update((b, facts_from_json(stored[f"manifest:{b}"])) for b in missing if f"manifest:{b}" in stored)
            unread = [p for p, b in blob_of.items() if b not in found]
            parsed: dict[str, dict[str, Any]] = {}
            for path, data in self.tree.read_many(unread):  # one batch: partial clones fetch once
                found[blob_of[path]] = read_toml(data.decode("utf-8", errors="replace"))
                parsed[f"manifest:{blob_of[path]}"] = facts_to_json(found[blob_of[path]])
            if parsed and self.cache.enabled:
                self.cache.put_many(parsed)
            for blob in missing:
                _remember(blob, found[blob])
        return {p: found[b] for p, b in blob_of.items()}


def _remember(blob: str, facts: ManifestFacts) -> None:
    if len(_FACTS_MEMORY) >= FACTS_MEMORY_LIMIT:
        _FACTS_MEMORY.clear()
    _FACTS_MEMORY[blob] = facts


def cached_workspace(tree: SourceTree, cache: ResultCache, blobs: BlobIds) -> Workspace:
    """The workspace, its crate model from the cache when the manifests are the same."""
    if not cache.enabled:
        return load_workspace(tree)
    store = ManifestStore(tree, cache, blobs)
    paths = manifest_paths(tree)
    key = "model:" + digest(ruleset_version(), *(f"{p}:{blobs[p]}" for p in paths))
    row = cache.get_many([key]).get(key)
    if row is not None:
        return load_workspace(tree, parse=store.facts, model=row["crates"])
    store.prefetch(paths)  # every manifest is needed: one batched read
    workspace = load_workspace(tree, parse=store.facts)
    if cache.enabled:
        cache.put_many({key: {"crates": workspace.model}})
    return workspace


class RecordingTree(SourceTree):
    """A tree that remembers what was looked at: each path read or tested (with its blob id,
    None when absent) and each directory listed, so a cached result can be checked later."""

    def __init__(self, tree: SourceTree, blobs: BlobIds) -> None:
        self.tree, self.blobs, self.label = tree, blobs, tree.label
        self.reads: dict[str, str | None] = {}
        self.listings: dict[str, list[str]] = {}

    def _saw(self, path: str) -> None:
        if path not in self.reads:
            self.reads[path] = self.blobs.get(path)

    def entries(self) -> dict[str, Entry]:
        self.listings["*"] = [_paths_digest(self.tree)]
        return self.tree.entries()

    def read(self, path: str) -> bytes:
        self._saw(path)
        return self.tree.read(path)

    def read_many(self, paths: list[str]) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            self._saw(path)
        return self.tree.read_many(paths)

    def blob_id(self, path: str) -> str:
        self._saw(path)
        return self.tree.blob_id(path)

    def exists(self, path: str) -> bool:
        self._saw(path)
        return self.tree.exists(path)

    def files_in(self, directory: str) -> list[str]:
        found = self.tree.files_in(directory)
        self.listings[directory] = list(found)
        return found

    def deps(self) -> dict[str, Any]:
        return {"reads": self.reads, "listings": self.listings}


def _paths_digest(tree: SourceTree) -> str:
    return digest(*sorted(tree.entries()))


def deps_hold(deps: dict[str, Any], tree: SourceTree, blobs: BlobIds) -> bool:
    """Whether every recorded read and listing is the same in ``tree``."""
    for path, blob in deps["reads"].items():
        if blobs.get(path) != blob:
            return False
    for directory, listing in deps["listings"].items():
        current = [_paths_digest(tree)] if directory == "*" else tree.files_in(directory)
        if current != listing:
            return False
    return True


def crate_key(crate: Crate, workspace: Workspace, config: Config, blobs: BlobIds) -> str:
    """What a crate's rules are known to read; the rest is recorded (:class:`RecordingTree`)."""
    parts = [
        "crate",
        ruleset_version(),
        config.digest(),
        crate.name,
        crate.dir,
        repr(crate.roots),
        *(f"{p}:{blobs[p]}" for p in crate.rs_files),
        *(f"{m.path}:{blobs[m.path]}" for m in workspace.ancestor_manifests(crate.dir)),
    ]
    return "crate:" + digest(*parts)


def workspace_key(workspace: Workspace, crates: list[Crate], config: Config, blobs: BlobIds) -> str:
    parts = [
        "workspace",
        ruleset_version(),
        config.digest(),
        *(c.dir for c in crates),
        *(f"{m.path}:{blobs[m.path]}" for m in workspace.manifests),
    ]
    return "workspace:" + digest(*parts)
