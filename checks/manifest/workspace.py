"""The Cargo workspace model: which crates exist, their manifests, roots and files.

Manifests are read with ``tomllib`` (nothing edits the parsed value, and it is eight times
faster than tomlkit on a monorepo's 300 manifests); one that ``tomllib`` rejects is read
again with tomlkit, which accepts TOML 1.1 as Cargo does and, when the text really is
broken, gives the error with line and column, so a rule can report it where it is
instead of the scan crashing. A manifest is read and parsed on first use: a warm re-check
whose workspace model and crate results come from the cache parses none.
"""

from __future__ import annotations

import fnmatch
import posixpath
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import tomlkit
import tomlkit.exceptions

from ruvopt.checks.manifest.limits import over_limits
from ruvopt.checks.source import SourceTree


@dataclass(frozen=True, slots=True)
class ManifestError:
    line: int
    col: int
    message: str
    over_limits: bool = False  # not parsed at all (checks/manifest/limits.py): nothing to locate


# What a manifest's text parses to: (value, None) or (None, error). JSON-able through
# ``facts_to_json`` so the per-blob cache can keep it.
ManifestFacts = tuple[dict[str, Any] | None, ManifestError | None]


def read_toml(text: str) -> ManifestFacts:
    too_big = over_limits(text)
    if too_big is not None:  # reported as RO001 at line 1, like any manifest that cannot be read
        return None, ManifestError(1, 1, f"this manifest is not checked: {too_big}", True)
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError:
        pass  # TOML 1.1 that tomllib (1.0) refuses, or a real mistake: tomlkit decides
    try:
        return tomlkit.parse(text).unwrap(), None
    except tomlkit.exceptions.ParseError as exc:
        message = str(exc).rsplit(" at line", 1)[0]
        return None, ManifestError(exc.line, exc.col, message)
    except Exception as exc:  # tomlkit raises plain errors on some invalid input
        return None, ManifestError(1, 1, str(exc))


def facts_to_json(facts: ManifestFacts) -> dict[str, Any]:
    doc, error = facts
    return {"doc": doc, "error": None if error is None else [error.line, error.col, error.message, error.over_limits]}


def facts_from_json(data: dict[str, Any]) -> ManifestFacts:
    error = data["error"]
    return data["doc"], None if error is None else ManifestError(*error)


class Manifest:
    """One TOML file: its text and parsed value, each read on first use when lazy."""

    __slots__ = ("_facts", "_parse", "_read", "_text", "path")

    def __init__(
        self,
        path: str,
        text: str | None = None,
        doc: dict[str, Any] | None = None,
        error: ManifestError | None = None,
    ) -> None:
        self.path = path
        self._text = text
        self._facts: ManifestFacts | None = (doc, error) if text is not None else None
        self._read: Callable[[], str] | None = None
        self._parse: Callable[[], ManifestFacts] | None = None

    @classmethod
    def lazy(cls, path: str, read: Callable[[], str], parse: Callable[[], ManifestFacts]) -> Manifest:
        manifest = cls(path)
        manifest._read, manifest._parse = read, parse
        return manifest

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._read() if self._read is not None else ""
        return self._text

    @property
    def facts(self) -> ManifestFacts:
        if self._facts is None:
            self._facts = self._parse() if self._parse is not None else read_toml(self.text)
        return self._facts

    @property
    def doc(self) -> dict[str, Any] | None:
        return self.facts[0]

    @property
    def error(self) -> ManifestError | None:
        return self.facts[1]

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    def table(self, *keys: str) -> dict[str, Any]:
        """The table at ``keys`` ("package", "metadata"…), or {} when absent or not a table."""
        node: Any = self.doc
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return {}
            node = node[key]
        return node if isinstance(node, dict) else {}

    def line_of(self, needle: str, after: str | None = None) -> int:
        """1-based line of the first line starting with ``needle`` (after a header line)."""
        lines = self.text.split("\n")
        start = 0
        if after is not None:
            start = next((i + 1 for i, ln in enumerate(lines) if ln.strip() == after), 0)
        for i in range(start, len(lines)):
            if lines[i].lstrip().startswith(needle):
                return i + 1
        return 1


def parse_manifest(path: str, data: bytes) -> Manifest:
    text = data.decode("utf-8", errors="replace")
    doc, error = read_toml(text)
    return Manifest(path, text, doc, error)


