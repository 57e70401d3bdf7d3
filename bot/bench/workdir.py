"""A commit as files on disk, from git objects only, and the layout of one side's scratch.

``git archive`` writes the commit's tree as a tar (no checkout: no hooks, no filters,
no LFS smudge, nothing of the repository's runs), and :mod:`tarfile`'s ``data`` filter
extracts it: no absolute paths, no ``..``, no link pointing outside the tree, no device
files — a hostile tree cannot write outside its directory.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ruvopt.bot.queue import procs

ARCHIVE_TIMEOUT_S = 600.0
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class WorkdirError(RuntimeError):
    pass


@dataclass(frozen=True)
class SideDirs:
    """One side's scratch: the work tree, the target dir and a home (all writable inside)."""

    root: Path

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cargo_home(self) -> Path:
        return self.home / "cargo"

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"

    def criterion_home(self, run: int, target: str) -> Path:
        return self.home / "criterion" / f"run-{run}" / target

    def create(self) -> SideDirs:
        if self.root.exists():
            shutil.rmtree(self.root)
        for path in (self.src, self.target, self.home, self.tmp):
            path.mkdir(parents=True)
        return self

    @property
    def writable(self) -> tuple[Path, ...]:
        return (self.src, self.target, self.home)


async def resolve(git_dir: Path, ref: str) -> str:
    """The full commit id of ``ref`` in the repository at ``git_dir``."""
    done = await procs.run(
        ["git", "-C", str(git_dir), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], timeout=60
    )
    sha = done.stdout.decode().strip()
    if done.returncode != 0 or not _SHA.match(sha):
        raise WorkdirError(f"`{ref}` is not a commit in {git_dir}")
    return sha


async def materialise(git_dir: Path, sha: str, dest: Path, scratch: Path) -> None:
    """Write the tree of commit ``sha`` into ``dest`` (which must exist and be empty)."""
    if not _SHA.match(sha):
        raise WorkdirError(f"not a full commit id: {sha!r}")
    archive = scratch / f"{sha}.tar"
    done = await procs.run(
        ["git", "-C", str(git_dir), "archive", "--format=tar", f"--output={archive}", sha], timeout=ARCHIVE_TIMEOUT_S
    )
    if done.returncode != 0:
        raise WorkdirError(f"git archive {sha[:12]} failed: {done.stderr.decode(errors='replace')[-1000:]}")
    try:
        await asyncio.to_thread(_extract, archive, dest)  # off the event loop: the job's heartbeat runs there
    except tarfile.TarError as exc:
        raise WorkdirError(f"the tree of {sha[:12]} cannot be extracted safely: {exc}") from exc
    finally:
        archive.unlink(missing_ok=True)


def _extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
