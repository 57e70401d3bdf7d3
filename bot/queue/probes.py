"""A worker's own small HTTP server (``ruvopt worker --metrics-port PORT``): ``/metrics``
for Prometheus, ``/healthz`` (the worker's event loop answers) and ``/readyz`` (Redis
answers) for Kubernetes probes. It runs on the worker's event loop, so a loop blocked by
a job shows as a failing liveness probe.
"""

from __future__ import annotations

import asyncio

import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ruvopt.bot import metrics

READY_TIMEOUT_S = 2.0


def probe_app(redis: Redis) -> Starlette:
    async def metrics_page(_request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            await asyncio.wait_for(redis.ping(), READY_TIMEOUT_S)
        except Exception as exc:  # refused, timed out, or a redis-py error: no jobs either way
            return JSONResponse({"status": "redis unavailable", "error": str(exc) or type(exc).__name__}, 503)
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route("/metrics", metrics_page),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )


async def start(redis: Redis, host: str, port: int) -> uvicorn.Server:
    """Listen on ``host:port`` in the running loop; stop with ``await server.shutdown()``.
    No signal handlers: the worker owns SIGTERM."""
    config = uvicorn.Config(
        probe_app(redis), host=host, port=port, lifespan="off", access_log=False, log_config=None, server_header=False
    )
    config.load()
    server = uvicorn.Server(config)
    # What Server.serve() does before startup(), without its signal capture.
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    if server.should_exit:
        raise OSError(f"the metrics server could not listen on {host}:{port}")
    return server
