"""Process logging for ``ruvopt serve`` / ``ruvopt worker``: one line per record on stderr,
written in batches — text for a terminal, or one JSON object per line with
``RUVOPT_LOG_FORMAT=json`` (docs/observability.md).

JSON lines carry what is known of the work at hand: ``delivery``, ``event``,
``installation``, ``repository``, ``pr`` (the receiver, per delivery) and ``job``,
``kind`` (a worker, per job), bound with :func:`bind` in a context variable, so every
record logged while handling that delivery or job — saq's and PyGithub's included —
carries them.

The receiver logs one line per delivery. Python's stderr is line-buffered, so each line
would be its own ``write`` system call on the event loop — measurable on the ingest path
(docs/performance.md). Lines go to a block-buffered stream instead, flushed by a daemon
thread every ``FLUSH_EVERY_S``, at once for WARNING and above, and at exit.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

FLUSH_EVERY_S = 0.25
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
CONTEXT_FIELDS = ("delivery", "event", "installation", "repository", "pr", "job", "kind")
_context: ContextVar[dict[str, Any]] = ContextVar("ruvopt_log_context", default={})  # noqa: B039 (never mutated)


def bind(**fields: Any) -> Token[dict[str, Any]]:
    """Add ``fields`` (those not None) to the records of this task and what it starts;
    :func:`unbind` with the returned token when the work is done."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"not log context fields: {sorted(unknown)}")
    return _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: Token[dict[str, Any]]) -> None:
    _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record (JSON output shows the fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            record.__dict__.setdefault(key, value)
        return True


class OutageFilter(logging.Filter):
    """Redis being away is one line a minute, not a traceback a second.

    saq's upkeep tasks (sweep, schedule, abort, worker info) each log
    ``Upkeep task failed unexpectedly`` with a 55-line traceback every second or so while
    Redis is down: 2,000 lines in a 27-second outage, burying the one line that says what
    is wrong. A record carrying a connection error (Redis's, or the OS's) passes once per
    ``every_s``, as one line naming the error and how many like it were left out.
    """

    def __init__(self, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every_s, self.clock = every_s, clock
        self.last = -every_s
        self.left_out = 0

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not _is_connection_error(error):
            return True
        now = self.clock()
        if now - self.last < self.every_s:
            self.left_out += 1
            return False
        more = f"; {self.left_out} more like it left out" if self.left_out else ""
        record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}{more}"
        record.args, record.exc_info, record.exc_text = (), None, None
        self.last, self.left_out = now, 0
        return True


def _is_connection_error(error: BaseException) -> bool:
    # By module name: this module must not import redis (the light CLI never loads it).
    kind = type(error)
    return isinstance(error, ConnectionError) or (
        kind.__module__.startswith("redis") and kind.__name__ in {"ConnectionError", "TimeoutError", "BusyLoadingError"}
    )


class BatchedStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def __init__(self) -> None:
        raw = io.FileIO(os.dup(2), "wb")
        super().__init__(io.TextIOWrapper(io.BufferedWriter(raw, 64 * 1024), encoding="utf-8", errors="replace"))
        self._stop = threading.Event()
        threading.Thread(target=self._flusher, name="log-flush", daemon=True).start()
        atexit.register(self.close)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
            if record.levelno >= logging.WARNING:
                self.flush()
        except Exception:
            self.handleError(record)

    def _flusher(self) -> None:
        while not self._stop.wait(FLUSH_EVERY_S):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()
        super().close()


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.orjson import OrjsonFormatter

    return OrjsonFormatter(
        JSON_FIELDS,
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's copy of the message with ANSI colours
    )


def configure(level: str, log_format: str = "text") -> None:
    handler = BatchedStderrHandler()
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(FORMAT))
    handler.addFilter(ContextFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
