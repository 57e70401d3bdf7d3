"""The long fuzz run (issue 7): the targets of ``tests/fuzz/targets.py`` for many more inputs
than CI's, with hypothesis (default) or atheris (coverage-guided, ``--engine atheris``;
``pip install -e '.[fuzz]'``).

    .venv/bin/python scripts/fuzz.py [--target all|command|config|diff|rules|corpus|webhook]
        [--examples 20000] [--engine hypothesis|atheris] [--seconds 600]

Every target reports inputs tried, crashes (an exception other than the target's answer)
and hangs (an answer over the target's time bound); the first failing input is printed
and, with hypothesis, shrunk. Exit status 1 if any target failed. Hypothesis keeps the
inputs it found interesting in ``.cache/hypothesis`` (the corpus), atheris in
``.cache/fuzz-corpus/<target>``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

from tests.fuzz import strategies, targets  # noqa: E402

TEXT_TARGETS = {
    "command": (targets.command, strategies.COMMAND_TEXT),
    "config": (targets.config, strategies.CONFIG_TEXT),
    "diff": (targets.diff, strategies.DIFF_TEXT),
}


def receiver() -> tuple[Any, asyncio.AbstractEventLoop, Any]:
    from ruvopt.bot.receiver.app import create_app
    from ruvopt.bot.settings import Settings
    from tests import payloads
    from tests.plugins.redis_server import RedisServer

    server = RedisServer(Path(tempfile.mkdtemp()) / "redis")
    server.start()
    app = create_app(Settings(webhook_secret=payloads.SECRET, app_id=payloads.APP_ID, redis_url=server.url))
    return app, asyncio.new_event_loop(), server


def hypothesis_run(name: str, examples: int) -> tuple[int, str | None]:
    """(inputs tried, the failure or None)."""
    tried = 0
    config = settings(
        max_examples=examples,
        deadline=None,
        database=DirectoryBasedExampleDatabase(str(ROOT / ".cache" / "hypothesis")),
        suppress_health_check=list(HealthCheck),
    )
    if name in TEXT_TARGETS:
        target, strategy = TEXT_TARGETS[name]

        def test(value: Any) -> None:
            nonlocal tried
            tried += 1
            target(value)

        runner = config(given(strategy)(test))
    elif name in ("rules", "corpus"):
        strategy = strategies.RUST.map(str.encode) if name == "rules" else strategies.mutated_corpus_file()

        def test(value: Any) -> None:
            nonlocal tried
            tried += 1
            targets.rules(value)

        runner = config(given(strategy)(test))
    else:
        app, loop, server = receiver()

        def test(value: Any) -> None:
            nonlocal tried
            tried += 1
            loop.run_until_complete(targets.webhook(app, *value))

        runner = config(given(strategies.delivery())(test))
    try:
        runner()
    except Exception as exc:
        return tried, f"{type(exc).__name__}: {exc}"
    finally:
        if name == "webhook":
            server.stop()
    return tried, None


def atheris_run(name: str, seconds: float) -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: pip install -e '.[fuzz]' (or use --engine hypothesis)")
    corpus = ROOT / ".cache" / "fuzz-corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)

    def one(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        if name in TEXT_TARGETS:
            TEXT_TARGETS[name][0](provider.ConsumeUnicodeNoSurrogates(len(data)))
        else:
            targets.rules(data)

    atheris.instrument_all()
    atheris.Setup([sys.argv[0], str(corpus), f"-max_total_time={int(seconds)}", "-timeout=10"], one)
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="all", choices=["all", *TEXT_TARGETS, "rules", "corpus", "webhook"])
    parser.add_argument("--examples", type=int, default=20_000, help="inputs per target (hypothesis)")
    parser.add_argument("--engine", default="hypothesis", choices=["hypothesis", "atheris"])
    parser.add_argument("--seconds", type=float, default=600, help="time per target (atheris)")
    args = parser.parse_args()
    names = [*TEXT_TARGETS, "rules", "corpus", "webhook"] if args.target == "all" else [args.target]
    if args.engine == "atheris":
        if len(names) != 1 or names[0] == "webhook":
            sys.exit("atheris fuzzes one target per process: --target command|config|diff|rules|corpus")
        atheris_run(names[0], args.seconds)
        return
    failed = False
    for name in names:
        start = time.monotonic()
        tried, failure = hypothesis_run(name, args.examples)
        took = time.monotonic() - start
        print(
            f"{name}: {tried} inputs in {took:.0f} s, {'0 crashes, 0 hangs' if failure is None else failure}",
            flush=True,
        )
        failed |= failure is not None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
