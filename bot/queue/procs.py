"""Child processes (git, cargo, bwrap) that die with the job that started them.

Aborting or cancelling a saq job cancels its asyncio task, and nothing else: the
``cargo build`` it started keeps running, and so do the ``rustc`` processes cargo
started. :func:`run` puts the child in its own process group and, when the awaiting task
is cancelled or times out, signals the whole group (SIGTERM, a grace period, SIGKILL).
The child also gets ``PR_SET_PDEATHSIG`` so it is killed if the worker itself is
SIGKILLed (the process group cannot be signalled by a dead worker).

Call :func:`run` from the event-loop thread: the death signal fires when the *thread*
that forked the child exits, so a child forked from a short-lived executor thread would
be killed when that thread ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE_S = 3.0
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


async def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    kill_grace: float = KILL_GRACE_S,
) -> Completed:
    """Run ``argv`` to completion and capture its output; kill its process group if the
    caller is cancelled or ``timeout`` passes (then the cancellation/TimeoutError propagates).
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        process_group=0,  # pgid = child's pid: one killpg reaches cargo's rustc children too
        preexec_fn=_die_with_parent,
    )
    if on_start is not None:
        on_start(proc.pid)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:
        await kill_group(proc, kill_grace)
        raise
    # The leader exited; anything it left behind in its group goes too.
    signal_group(proc.pid, signal.SIGKILL)
    return Completed(tuple(argv), proc.returncode or 0, stdout, stderr)


def signal_group(pgid: int, signum: int) -> bool:
    """Signal a process group; False if no process is left in it."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


async def kill_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the child's group, give it ``grace`` seconds, then SIGKILL what remains."""
    try:
        if signal_group(proc.pid, signal.SIGTERM):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
    finally:
        # Also when this wait is itself cancelled: the SIGKILL must not be skipped.
        signal_group(proc.pid, signal.SIGKILL)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