@dataclass(slots=True)
class Crate:
    name: str
    dir: str  # "" for a crate at the analysed root
    manifest: Manifest
    lib_root: str | None = None
    bin_roots: list[str] = field(default_factory=list)
    rs_files: list[str] = field(default_factory=list)
    autobins: bool = True  # Cargo discovers src/main.rs and src/bin/ targets by itself

    @property
    def root(self) -> str | None:
        """The crate root whose numbers the metrics report: the library, else the binary."""
        return self.lib_root or (self.bin_roots[0] if self.bin_roots else None)

    @property
    def roots(self) -> list[str]:
        return ([self.lib_root] if self.lib_root else []) + self.bin_roots

    @property
    def display_dir(self) -> str:
        return self.dir or "."

    def rel(self, path: str) -> str:
        return str(PurePosixPath(self.dir, path)) if self.dir else path


# The part of the model that depends on the manifests alone, so it can be cached by their
# blobs: per crate [name, dir, lib root, bin roots, autobins] before the tree's files are
# known (``_assign_files`` settles which roots exist).
CrateModel = list[list[Any]]


@dataclass(slots=True)
class Workspace:
    tree: SourceTree
    root_manifest: Manifest | None
    crates: list[Crate]
    manifests: list[Manifest]  # every manifest of the tree, broken ones included
    model: CrateModel = field(default_factory=list, repr=False)  # the crates as the manifests declare them
    # Manifests by directory; an init field so that ``dataclasses.replace`` (a view with
    # another tree) shares it instead of building it again.
    by_dir: dict[str, Manifest] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.by_dir:
            self.by_dir = {m.directory: m for m in self.manifests}

    def crate_of(self, path: str) -> Crate | None:
        best: Crate | None = None
        for crate in self.crates:
            if (not crate.dir or path.startswith(crate.dir + "/")) and (best is None or len(crate.dir) > len(best.dir)):
                best = crate
        return best

    def ancestor_manifests(self, directory: str) -> list[Manifest]:
        """The manifests in ``directory`` and each directory above it, nearest first."""
        found = []
        while True:
            manifest = self.by_dir.get(directory)
            if manifest is not None:
                found.append(manifest)
            if not directory:
                return found
            directory = posixpath.dirname(directory)


def glob_match(path: str, pattern: str) -> bool:
    """Cargo-style member glob: ``*`` stays inside one path segment, ``**`` spans any."""
    parts = PurePosixPath(path).parts if path else ()
    pats = PurePosixPath(pattern.strip("/")).parts if pattern.strip("/") not in ("", ".") else ()
    return _match_parts(parts, pats)


