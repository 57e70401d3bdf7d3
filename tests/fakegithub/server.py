"""Serve a :class:`FakeGitHub` over HTTP on loopback (uvicorn in a daemon thread)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakegithub.fake import FakeGitHub
from tests.fakegithub.manifest_flow import web_routes

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def make_app(fake: FakeGitHub) -> Starlette:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        chaos = fake.chaos
        if chaos is not None:  # GitHub's latency, outside the fake's lock (tests/fakegithub/faults.py)
            await asyncio.sleep(chaos.latency(request.method, request.url.path))
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = fake.handle(request.method, request.url.path, request.url.query, headers, raw)
        now = int(fake.clock())
        out = {
            "x-github-request-id": f"FAKE:{len(fake.requests)}",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(now + 3600),
            "x-ratelimit-resource": "core",
        }
        out.update(reply.headers)
        if reply.body is None:
            return Response(status_code=reply.status, headers=out)
        content = reply.body if isinstance(reply.body, (bytes, str)) else orjson.dumps(reply.body)
        media = "application/json; charset=utf-8" if not isinstance(reply.body, (bytes, str)) else "text/plain"
        return Response(content, status_code=reply.status, headers=out, media_type=media)

    # github.com's manifest pages first; everything else is the REST/GraphQL API.
    return Starlette(routes=[*web_routes(fake), Route("/{path:path}", endpoint, methods=_METHODS)])


class FakeGitHubServer:
    """Owns the listening socket and the uvicorn thread; ``fake.url`` is set on start."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        fake.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(make_app(fake), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> FakeGitHubServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the FakeGitHub server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()
