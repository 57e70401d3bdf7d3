"""Built dependencies kept between comparisons of one repository.

A comparison builds its dependencies once (head starts from a copy of base's target
directory when the two Cargo.lock files agree). This cache keeps that target directory
for the next comparison of the **same repository** with the same Cargo.lock, toolchain
and profiles, so a repository's second bench does not rebuild criterion, serde or candle.

Only base sides fill it. Base is the repository's own merged code; a pull request's
head never writes here, so it cannot plant a tampered dependency for later benches. The
key includes the repository, so one repository's artifacts never reach another's
sandbox. A hit is only a head start: cargo's fingerprints still rebuild anything stale,
and the members' own artifacts are removed from every copy (:meth:`Side.build`).

Nothing is copied: a comparison *takes* its entry (a rename into base's target
directory) and *puts* base's target directory back when it is done (a rename again), so
concurrent workers on one machine never share or half-see an entry, and the work tree's
removal shrinks to head's. The least recently put entries beyond ``max_entries`` are
removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from ruvopt.bot.bench.toolchain import Toolchain


@dataclass(frozen=True)
class DependencyCache:
    root: Path
    max_entries: int = 8

    def key(self, scope: str, lockfile: bytes, toolchain: Toolchain, profiles: tuple[str, ...]) -> str:
        digest = hashlib.sha256()
        for part in (scope.encode(), lockfile, toolchain.description.encode(), "\0".join(profiles).encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()[:32]

    def take(self, key: str, destination: Path) -> bool:
        """Move the entry of ``key`` to ``destination`` (which must not exist): a rename, no
        copy, and the entry leaves the cache, so no two comparisons share its files. False
        when there is none (or another worker took it first)."""
        taken = self.root / f".taken-{key}-{uuid.uuid4().hex}"
        try:
            os.rename(self.root / key, taken)
        except OSError:
            return False
        os.rename(taken / "target", destination)
        shutil.rmtree(taken, ignore_errors=True)
        return True

    def put(self, key: str, target: Path, *, copy: bool = False) -> None:
        """Move ``target`` (a base side's target directory, when its comparison is done) in
        as the entry of ``key`` — or a copy of it, when the work tree is kept for a person to
        look at. When another worker put one meanwhile, ``target`` stays where it is (and is
        removed with the work tree)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{key}.{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            if copy:
                shutil.copytree(target, staging / "target", symlinks=True)
            else:
                os.rename(target, staging / "target")
            os.rename(staging, self.root / key)  # fails if the entry exists: the newer one stays
        except OSError:
            if not copy and (staging / "target").is_dir() and not target.exists():
                os.rename(staging / "target", target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()

    def evict(self) -> None:
        """Keep the ``max_entries`` most recently put entries (a put is the last use)."""
        entries = sorted(
            (p for p in self.root.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[self.max_entries :]:
            shutil.rmtree(old, ignore_errors=True)
