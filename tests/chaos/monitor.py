"""What the chaos run watches while it runs: when each check run appeared and completed
(the FakeGitHub's state, every 0.1 s) and every process's argv on the machine (from
``/proc``, every 0.1 s, so short-lived ``git`` children are seen too) for the token grep.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from tests.fakegithub import FakeGitHub

SAMPLE_S = 0.1


@dataclass
class RunTimes:
    first_seen: float
    completed: float | None = None


@dataclass
class Monitor:
    fake: FakeGitHub
    runs: dict[int, RunTimes] = field(default_factory=dict)
    argv: set[bytes] = field(default_factory=set)
    samples: int = 0
    errors: list[str] = field(default_factory=list)  # a driver action that raised

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def sample(self) -> None:
        now = time.monotonic()
        with self.fake.lock:
            states = [(r.id, r.status) for r in self.fake.world.check_runs.values()]
        for run_id, status in states:
            times = self.runs.setdefault(run_id, RunTimes(now))
            if status == "completed" and times.completed is None:
                times.completed = now
        self.argv.update(process_argv())
        self.samples += 1


def process_argv() -> set[bytes]:
    """The argv (NUL-joined) of every process visible in /proc right now."""
    seen: set[bytes] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                seen.add(f.read())
        except OSError:
            continue  # exited between listdir and open
    return seen