def _match_parts(parts: tuple[str, ...], pats: tuple[str, ...]) -> bool:
    if not pats:
        return not parts
    if pats[0] == "**":
        return any(_match_parts(parts[i:], pats[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pats[0]) and _match_parts(parts[1:], pats[1:])


def manifest_paths(tree: SourceTree) -> list[str]:
    return sorted(p for p in tree.entries() if posixpath.basename(p) == "Cargo.toml")


def load_workspace(
    tree: SourceTree, *, parse: Callable[[str], ManifestFacts] | None = None, model: CrateModel | None = None
) -> Workspace:
    """The workspace of ``tree``. ``parse(path)`` gives a manifest's facts (default: read and
    parse it); ``model`` is a crate model cached for these manifests (default: build it)."""
    paths = {posixpath.dirname(p): p for p in manifest_paths(tree)}
    manifests = {d: _lazy_manifest(tree, paths[d], parse) for d in sorted(paths)}
    if model is None:
        model = crate_model(manifests)
    crates = [
        Crate(name, directory, manifests[directory], lib_root, list(bin_roots), autobins=autobins)
        for name, directory, lib_root, bin_roots, autobins in model
    ]
    _assign_files(crates, list(tree.entries()), set(manifests))
    return Workspace(tree, manifests.get(""), crates, list(manifests.values()), model)


def crate_model(manifests: dict[str, Manifest]) -> CrateModel:
    crates = [_make_crate(d, manifests[d]) for d in _member_dirs(manifests.get(""), manifests)]
    return [[c.name, c.dir, c.lib_root, list(c.bin_roots), c.autobins] for c in crates]


def _lazy_manifest(tree: SourceTree, path: str, parse: Callable[[str], ManifestFacts] | None) -> Manifest:
    def facts() -> ManifestFacts:
        return parse(path) if parse is not None else read_toml(tree.read_text(path))

    return Manifest.lazy(path, lambda: tree.read_text(path), facts)


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _member_dirs(root: Manifest | None, manifests: dict[str, Manifest]) -> list[str]:
    workspace = root.table("workspace") if root else {}
    if root is None or (root.doc is not None and not workspace):
        # Single-crate repository, or no root manifest: every package manifest is a crate.
        return [d for d, m in manifests.items() if m.doc is None or m.table("package")]
    if root.doc is None:
        return [""]  # broken root manifest: still report it, as the one crate we know
    members = [str(m) for m in workspace.get("members", []) if isinstance(m, str)]
    excludes = [str(m) for m in workspace.get("exclude", []) if isinstance(m, str)]
    dirs = [
        d
        for d in manifests
        if d
        and any(glob_match(d, pat) for pat in members)
        and not any(glob_match(d, pat) or d.startswith(pat.rstrip("/") + "/") for pat in excludes)
    ]
    if root.table("package"):
        dirs.insert(0, "")
    return dirs


def _make_crate(directory: str, manifest: Manifest) -> Crate:
    package = manifest.table("package")
    name = package.get("name")
    crate = Crate(
        name=str(name) if isinstance(name, str) else (PurePosixPath(directory).name or "root"),
        dir=directory,
        manifest=manifest,
    )
    lib = manifest.table("lib")
    crate.lib_root = crate.rel(str(lib["path"]) if isinstance(lib.get("path"), str) else "src/lib.rs")
    bins = manifest.doc.get("bin", []) if manifest.doc is not None else []
    crate.bin_roots = [crate.rel(p) for b in bins if isinstance(b, dict) for p in _bin_paths(b, crate.name)]
    # Cargo's target auto-discovery (on unless `autobins = false`): src/main.rs and
    # src/bin/*.rs, src/bin/*/main.rs; the latter two are added once the files are known.
    crate.autobins = package.get("autobins", True) is not False
    if crate.autobins or not crate.bin_roots:
        crate.bin_roots.append(crate.rel("src/main.rs"))
    return crate


def _bin_paths(target: dict[str, Any], package_name: str) -> list[str]:
    """A ``[[bin]]`` target's root: its ``path``, else where Cargo looks for its name."""
    if isinstance(target.get("path"), str):
        return [str(target["path"])]
    name = target.get("name")
    if not isinstance(name, str):
        return []
    guesses = [f"src/bin/{name}.rs", f"src/bin/{name}/main.rs"]
    return [*guesses, "src/main.rs"] if name == package_name else guesses


def _assign_files(crates: list[Crate], paths: list[str], manifest_dirs: set[str]) -> None:
    """Every ``.rs`` file belongs to the crate whose directory holds it most closely."""
    by_dir = {c.dir: c for c in crates}
    for path in sorted(paths):
        if not path.endswith(".rs"):
            continue
        owner = _owning_dir(path, manifest_dirs)
        crate = by_dir.get(owner) if owner is not None else None
        if crate is not None:
            crate.rs_files.append(path)
    present = set(paths)
    for crate in crates:
        if crate.lib_root not in present:
            crate.lib_root = None
        if crate.autobins:
            crate.bin_roots += [p for p in crate.rs_files if _is_auto_bin(crate.dir, p)]
        # Present roots only, each once, in declaration order.
        crate.bin_roots = list(dict.fromkeys(b for b in crate.bin_roots if b in present))


def _is_auto_bin(crate_dir: str, path: str) -> bool:
    """``src/bin/x.rs`` or ``src/bin/x/main.rs`` under the crate directory."""
    rel = tuple((path[len(crate_dir) + 1 :] if crate_dir else path).split("/"))
    return rel[:2] == ("src", "bin") and (len(rel) == 3 or (len(rel) == 4 and rel[3] == "main.rs"))


def _owning_dir(path: str, manifest_dirs: set[str]) -> str | None:
    directory = posixpath.dirname(path)  # string ops: this runs once per file of the tree
    while True:
        if directory in manifest_dirs:
            return directory
        if directory == "":
            return None
        directory = posixpath.dirname(directory)
