"""Source trees: a directory on disk, or a git commit read straight from the object store.

Both give the same view: POSIX paths relative to the analysed root, the bytes of each
file, and a content id (the git blob id, computed the same way for files on disk) that
keys the per-file cache. Symlinks are never followed out of the root: on disk a link is
used only when its target resolves inside the root; in git a link is a blob holding a
path, and it is skipped.

A git tree reads as little as it can (see :class:`GitTree`), so a CI clone that lacks
most blobs — ``git clone --filter=blob:none``, a mirror without large files — costs only
the blobs the rules read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
SKIPPED_DIRS = frozenset({".git", "target", "node_modules", ".hg", ".svn"})


def git_blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob, so disk and git trees share cache keys."""
    header = f"blob {len(data)}\0".encode()
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative, POSIX
    size: int | None  # None for git trees: sizing a blob needs it present (see GitTree.sizes)
    blob_id: str | None  # known up front for git trees, computed on read for directories


class SourceTree:
    """Read-only view of a tree of files."""

    label: str

    def entries(self) -> dict[str, Entry]:
        raise NotImplementedError

    def read(self, path: str) -> bytes:
        raise NotImplementedError

    def read_many(self, paths: list[str]) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            yield path, self.read(path)

    def blob_id(self, path: str) -> str:
        entry = self.entries()[path]
        return entry.blob_id or git_blob_id(self.read(path))

    def exists(self, path: str) -> bool:
        return path in self.entries()

    def files_in(self, directory: str) -> list[str]:
        """Paths of the files directly in ``directory`` ("" for the root), from one index."""
        index: dict[str, list[str]] | None = getattr(self, "_files_by_dir", None)
        if index is None:
            index = {}
            for path in self.entries():
                index.setdefault(posixpath.dirname(path), []).append(path)
            self._files_by_dir = index
        return index.get(directory, [])

    def sizes(self, paths: Iterable[str]) -> dict[str, int]:
        """Byte sizes of these files (unknown paths left out)."""
        entries = self.entries()
        return {p: e.size if e.size is not None else len(self.read(p)) for p in paths if (e := entries.get(p))}

    def read_text(self, path: str) -> str:
        return self.read(path).decode("utf-8", errors="replace")


