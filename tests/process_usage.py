"""Run ``ruvopt check`` as its own process and measure it: time, and that one process's
peak RSS (``wait4``; ``RUSAGE_CHILDREN`` would give the largest child so far). Used by
``tests/test_hostile.py`` and ``scripts/hostile.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_check(root: Path) -> tuple[int, bytes, bytes, float, int]:
    """(exit status, stdout, stderr, seconds, peak RSS in MB) of ``ruvopt check --format json --no-cache``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "ruvopt.cli.main", "check", str(root), "--format", "json",
                                 "--no-cache"],  # cold, and nothing written to the user's cache
                                stdout=out, stderr=err)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), took, usage.ru_maxrss // 1024
