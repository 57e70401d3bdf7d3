"""Diff mode in the clones CI makes, over real git smart HTTP (``git http-backend`` with
``uploadpack.allowFilter``, token required, on loopback), medians of interleaved runs:

- the 4,000-file workspace of ``gen_workspace.py`` (40 crates × 100 ``.rs`` files), plus a
  README per crate and ``--assets`` binary fixtures per crate that no rule reads;
- a PR touching 10 ``.rs`` files; ``ruvopt check . --base BASE --head HEAD --format json``
  with a fresh (empty) cache directory, as on a new runner;
- in a full clone, a blobless clone with no checkout (every blob the rules read is
  fetched by ruvopt), a blobless clone with HEAD checked out (``actions/checkout`` with
  ``filter: blob:none``) and a default shallow checkout (``fetch-depth: 1``).

For each: the check's wall time, and the objects the server sent during it (counted from
the pack headers on the server side), against the blobs of the Rust, TOML and doc files
of base and head — the most it may fetch — and the assets it must never fetch.

    .venv/bin/python benchmarks/bench_ci_clone.py [--runs 3] [--assets 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_check import touch_files
from benchmarks.gen_workspace import GIT_ENV, generate, git_commit_all
from tests.ci_clones import TOKEN, auth_header
from tests.githttp import GitHttpServer

ASSET_BYTES = 256 * 1024
RULE_SUFFIXES = (".rs", "Cargo.toml", "README.md")
MODES = ("full", "blobless, no checkout", "blobless, HEAD checked out", "shallow (fetch-depth 1)")


def git(*args: str, cwd: Path | None = None, header: bool = False) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    if header:
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraheader", GIT_CONFIG_VALUE_0=auth_header())
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def build(repo: Path, assets: int) -> tuple[str, str]:
    generate(repo, crates=40, files=100, lines_per_file=425)
    for crate in sorted((repo / "crates").iterdir()):
        (crate / "README.md").write_text(f"# {crate.name}\n\nFeatures: `candle`, `async-runtime`.\n")
        (crate / "fixtures").mkdir()
        for n in range(assets):
            seed = hashlib.sha256(f"{crate.name}/{n}".encode()).digest()
            (crate / "fixtures" / f"weights{n}.bin").write_bytes(seed * (ASSET_BYTES // len(seed)))
    base = git_commit_all(repo, "base")
    touch_files(repo, 0)
    return base, git_commit_all(repo, "PR: 10 files")


def blobs(repo: Path, commit: str, keep: tuple[str, ...] | None) -> set[str]:
    out = git("-C", str(repo), "ls-tree", "-r", commit)
    return {line.split()[2] for line in out.splitlines() if keep is None or line.split("\t", 1)[1].endswith(keep)}


def missing(clone: Path, *commits: str) -> set[str]:
    out = git("-C", str(clone), "rev-list", "--objects", "--missing=print", *commits)
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


def make_clone(mode: str, url: str, server_url: str, target: Path, head: str) -> None:
    if mode == "full":
        git("clone", "-q", url, str(target), header=True)
    elif mode.startswith("blobless"):
        checkout = [] if "checked out" in mode else ["--no-checkout"]
        git("clone", "-q", "--filter=blob:none", *checkout, url, str(target), header=True)
    else:
        target.mkdir()
        git("init", "-q", cwd=target)
        git("remote", "add", "origin", url, cwd=target)
        git(
            "fetch",
            "-q",
            "--no-tags",
            "--depth=1",
            "origin",
            f"+{head}:refs/remotes/origin/pr",
            cwd=target,
            header=True,
        )
        git("checkout", "-q", "--force", "refs/remotes/origin/pr", cwd=target)
    git("config", "--local", f"http.{server_url}/.extraheader", auth_header(), cwd=target)


def check(clone: Path, base: str, head: str, cache: Path) -> float:
    argv = [
        sys.executable,
        "-m",
        "ruvopt.cli.main",
        "check",
        ".",
        "--base",
        base,
        "--head",
        head,
        "--format",
        "json",
        "--cache-dir",
        str(cache),
    ]
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=clone, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ruvopt check failed in {clone}:\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--assets", type=int, default=5, help="binary fixtures per crate (256 KiB each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base, head = build(tmp / "ws", args.assets)
        server = GitHttpServer(tmp / "served", token_ok=lambda token: token == TOKEN).start()
        url = server.add_repo("bench/ws", tmp / "ws")
        allowed = blobs(tmp / "ws", base, RULE_SUFFIXES) | blobs(tmp / "ws", head, RULE_SUFFIXES)
        assets = blobs(tmp / "ws", base, (".bin",)) | blobs(tmp / "ws", head, (".bin",))
        files = len(blobs(tmp / "ws", head, None))
        times: dict[str, list[float]] = {m: [] for m in MODES}
        fetched: dict[str, int] = {}
        packs: dict[str, int] = {}
        for run in range(args.runs):  # interleaved and rotated, so drift and order hit every mode alike
            for index, mode in enumerate(MODES[run % len(MODES) :] + MODES[: run % len(MODES)]):
                clone = tmp / f"clone-{run}-{index}"
                make_clone(mode, url, server.url, clone, head)
                since = len(server.requests)
                times[mode].append(check(clone, base, head, tmp / f"cache-{run}-{index}"))
                fetched[mode] = server.objects_sent(since)
                packs[mode] = sum(1 for r in server.requests[since:] if r.objects)
                if mode == "blobless, no checkout":
                    leaked = assets - missing(clone, base, head)
                    if leaked or fetched[mode] > len(allowed):
                        raise SystemExit(f"{mode}: {fetched[mode]} objects fetched, {len(leaked)} of them assets")
        server.stop()
    full = statistics.median(times["full"])
    print(
        f"workspace: {files} files in the head commit ({len(assets)} assets of {ASSET_BYTES // 1024} KiB); "
        f"PR touches 10 .rs files; {os.cpu_count()} cores; medians of {args.runs} runs"
    )
    print(f"rule-file blobs of base and head (the most a clone may fetch): {len(allowed)}")
    for mode in MODES:
        median = statistics.median(times[mode])
        print(
            f"{mode:28} check {median:6.2f} s (max {max(times[mode]):.2f})  ratio to full {median / full:4.2f}  "
            f"objects fetched {fetched[mode]:5} in {packs[mode]} pack(s)"
        )


if __name__ == "__main__":
    main()
