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

Entries are written to a temporary name and renamed, so concurrent workers on one
machine never see a half-written entry; the least recently used ones beyond
``max_entries`` are removed.
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

    def lookup(self, key: str) -> Path | None:
        entry = self.root / key / "target"
        if not entry.is_dir():
            return None
        os.utime(self.root / key)  # recently used
        return entry

    def store(self, key: str, target: Path) -> None:
        if (self.root / key).exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{key}.{uuid.uuid4().hex}"
        try:
            shutil.copytree(target, staging / "target", symlinks=True)
            os.rename(staging, self.root / key)
        except OSError:
            pass  # another worker stored it first, or the disk is full: the cache is optional
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()

    def evict(self) -> None:
        entries = sorted((p for p in self.root.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)  # fmt: skip
        for old in entries[self.max_entries :]:
            shutil.rmtree(old, ignore_errors=True)
