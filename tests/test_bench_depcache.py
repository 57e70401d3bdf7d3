"""The dependency cache moves target directories in and out by rename: an entry is used
by one comparison at a time, a newer put never clobbers an entry, old entries go."""

from __future__ import annotations

import os
from pathlib import Path

from ruvopt.bot.bench.depcache import DependencyCache
from ruvopt.bot.bench.toolchain import Toolchain

TOOLCHAIN = Toolchain(Path("/x/cargo"), Path("/x/rustc"), Path("/x"), "1.95.0", "59807616e1fa", "x86_64-linux")


def target(parent: Path, marker: str) -> Path:
    path = parent / f"target-{marker}"
    (path / "release" / "deps").mkdir(parents=True)
    (path / "release" / "deps" / "libdep.rlib").write_text(marker)
    return path


def test_the_key_separates_repositories_lockfiles_toolchains_and_profiles(tmp_path):
    cache = DependencyCache(tmp_path / "cache")
    key = cache.key("octo/a", b"lock", TOOLCHAIN, ("release",))
    assert key == cache.key("octo/a", b"lock", TOOLCHAIN, ("release",))
    assert (
        len(
            {
                key,
                cache.key("octo/b", b"lock", TOOLCHAIN, ("release",)),
                cache.key("octo/a", b"lock2", TOOLCHAIN, ("release",)),
                cache.key("octo/a", b"lock", TOOLCHAIN, ("release", "dev")),
            }
        )
        == 4
    )


def test_an_entry_taken_is_gone_until_put_back(tmp_path):
    cache = DependencyCache(tmp_path / "cache")
    cache.put("k", target(tmp_path, "first"))
    assert not (tmp_path / "target-first").exists()  # moved, not copied
    assert cache.take("k", tmp_path / "base-target")
    assert (tmp_path / "base-target" / "release" / "deps" / "libdep.rlib").read_text() == "first"
    assert not cache.take("k", tmp_path / "other-target")  # a concurrent comparison builds its own
    cache.put("k", tmp_path / "base-target")
    assert cache.take("k", tmp_path / "again")


def test_a_put_does_not_replace_an_entry_another_worker_put_meanwhile(tmp_path):
    cache = DependencyCache(tmp_path / "cache")
    cache.put("k", target(tmp_path, "first"))
    second = target(tmp_path, "second")
    cache.put("k", second)
    assert (second / "release" / "deps" / "libdep.rlib").read_text() == "second"  # left where it was
    assert cache.take("k", tmp_path / "taken")
    assert (tmp_path / "taken" / "release" / "deps" / "libdep.rlib").read_text() == "first"


def test_a_kept_work_tree_is_copied_in_and_old_entries_are_evicted(tmp_path):
    cache = DependencyCache(tmp_path / "cache", max_entries=2)
    kept = target(tmp_path, "kept")
    cache.put("a", kept, copy=True)
    assert (kept / "release" / "deps" / "libdep.rlib").exists()
    os.utime(cache.root / "a", (1_600_000_000, 1_600_000_000))  # put long ago
    for key in ("b", "c"):
        cache.put(key, target(tmp_path, key))
    assert sorted(p.name for p in cache.root.iterdir()) == ["b", "c"]
