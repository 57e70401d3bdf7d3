"""Process logging for ``ruvopt serve`` / ``ruvopt worker``: one line per record on stderr,
written in batches.

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

FLUSH_EVERY_S = 0.25
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def configure(level: str, log_format: str = "text") -> None:
    handler = BatchedStderrHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
