"""Fuzz targets: each takes one input and fails (AssertionError, or the unexpected exception
itself) only on a crash, a hang or a wrong kind of answer. Shared by the small hypothesis
run in CI (``tests/test_fuzz.py``) and the long run (``scripts/fuzz.py``, hypothesis or
atheris).

What counts as an answer, per target:

- command parser (:mod:`ruvopt.bot.commands`): a command, or ``CommandError`` (a reply);
- config loader (:mod:`ruvopt.checks.config`): a ``Config``, or ``ConfigError`` (the
  ``action_required`` run);
- diff parser (:mod:`ruvopt.checks.diff.filter`): a ``Diff`` whose every added or context line is
  inside one of its hunks, or ``DiffError`` (the review places no inline comment);
- every rule over Rust (:func:`ruvopt.checks.engine.check` on a one-crate tree held in memory):
  a report, within :data:`RULES_BOUND_S`;
- the webhook receiver (the real ASGI app, real Redis): a status among
  :data:`WEBHOOK_STATUSES` — never 500 — within :data:`WEBHOOK_BOUND_S`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ruvopt.bot.commands import Bench, CommandError, Help, Recheck, find_command, parse
from ruvopt.checks.config import Config, ConfigError
from ruvopt.checks.diff.filter import Diff, DiffError, parse_diff
from ruvopt.checks.engine import check
from ruvopt.checks.registry import parse_config
from ruvopt.checks.source import Entry, SourceTree, git_blob_id

RULES_BOUND_S = 10.0  # one crate of at most a few hundred KB, every rule
WEBHOOK_BOUND_S = 2.0
WEBHOOK_STATUSES = frozenset({200, 202, 400, 401, 413, 422, 503})
MANIFEST = b'[package]\nname = "fuzzed"\nversion = "0.1.0"\nedition = "2021"\n\n[features]\ndefault = []\n'


class MemoryTree(SourceTree):
    """A source tree held in memory: the engine reads it like a commit."""

    label = "fuzz"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self._entries = {p: Entry(p, len(d), git_blob_id(d)) for p, d in files.items()}

    def entries(self) -> dict[str, Entry]:
        return self._entries

    def read(self, path: str) -> bytes:
        return self.files[path]

    def read_many(self, paths: list[str]) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            yield path, self.files[path]


def command(body: str) -> None:
    line = find_command(body)
    if line is None:
        return
    try:
        result = parse(line)
    except CommandError as exc:
        assert str(exc), "a refused command must say why"
        return
    assert isinstance(result, (Help, Recheck, Bench))


def config(text: str) -> None:
    try:
        result = parse_config(text, "ruvopt.toml")
    except ConfigError as exc:
        assert str(exc), "a configuration error must say what is wrong"
        return
    assert isinstance(result, Config)


def diff(text: str) -> None:
    try:
        result = parse_diff(text)
    except DiffError as exc:
        assert str(exc)
        return
    assert isinstance(result, Diff)
    for fd in result.files.values():
        inside = set()
        for first, last in fd.hunks:
            inside.update(range(first, last + 1))
        assert fd.added <= inside, f"{fd.path}: a line outside every hunk"
        assert fd.context <= inside, f"{fd.path}: a line outside every hunk"


def rules(source: bytes, manifest: bytes = MANIFEST) -> Any:
    start = time.monotonic()
    report = check(
        MemoryTree({"Cargo.toml": manifest, "src/lib.rs": source, "README.md": b"# fuzzed\n"}), Config(), jobs=1
    )
    took = time.monotonic() - start
    assert took < RULES_BOUND_S, f"{len(source)} bytes took {took:.1f} s"
    return report


async def webhook(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """One POST /webhook through the ASGI app; returns the status."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhook",
        "raw_path": b"/webhook",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    start = time.monotonic()
    await app(scope, receive, send)
    took = time.monotonic() - start
    status = int(sent[0]["status"])
    assert status in WEBHOOK_STATUSES, f"status {status}: {sent[1:] and sent[1].get('body', b'')[:300]!r}"
    assert took < WEBHOOK_BOUND_S, f"answered in {took:.2f} s"
    return status
