"""``ruvopt serve`` and ``ruvopt worker``: the App's two processes.

They need the ``app`` extra (FastAPI, uvicorn, saq, redis, PyGithub, pydantic-settings),
which ``pip install ruvopt`` — the CLI — does not install; without it both commands exit
2 naming ``ruvopt[app]``. Those libraries are imported inside the commands, so
``ruvopt check`` never loads them. Configuration comes from the environment only
(:class:`ruvopt.bot.settings.Settings`); flags here are about the process (address,
queues, log level), never about secrets.
"""

from __future__ import annotations

import argparse
import logging
import sys

EXIT_OK, EXIT_USAGE = 0, 2
QUEUE_CHOICES = ("review", "bench")
# Import names of the `app` extra's distributions (pyproject.toml).
APP_MODULES = ("fastapi", "uvicorn", "saq", "redis", "github", "pydantic_settings")


def missing_app_modules() -> list[str]:
    import importlib.util

    return [name for name in APP_MODULES if importlib.util.find_spec(name) is None]


def _require_app_extra(command: str) -> bool:
    missing = missing_app_modules()
    if missing:
        print(
            f"ruvopt {command}: the App's dependencies are not installed (missing: {', '.join(missing)}); "
            """install them with: pip install 'ruvopt[app]'""",
            file=sys.stderr,
        )
    return not missing


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run the webhook receiver (FastAPI under uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request (off: one line per delivery)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=run_serve)

    worker = sub.add_parser("worker", help="consume review/bench jobs from Redis")
    worker.add_argument(
        "--queues", default="review", type=_queue_list,
        help="comma-separated queues to consume: review, bench (default: %(default)s; bench needs the bench runner)",
    )  # fmt: skip
    worker.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    worker.set_defaults(handler=run_worker)


def _queue_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in QUEUE_CHOICES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"queues are a comma-separated subset of {', '.join(QUEUE_CHOICES)}")
    return list(dict.fromkeys(names))


def _settings() -> object | None:
    from pydantic import ValidationError

    from ruvopt.bot.settings import Settings, SettingsError

    try:
        return Settings()
    except (SettingsError, ValidationError) as exc:
        print(f"ruvopt: invalid settings: {exc}", file=sys.stderr)
        return None


def _logging(level: str) -> None:
    from ruvopt.bot.logs import configure

    configure(level)


def run_serve(args: argparse.Namespace) -> int:
    if not _require_app_extra("serve"):
        return EXIT_USAGE
    import uvicorn

    from ruvopt.bot.receiver.app import create_app
    from ruvopt.bot.settings import SettingsError

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    try:
        app = create_app(settings)  # type: ignore[arg-type]
    except SettingsError as exc:
        print(f"ruvopt serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _logging(args.log_level)
    # The receiver logs one line per delivery itself; saq's per-job lines add nothing here.
    logging.getLogger("saq").setLevel(max(logging.WARNING, logging.getLogger().level))
    config = uvicorn.Config(
        app, host=args.host, port=args.port, loop="uvloop", http="httptools", lifespan="on",
        access_log=args.access_log, log_level=args.log_level, server_header=False,
    )  # fmt: skip
    uvicorn.Server(config).run()
    return EXIT_OK


def run_worker(args: argparse.Namespace) -> int:
    if not _require_app_extra("worker"):
        return EXIT_USAGE
    import asyncio

    from ruvopt.bot.queue import worker

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    _logging(args.log_level)
    # The stock asyncio loop, not uvloop: ruvopt.bot.queue.procs needs process_group= for its children.
    asyncio.run(worker.run(settings, args.queues))  # type: ignore[arg-type]
    return EXIT_OK
