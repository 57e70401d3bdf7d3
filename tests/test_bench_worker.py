"""A bench worker only consumes the bench queue where benches can run: ``ruvopt worker
--queues bench`` checks the sandbox (bwrap, prlimit, a toolchain that runs inside it) at
start and refuses to start without it, leaving bench jobs queued for a worker that can."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ruvopt.bot.queue import worker
from tests.queue_probe import BENCH, queued_jobs

ROOT = Path(__file__).resolve().parent.parent


def start_worker(redis_url: str, path: str, queues: str = "bench") -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "RUVOPT_REDIS_URL": redis_url}
    return subprocess.run(
        [sys.executable, "-m", "ruvopt.cli.main", "worker", "--queues", queues],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def path_without(tmp_path: Path, missing: str) -> str:
    """A PATH with the programs a bench worker uses, except ``missing``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("git", "rustc", "cargo", "bwrap", "prlimit", "setarch", "valgrind"):
        found = shutil.which(program)
        if found and program != missing:
            (bin_dir / program).symlink_to(found)
    return f"{bin_dir}:/nonexistent"


def test_a_bench_worker_without_bwrap_refuses_to_start_and_takes_no_bench_job(tmp_path, redis_url):
    asyncio.run(worker.enqueue_sleep(redis_url, 0.1, "waiting-bench", queue_name="bench"))
    done = start_worker(redis_url, path_without(tmp_path, "bwrap"), "review,bench")
    assert done.returncode == 2, done.stderr
    assert "ruvopt worker: this machine cannot run benches: `bwrap` is not installed" in done.stderr
    assert [job["function"] for job in queued_jobs(redis_url, BENCH)] == ["sleep_job"]  # still there


def test_a_bench_worker_without_a_rust_toolchain_refuses_to_start(tmp_path, redis_url):
    done = start_worker(redis_url, path_without(tmp_path, "rustc"))
    assert done.returncode == 2
    assert "`rustc` is not on PATH" in done.stderr
