"""Run ``ruvopt check`` as its own process and measure it: time, and the high-water mark of
its own memory (``VmHWM`` of ``/proc/self/status`` at exit, read from inside). ``ru_maxrss``
will not do, from the parent or from inside: Linux carries the maximum across ``execve``,
so the child reports the RSS of the parent it was forked (or vforked) from — a pytest
process holding a 50 MB test file made a 33 MB check look like 315 MB. Used by
``tests/test_hostile.py`` and ``scripts/hostile.py``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

# Runs the CLI's main() and, at exit, writes its own memory high-water mark and that of
# its largest child (the engine's process pool on large trees: forked from this small
# process, so ru_maxrss is right for them) to stderr.
_MEASURED = """
import atexit, resource, sys
def report():
    own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    pool = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\\nPEAK-RSS-KB {own} {pool}\\n")
atexit.register(report)
from ruvopt.cli.main import main
sys.argv = ["ruvopt", *sys.argv[1:]]
sys.exit(main())
"""
_PEAK = re.compile(rb"PEAK-RSS-KB (\d+) (\d+)")


def run_check(root: Path) -> tuple[int, bytes, bytes, float, int]:
    """(exit status, stdout, stderr, seconds, peak RSS in MB: the process or its largest
    pool worker, whichever is larger) of ``ruvopt check --format json --no-cache``."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "check", str(root), "--format", "json", "--no-cache"],
        capture_output=True,
        check=False,
    )  # (--no-cache: cold, user's cache untouched)
    took = time.monotonic() - start
    found = _PEAK.findall(proc.stderr)
    if not found:
        raise AssertionError(f"the check did not report its memory:\n{proc.stderr.decode()[-2000:]}")
    own, pool = (int(x) for x in found[-1])
    return proc.returncode, proc.stdout, proc.stderr, took, max(own, pool) // 1024
