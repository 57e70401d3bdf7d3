"""The engine's process pool dies with an interrupted check (no waiting on running batches)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from ruvopt.checks.filepass import kill_workers
from tests.waiting import wait_for


def _children() -> set[int]:
    """Live child processes of this process, read from /proc (not from the pool)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry))
    return found


def test_kill_workers_kills_every_worker_of_a_busy_pool() -> None:
    before = _children()
    pool = ProcessPoolExecutor(2)
    try:
        for _ in range(2):
            pool.submit(time.sleep, 300)
        workers = wait_for(lambda: len(_children() - before) >= 2 and _children() - before, 30, "two busy workers")
        kill_workers(pool)
        wait_for(lambda: not (workers & _children()), 10, "the killed workers to be gone")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
