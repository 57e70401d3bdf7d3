"""pytest plugin: a real ``redis-server`` on a free loopback port, one per test session.

Fixtures (names and signatures are stable; other tests rely on them):

- ``redis_server`` (session): a :class:`RedisServer` with ``.url``, ``.port``,
  ``.restart(hard=False)``, ``.stop(hard=False)``, ``.start()``. Append-only persistence
  is on, ``appendfsync everysec`` unless asked otherwise (``RedisServer(...,
  appendfsync="always")``, as ``deploy/redis.conf`` and the chaos suite run it). With
  ``everysec`` Redis usually writes the AOF before it replies, so a SIGKILLed server
  keeps what it acknowledged — but not while a background fsync is slow: it then
  postpones the write up to 2 s and replies anyway (docs/reliability.md). ``always``
  writes and fsyncs before every reply.
- ``redis_url`` (function): the server's URL as a ``str``, with every database flushed
  first, and the server (re)started if an earlier test stopped it.

With pytest-xdist each worker process gets its own server, port and directory.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process; restarts keep its port and data directory."""

    def __init__(self, directory: Path, port: int | None = None, appendfsync: str = "everysec") -> None:
        self.directory = directory
        self.appendfsync = appendfsync  # "always": every write on disk before its reply (docs/reliability.md)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/install-test-deps.sh")
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def stop(self, hard: bool = False) -> None:
        """Stop the server: SIGTERM (clean shutdown) or, with ``hard``, SIGKILL (a crash)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        proc.wait(timeout=STARTUP_TIMEOUT_S)

    def restart(self, hard: bool = False) -> None:
        self.stop(hard=hard)
        self.start()

    def command(self, *args: str) -> str:
        """Run one command through a raw RESP connection (no client library involved)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            parts = [f"*{len(args)}\r\n".encode()]
            for arg in args:
                data = arg.encode()
                parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
            sock.sendall(b"".join(parts))
            return sock.recv(65536).decode(errors="replace").strip()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}:\n{log}")
            try:
                # LOADING while the AOF replays: not ready yet.
                if self.command("PING") == "+PONG":
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {STARTUP_TIMEOUT_S}s")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.start()  # an earlier test may have stopped it
    reply = redis_server.command("FLUSHALL")
    if reply != "+OK":
        raise RuntimeError(f"FLUSHALL failed: {reply}")
    return redis_server.url
