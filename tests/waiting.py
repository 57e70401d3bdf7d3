"""The one way tests wait: poll a condition until it holds, within a bound.

A test never sleeps a fixed time to let something happen (or to prove it did not): it
waits for the observable fact, and fails with what it was waiting for when the bound
passes. The bound is generous (a loaded CI machine), the poll is quick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

POLL_S = 0.02


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy, and return it; AssertionError
    naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_S)


async def wait_for_async(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """:func:`wait_for` for a coroutine test: the event loop keeps running while it polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(POLL_S)