class DirectoryTree(SourceTree):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = str(root)
        self._entries: dict[str, Entry] | None = None

    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = dict(self._walk())
        return self._entries

    def _walk(self) -> Iterator[tuple[str, Entry]]:
        # followlinks=False: a directory symlink could loop or leave the root.
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in sorted(filenames):
                full = Path(dirpath, name)
                if full.is_symlink() and not self._inside_root(full):
                    continue
                try:
                    stat = full.stat()
                except OSError:  # dangling link, permission denied
                    continue
                if not full.is_file():
                    continue
                rel = full.relative_to(self.root).as_posix()
                yield rel, Entry(rel, stat.st_size, None)

    def _inside_root(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def read(self, path: str) -> bytes:
        if path not in self.entries():
            raise FileNotFoundError(path)
        return (self.root / path).read_bytes()


class GitError(RuntimeError):
    pass


class MissingBlobError(GitError):
    """A file the rules read has no blob in the object store (an incomplete or partial
    clone); its message is one sentence naming the file and the fix."""

    def __init__(self, path: str, blob_id: str, *, partial: bool, fetched: bool) -> None:
        if not partial:
            why = "this clone has no promisor remote to fetch it from"
            fix = "clone the repository again without a filter, or restore its objects (`git fetch --refetch origin`)"
        elif fetched:
            why = "the promisor remote did not send it when asked"
            fix = "check that the remote still has this commit, or clone again"
        else:
            why = "fetching is turned off"
            fix = "run without --no-fetch so ruvopt fetches the blobs it reads"
        super().__init__(f"`{path}` (blob {blob_id[:12]}) is not in the clone's object store and {why}; {fix}")
        self.path, self.blob_id = path, blob_id


# GIT_NO_LAZY_FETCH (git's 2024 security releases on, 2.39.4 included): reading a blob a
# partial clone lacks fails instead of silently fetching it, so nothing under checks/
# touches the network; fetching is the caller's choice (``BlobFetcher``). Either way
# ``cat-file`` dies on such a blob, so GitTree never asks it for one it knows is missing.
GIT_READ_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_TERMINAL_PROMPT": "0"}

BlobFetcher = Callable[[list[str]], None]  # fetches these object ids (blobs, a root tree) into the repo


def run_git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=input_bytes,
        capture_output=True,
        check=False,
        env={**os.environ, **GIT_READ_ENV},
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def is_partial_clone(repo: Path) -> bool:
    """Whether ``repo`` has a promisor remote (``git clone --filter`` or ``fetch --filter``)."""
    try:
        out = run_git(repo, "config", "--get-regexp", r"^(remote\..*\.promisor|extensions\.partialclone)$")
    except GitError:  # exit 1: no such key
        return False
    return any(
        value.strip().lower() not in (b"false", b"no", b"off", b"0", b"")
        for _, _, value in (line.partition(b" ") for line in out.splitlines())
    )


def is_shallow_clone(repo: Path) -> bool:
    return run_git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"


class GitTree(SourceTree):
    """A commit's tree, read with ``git ls-tree`` and one ``git cat-file --batch`` process.

    Lean on purpose, for clones that lack blobs (blobless partial clones, mirrors without
    large files): the listing asks git for no sizes (``ls-tree --long`` would need every
    blob of the commit), and only the blobs that are read are looked up — in one batch per
    ``read_many`` call, and on the first single ``read`` together with every path
    ``wanted`` names (the manifests and docs the rules read one by one). Blobs missing
    there are fetched in one go by ``fetch_blobs`` when given (partial clones only), else
    reading them raises :class:`MissingBlobError`; a missing blob nobody reads is ignored.
    """

    def __init__(
        self,
        repo: Path,
        rev: str,
        *,
        fetch_blobs: BlobFetcher | None = None,
        wanted: Callable[[str], bool] | None = None,
        subdir: str = "",
    ) -> None:
        self.repo = repo
        # A folder of the commit ("crates/ws/"): the tree is that folder, paths relative to it.
        self.subdir = subdir.strip("/") + "/" if subdir.strip("/") else ""
        try:
            self.commit = run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        except GitError:
            raise GitError(f"`{rev}` does not name a commit in {repo}") from None
        self.label = f"{rev} ({self.commit[:12]})"
        self.fetch_blobs = fetch_blobs
        self.wanted = wanted
        self._entries: dict[str, Entry] | None = None
        self._batch: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._partial: bool | None = None
        self._unlisted_missing: set[str] | None = None  # partial clones: missing blobs of the tree
        self._present: set[str] = set()
        self._absent: set[str] = set()
        self._fetched: set[str] = set()
        self._sizes: dict[str, int] = {}
        self._companions_done = False

    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = dict(self._list())
        return self._entries

    def _ls_tree(self) -> bytes:
        """The recursive listing; a treeless clone (``--filter=tree:0``) lacks the trees, and
        fetching the root tree by id with the caller's fetcher brings it with its subtrees."""
        argv: tuple[str, ...] = ("ls-tree", "-r", "-z", "--full-tree", self.commit)
        if self.subdir:
            argv += ("--", f":(literal){self.subdir}")
        try:
            return run_git(self.repo, *argv)
        except GitError:
            if not self.partial:
                raise
        if self.fetch_blobs is None:
            raise GitError(
                f"the trees of {self.label} are not in this partial clone and fetching is turned off; "
                "run without --no-fetch so ruvopt fetches them"
            ) from None
        # The commit names its tree; `rev-parse X^{tree}` would read the missing tree itself.
        root = run_git(self.repo, "cat-file", "commit", self.commit).split(b"\n", 1)[0].split()[1].decode()
        self.fetch_blobs([root])
        return run_git(self.repo, *argv)

    def _list(self) -> Iterator[tuple[str, Entry]]:
        out = self._ls_tree()
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, blob = meta.split()
            # 120000 = symlink, 160000 = submodule: neither is file content of this tree.
            if kind != b"blob" or mode == b"120000":
                continue
            path = raw_path.decode("utf-8", errors="surrogateescape")
            if not path.startswith(self.subdir):
                continue
            path = path[len(self.subdir) :]
            if any(part in SKIPPED_DIRS for part in path.split("/")[:-1]):
                continue
            yield path, Entry(path, None, blob.decode())

    @property
    def partial(self) -> bool:
        if self._partial is None:
            self._partial = is_partial_clone(self.repo)
        return self._partial

    def prefetch(self, paths: Iterable[str]) -> None:
        """Make sure the blobs of ``paths`` are here: look them up in one batch, fetch the
        missing ones in one go (when a fetcher is set), remember what is still missing."""
        entries = self.entries()
        todo = {e.blob_id for p in paths if (e := entries.get(p)) and e.blob_id}
        todo -= self._present | self._absent
        if not todo:
            return
        missing = self._missing(todo)
        if missing and self.fetch_blobs is not None:
            self.fetch_blobs(sorted(missing))
            self._fetched |= missing
            self._unlisted_missing = None  # listed again: the fetch brought them
            missing = self._missing(missing)
        self._absent |= missing
        self._present |= todo - missing

    def sizes(self, paths: Iterable[str]) -> dict[str, int]:
        wanted = [p for p in paths if p in self.entries()]
        self.prefetch(wanted)
        blobs = {p: self.entries()[p].blob_id or "" for p in wanted}
        return {p: self._sizes[b] for p, b in blobs.items() if b in self._sizes}

    def _missing(self, blobs: set[str]) -> set[str]:
        """Which of ``blobs`` the object store lacks, sizing the others (``--batch-check``).

        In a partial clone ``--batch-check`` does not answer "missing": it fetches the
        object (one request each) or, lazy fetching off, dies. So there the missing ones
        come first from one ``rev-list --missing=print`` over the tree, which never fetches.
        """
        missing: set[str] = set()
        if self.partial:
            if self._unlisted_missing is None:
                out = run_git(self.repo, "rev-list", "--objects", "--no-walk", "--missing=print", self.commit)
                self._unlisted_missing = {line[1:].decode() for line in out.splitlines() if line.startswith(b"?")}
            missing = blobs & self._unlisted_missing
        asked = sorted(blobs - missing)
        out = run_git(
            self.repo,
            "cat-file",
            "--batch-check=%(objectname) %(objectsize)",
            "--buffer",
            input_bytes="".join(f"{b}\n" for b in asked).encode(),
        )
        for line in out.decode().splitlines():
            oid, _, size = line.partition(" ")
            if size == "missing":
                missing.add(oid)
            else:
                self._sizes[oid] = int(size)
        return missing

    def _companions(self) -> list[str]:
        if self._companions_done or self.wanted is None:
            return []
        self._companions_done = True
        return [p for p in self.entries() if self.wanted(p)]

    def _check_present(self, path: str, blob_id: str) -> None:
        if blob_id in self._absent:
            raise MissingBlobError(path, blob_id, partial=self.partial, fetched=blob_id in self._fetched)

    def read(self, path: str) -> bytes:
        entry = self.entries().get(path)
        if entry is None or entry.blob_id is None:  # the same error as DirectoryTree
            raise FileNotFoundError(path)
        if entry.blob_id not in self._present:
            self.prefetch([path, *self._companions()])
        self._check_present(path, entry.blob_id)
        return self.read_blob(entry.blob_id)

    def require(self, paths: list[str]) -> None:
        """Fetch what ``paths`` lack (see :meth:`prefetch`); raise for the first still missing."""
        self.prefetch(paths)
        entries = self.entries()
        for path in paths:
            entry = entries.get(path)
            if entry is not None and entry.blob_id is not None:
                self._check_present(path, entry.blob_id)

    def read_many(self, paths: list[str]) -> Iterator[tuple[str, bytes]]:
        self.require(paths)  # fail before the first byte is handed out, not half-way
        for path in paths:
            yield path, self.read(path)

    def read_blob(self, blob_id: str) -> bytes:
        with self._lock:
            proc = self._cat_file()
            assert proc.stdin is not None
            assert proc.stdout is not None
            proc.stdin.write(blob_id.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise GitError(f"cat-file: {b' '.join(header).decode(errors='replace') or 'no answer'}")
            size = int(header[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after every object
            return data

    def _cat_file(self) -> subprocess.Popen[bytes]:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", "-C", str(self.repo), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **GIT_READ_ENV},
            )
        return self._batch

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait()
            self._batch = None

    def __del__(self) -> None:  # pragma: no cover - best effort cleanup
        with contextlib.suppress(Exception):
            self.close()


def open_tree(path: Path, rev: str | None) -> SourceTree:
    return GitTree(path, rev) if rev else DirectoryTree(path)
