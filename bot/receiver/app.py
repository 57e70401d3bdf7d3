"""``create_app(settings)``: the FastAPI receiver (``ruvopt serve``).

Four routes: ``POST /webhook`` (see :mod:`ruvopt.bot.receiver.webhook`), ``GET /healthz`` (the process
answers), ``GET /readyz`` (Redis answers; a load balancer stops sending deliveries to
a receiver that could only reply 503) and ``GET /metrics`` (Prometheus, with the queue
depths read from Redis at scrape time: :mod:`ruvopt.bot.metrics`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ruvopt.bot import metrics
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.receiver.handlers import default_router
from ruvopt.bot.receiver.routing import Router
from ruvopt.bot.receiver.webhook import REDIS_DOWN, Receiver, reply
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.webhook")


class _Receiver(FastAPI):
    """FastAPI, with ``POST /webhook`` answered before the middleware stack.

    Starlette's error, exception, exit-stack and body-limit middlewares wrap every request
    in five more coroutine layers — a fifth of the receiver's CPU per delivery
    (docs/performance.md). The webhook handler needs none of them: it reads the body
    itself (bounded), catches its own errors, and builds its own response.
    """

    webhook: Callable[[Request], Awaitable[Response]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.webhook is not None
            and scope["type"] == "http"
            and scope["path"] == "/webhook"
            and scope["method"] == "POST"
        ):
            try:
                response = await self.webhook(Request(scope, receive))
            except Exception:
                log.exception("POST /webhook failed")
                response = reply(500, error="internal error")
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, router: Router | None = None) -> FastAPI:
    """Build the receiver; raises SettingsError (naming the variable) without a secret."""
    settings.require_webhook_secret()
    # Created here, not in the lifespan, so an ASGI test transport (no lifespan) works;
    # the client opens no connection until the first request.
    queues = queue.make_queues(queue.connect(settings.redis_url, role="receiver"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything imported so far lives as long as the process: keep it out of the
        # cyclic GC, whose full passes over FastAPI's and pydantic's object graphs would
        # otherwise show up as multi-millisecond pauses in the ingest latency tail.
        gc.freeze()
        yield
        await queues.redis.aclose()

    app = _Receiver(title="ruvopt", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.queues = queues
    receiver = Receiver(settings, router or default_router(), lambda: queues)

    async def webhook(request: Request) -> Response:
        return await receiver(request)

    app.webhook = webhook

    async def healthz() -> Response:
        return reply(200, status="ok")

    async def readyz() -> Response:
        try:
            await queues.redis.ping()
        except REDIS_DOWN as exc:
            return reply(503, status="redis unavailable", error=str(exc))
        return reply(200, status="ready")

    async def metrics_page() -> Response:
        await read_queue_depths(queues)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    # A plain Starlette route: the raw body is all it takes, so FastAPI's per-request
    # dependency solving and validation would be pure overhead on the ingest path.
    app.router.add_route("/webhook", webhook, methods=["POST"], include_in_schema=False)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/metrics", metrics_page, methods=["GET"], include_in_schema=False)
    return app


async def read_queue_depths(queues: queue.Queues) -> None:
    """Set ``ruvopt_queue_depth`` from saq's waiting lists (``ruvopt_redis_up`` 0 when Redis
    does not answer: the depths then keep their last values)."""
    try:
        depths = {name: await queues.by_name(name).count("queued") for name in ("review", "bench")}
    except REDIS_DOWN:
        metrics.REDIS_UP.labels("receiver").set(0)
        return
    metrics.REDIS_UP.labels("receiver").set(1)
    for name, depth in depths.items():
        metrics.QUEUE_DEPTH.labels(name).set(depth)
