"""Per-repository bare mirrors: ``<cache_dir>/mirrors/<owner>/<repo>.git``.

A review needs exactly two commits, base and head: :func:`fetch` asks the remote for
those SHAs only (``git fetch --no-tags <url> <sha>:refs/ruvopt/<sha>``), skipping the
network when both are already there (a warm mirror answers in milliseconds). Each
fetched SHA gets a ref under ``refs/ruvopt/`` so no ``gc`` can prune it, and automatic
gc is off, so a reader never meets a repacking writer.

Full objects, no partial clone: with ``--filter=blob:none`` reading a blob later would
make git fetch it lazily, which needs the token again (expired by then, perhaps) and
network access from :mod:`checks`, which must never touch the network. Reading stays lean
all the same: the review reads trees through :class:`ruvopt.checks.source.GitTree`, which
lists them without sizes and reads only the blobs the rules use, so a repository's large
binary files cost the fetch, never a read.

The token travels in the environment only — ``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` set
``http.<origin>/.extraheader`` for that one process — never in argv (visible in ``ps``), the URL
(logged by git, stored in ``FETCH_HEAD``) or ``.git/config``.

Two workers on one machine serialise on a per-mirror ``fcntl`` lock (polled, so a
cancelled job stops waiting at once). git runs through :func:`ruvopt.bot.queue.procs.run`: its own
process group, killed if the job is cancelled or times out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import logging
import os
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ruvopt.bot.queue import procs

log = logging.getLogger("ruvopt.gitmirror")

FETCH_TIMEOUT_S = 600.0
LOCK_POLL_S = 0.05
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_ASKPASS": "/bin/false", "LC_ALL": "C"}


class MirrorError(RuntimeError):
    pass


def auth_env(token: str, repo_url: str) -> dict[str, str]:
    """Environment that makes git send the token, as GitHub expects it for Apps.

    The header is scoped to the repository's origin (``http.<origin>/.extraheader``), so
    a redirect to another host does not carry the token along.
    """
    parts = urlsplit(repo_url)
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{parts.scheme}://{parts.netloc}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


@dataclass(frozen=True)
class Mirror:
    path: Path

    @classmethod
    def for_repo(cls, cache_dir: Path, full_name: str) -> Mirror:
        owner, _, name = full_name.partition("/")
        if not (_NAME.match(owner) and _NAME.match(name)) or owner.startswith(".") or name.startswith("."):
            raise MirrorError(f"not a repository name: {full_name!r}")
        return cls(cache_dir / "mirrors" / owner / f"{name}.git")

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    async def fetch(self, repo_url: str, token: str, shas: Sequence[str], *, timeout: float = FETCH_TIMEOUT_S) -> None:
        """Make ``shas`` (full commit ids) present in the mirror, fetching only the missing."""
        for sha in shas:
            if not _SHA.match(sha):
                raise MirrorError(f"not a full commit id: {sha!r}")
        async with self.locked():
            await self._ensure_init()
            missing = [sha for sha in dict.fromkeys(shas) if not await self.has_commit(sha)]
            if not missing:
                return
            refspecs = [f"+{sha}:refs/ruvopt/{sha}" for sha in missing]
            argv = [
                "git",
                "--git-dir",
                str(self.path),
                "fetch",
                "--no-tags",
                "--no-write-fetch-head",
                "--quiet",
                repo_url,
                *refspecs,
            ]
            done = await self._git(argv, env=auth_env(token, repo_url), timeout=timeout)
            if done.returncode != 0:
                raise MirrorError(f"git fetch of {len(missing)} commit(s) failed: {done.stderr.decode()[-2000:]}")
            log.info("fetched %s into %s", ", ".join(s[:12] for s in missing), self.path)

    async def has_commit(self, sha: str) -> bool:
        done = await self._git(["git", "--git-dir", str(self.path), "cat-file", "-e", f"{sha}^{{commit}}"])
        return done.returncode == 0

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Exclusive per-mirror lock between processes; polling keeps cancellation prompt."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(LOCK_POLL_S)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    async def _ensure_init(self) -> None:
        if (self.path / "HEAD").exists():
            return
        self.path.mkdir(parents=True, exist_ok=True)
        for argv in (
            ["git", "init", "--quiet", "--bare", str(self.path)],
            ["git", "--git-dir", str(self.path), "config", "gc.auto", "0"],
            ["git", "--git-dir", str(self.path), "config", "maintenance.auto", "false"],
        ):
            done = await self._git(argv)
            if done.returncode != 0:
                raise MirrorError(f"{' '.join(argv[:4])} failed: {done.stderr.decode()}")

    async def _git(
        self, argv: list[str], *, env: Mapping[str, str] | None = None, timeout: float | None = 60.0
    ) -> procs.Completed:
        full_env = {**os.environ, **_BASE_ENV, **(env or {})}
        log.debug("run %s", argv)  # argv never holds a secret: the token is in env only
        return await procs.run(argv, env=full_env, timeout=timeout)


async def fetch(cache_dir: Path, full_name: str, repo_url: str, token: str, shas: Sequence[str]) -> Path:
    """Mirror ``full_name`` (clone URL ``repo_url``) with ``shas`` present; returns its path."""
    mirror = Mirror.for_repo(cache_dir, full_name)
    await mirror.fetch(repo_url, token, shas)
    return mirror.path
