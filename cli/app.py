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
from typing import Any

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
    serve = sub.add_parser(
        "serve",
        help="run the webhook receiver (FastAPI under uvicorn)",
        description="Run the GitHub App's webhook receiver: verify, enqueue, answer 202. Without App "
        "credentials it serves the one-click registration page (docs/install.md). Needs `ruvopt[app]`.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request (off: one line per delivery)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=run_serve)

    worker = sub.add_parser(
        "worker",
        help="consume review/bench jobs from Redis",
        description="Run the GitHub App's jobs: reviews and commands (queue review), benches in the "
        "bwrap sandbox (queue bench). Needs `ruvopt[app]` (docs/app.md).",
    )
    worker.add_argument(
        "--queues",
        default="review",
        type=_queue_list,
        help="comma-separated queues to consume: review, bench (default: %(default)s; bench needs bwrap, prlimit "
        "and a Rust toolchain: the worker checks them and refuses to start without them)",
    )
    worker.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics, /healthz and /readyz on this port (default: none)",
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of the metrics server (default: %(default)s)"
    )
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
    except SettingsError as exc:
        print(f"ruvopt: invalid settings: {exc}", file=sys.stderr)
    except ValidationError as exc:
        # Each problem on its line, named by its variable; never the value (it may be a secret).
        for error in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in error["loc"])
            where = f"RUVOPT_{field.upper()}: " if field else ""
            print(f"ruvopt: invalid settings: {where}{error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
    return None


def _warn_unknown_variables() -> None:
    import os

    from ruvopt.bot.settings import unknown_variables

    for note in unknown_variables(os.environ):
        logging.getLogger("ruvopt.settings").warning("ignored: %s is not a ruvopt setting", note)


def _logging(level: str, settings: Any) -> None:
    from ruvopt.bot.logs import configure

    configure(level, settings.log_format)


def _serve_app(settings: Any) -> Any:
    """The receiver, or the one-click registration when no App credentials are set
    (:mod:`ruvopt.bot.receiver.registration`); SettingsError naming what is missing otherwise."""
    from ruvopt.bot.receiver.app import create_app
    from ruvopt.bot.settings import SettingsError

    problem = settings.incomplete_credentials()
    if problem:
        raise SettingsError(problem)
    if not settings.no_credentials():
        return create_app(settings)
    if not settings.public_url:
        raise SettingsError(
            "the App is not registered yet: set RUVOPT_PUBLIC_URL (the https address GitHub will send webhooks "
            "to) to register it from this server's page, or set RUVOPT_APP_ID and RUVOPT_WEBHOOK_SECRET for "
            "an App you registered yourself"
        )
    from ruvopt.bot.receiver.registration import SetupGate

    logging.getLogger("ruvopt.setup").warning(
        "setup mode: no App credentials; open %s/ in a browser to register the GitHub App", settings.public_url
    )
    return SetupGate(settings, create_app)


def run_serve(args: argparse.Namespace) -> int:
    if not _require_app_extra("serve"):
        return EXIT_USAGE
    import uvicorn

    from ruvopt.bot.settings import SettingsError

    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    _logging(args.log_level, settings)
    _warn_unknown_variables()
    try:
        app = _serve_app(settings)
    except SettingsError as exc:
        print(f"ruvopt serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The receiver logs one line per delivery itself; saq's per-job lines add nothing here.
    logging.getLogger("saq").setLevel(max(logging.WARNING, logging.getLogger().level))
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=args.access_log,
        log_level=args.log_level,
        server_header=False,
        log_config=None,  # uvicorn's records go through ruvopt's handler (text or JSON)
    )
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
    problem = settings.incomplete_credentials(worker=True) or settings.private_key_problem()  # type: ignore[attr-defined]
    if problem:
        print(f"ruvopt worker: {problem}", file=sys.stderr)
        return EXIT_USAGE
    _logging(args.log_level, settings)
    _warn_unknown_variables()
    # The stock asyncio loop, not uvloop: ruvopt.bot.queue.procs needs process_group= for its children.
    metrics_address = (args.metrics_host, args.metrics_port) if args.metrics_port is not None else None
    try:
        asyncio.run(worker.run(settings, args.queues, metrics_address=metrics_address))  # type: ignore[arg-type]
    except worker.WorkerRefused as exc:
        print(f"ruvopt worker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
