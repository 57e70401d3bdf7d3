"""The Cargo workspace model: which crates exist, their manifests, roots and files.

Manifests are read with tomlkit so that a suggested edit can keep the file's style. A
manifest that does not parse is kept with its error (line and column) so a rule can
report it where it is, instead of the scan crashing.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.toml_document import TOMLDocument

from ruvopt.checks.manifest.limits import over_limits
from ruvopt.checks.source import SourceTree


@dataclass(frozen=True, slots=True)
class ManifestError:
    line: int
    col: int
    message: str
    over_limits: bool = False  # not parsed at all (checks/manifest/limits.py): nothing to locate


@dataclass(slots=True)
class Manifest:
    path: str
    text: str
    doc: TOMLDocument | None
    error: ManifestError | None = None

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
    too_big = over_limits(text)
    if too_big is not None:  # reported as RO001 at line 1, like any manifest that cannot be read
        return Manifest(path, text, None, ManifestError(1, 1, f"this manifest is not checked: {too_big}", True))
    try:
        return Manifest(path, text, tomlkit.parse(text))
    except tomlkit.exceptions.ParseError as exc:
        message = str(exc).rsplit(" at line", 1)[0]
        return Manifest(path, text, None, ManifestError(exc.line, exc.col, message))
    except Exception as exc:  # tomlkit raises plain errors on some invalid input
        return Manifest(path, text, None, ManifestError(1, 1, str(exc)))


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


@dataclass(slots=True)
class Workspace:
    tree: SourceTree
    root_manifest: Manifest | None
    crates: list[Crate]
    manifests: list[Manifest]  # every manifest that was read, broken ones included

    def crate_of(self, path: str) -> Crate | None:
        best: Crate | None = None
        for crate in self.crates:
            if (not crate.dir or path.startswith(crate.dir + "/")) and (
                best is None or len(crate.dir) > len(best.dir)
            ):
                best = crate
        return best


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


def load_workspace(tree: SourceTree) -> Workspace:
    entries = tree.entries()
    manifest_dirs = sorted(
        str(PurePosixPath(p).parent) if "/" in p else ""
        for p in entries
        if PurePosixPath(p).name == "Cargo.toml"
    )
    manifests = {d: parse_manifest(_join(d, "Cargo.toml"), tree.read(_join(d, "Cargo.toml"))) for d in manifest_dirs}
    root = manifests.get("")
    crate_dirs = _member_dirs(root, manifests)
    crates = [_make_crate(d, manifests[d]) for d in crate_dirs]
    _assign_files(crates, list(entries), set(manifest_dirs))
    return Workspace(tree, root, crates, list(manifests.values()))


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
            crate.bin_roots += [p for p in crate.rs_files if _is_auto_bin(crate.rel(""), p)]
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
