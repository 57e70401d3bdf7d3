"""Source trees: a directory on disk, or a git commit read straight from the object store.

Both give the same view: POSIX paths relative to the analysed root, the bytes of each
file, and a content id (the git blob id, computed the same way for files on disk) that
keys the per-file cache. Symlinks are never followed out of the root: on disk a link is
used only when its target resolves inside the root; in git a link is a blob holding a
path, and it is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import subprocess
import threading
from collections.abc import Iterator
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
    size: int
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


def run_git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=input_bytes,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


class GitTree(SourceTree):
    """A commit's tree, read with ``git ls-tree`` and one ``git cat-file --batch`` process."""

    def __init__(self, repo: Path, rev: str) -> None:
        self.repo = repo
        self.commit = run_git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
        self.label = f"{rev} ({self.commit[:12]})"
        self._entries: dict[str, Entry] | None = None
        self._batch: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = dict(self._list())
        return self._entries

    def _list(self) -> Iterator[tuple[str, Entry]]:
        out = run_git(self.repo, "ls-tree", "-r", "-z", "--long", "--full-tree", self.commit)
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, blob, size = meta.split()
            # 120000 = symlink, 160000 = submodule: neither is file content of this tree.
            if kind != b"blob" or mode == b"120000":
                continue
            path = raw_path.decode("utf-8", errors="surrogateescape")
            if any(part in SKIPPED_DIRS for part in path.split("/")[:-1]):
                continue
            yield path, Entry(path, int(size), blob.decode())

    def read(self, path: str) -> bytes:
        entry = self.entries().get(path)
        if entry is None:  # the same error as DirectoryTree, so callers handle one kind
            raise FileNotFoundError(path)
        return self.read_blob(entry.blob_id or "")

    def read_blob(self, blob_id: str) -> bytes:
        with self._lock:
            proc = self._cat_file()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(blob_id.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise GitError(f"cat-file: {b' '.join(header).decode(errors='replace')}")
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
