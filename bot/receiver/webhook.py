"""``POST /webhook``: bound the body, verify the signature, parse, dedupe, hand to a handler.

The order matters. The body is read at most ``max_body_bytes`` far (GitHub caps payloads
at 25 MB), the HMAC is checked on those raw bytes before any parsing, and only then is
JSON touched — by pydantic, straight from the bytes into the few fields routing and the
handler need (:mod:`ruvopt.bot.receiver.events`). Handlers claim the delivery id (``SET NX``, TTL ≥ 3 days) in the same
atomic step that enqueues their job (:mod:`ruvopt.bot.queue.intake`), so a redelivery does nothing
twice, and a delivery that failed before enqueueing left no claim behind.
Redis unreachable → 503: the delivery shows as failed and the reconciler (``redeliver``
job) asks GitHub to send it again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import Response

from ruvopt.bot import logs, metrics
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.receiver.events import EVENT_VIEWS, Envelope, EventView
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.webhook")

SIGNATURE_HEADER = "x-hub-signature-256"
DELIVERY_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")  # GitHub sends a GUID
# Redis can't take the job: unreachable, too slow, or full (maxmemory with noeviction,
# deploy/redis.conf) — GitHub should see a failed delivery either way.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, ReadOnlyError, OSError)


class Rejected(Exception):
    """A delivery refused with an HTTP status; the detail goes in the response body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def reply(code: int, /, **body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` without reading past it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Rejected(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Rejected(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    # Counted while streaming too: a chunked body has no Content-Length to trust.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def verify_signature(secret: bytes, body: bytes, header: str | None) -> None:
    if not header:
        raise Rejected(401, "missing X-Hub-Signature-256")
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.encode()):
        raise Rejected(401, "X-Hub-Signature-256 does not match the body")


def parse_envelope(body: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise Rejected(400, f"body is not JSON: {first['msg']}") from None
        if first["type"] == "model_type" and not first["loc"]:
            raise Rejected(400, "body is not a JSON object") from None
        raise Rejected(422, f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def parse_view(body: bytes, event: str) -> EventView | None:
    """The event's full view (:data:`ruvopt.bot.receiver.events.EVENT_VIEWS`) in one pass, or
    None — an event without one, or a payload that does not fit it: the envelope is then
    parsed alone and the handler, if any, reports what is missing (422)."""
    view = EVENT_VIEWS.get(event)
    if view is None:
        return None
    try:
        return view.model_validate_json(body)
    except ValidationError:
        return None


def headers_of(request: Request) -> tuple[str, str]:
    event = request.headers.get("x-github-event")
    guid = request.headers.get("x-github-delivery")
    if not event:
        raise Rejected(400, "missing X-GitHub-Event")
    if not guid or not DELIVERY_ID.match(guid):
        raise Rejected(400, "missing or malformed X-GitHub-Delivery")
    return event, guid


class RefusalLog:
    """One log line per refused delivery (bad signature, oversized or malformed body), at
    most one a second: a misconfigured secret shows in the logs at once, and a flood of
    forged requests cannot flood them (the next line says how many were left out)."""

    INTERVAL_S = 1.0

    def __init__(self) -> None:
        self.last = 0.0
        self.left_out = 0

    def note(self, status: int, detail: str, delivery: str) -> None:
        # The header is the sender's, unverified: only an id-shaped value reaches the log.
        delivery = delivery if DELIVERY_ID.match(delivery) else "-"
        now = time.monotonic()
        if now - self.last < self.INTERVAL_S:
            self.left_out += 1
            return
        more = f" ({self.left_out} more refused since the last line)" if self.left_out else ""
        log.warning("delivery %s refused with %d: %s%s", delivery, status, detail, more)
        self.last, self.left_out = now, 0


class Receiver:
    """The webhook endpoint, bound to one app's settings, router and queues."""

    def __init__(self, settings: Settings, router: Router, queues: Callable[[], queue.Queues]) -> None:
        self.settings = settings
        self.secret = settings.require_webhook_secret().encode()
        self.router = router
        self.queues = queues
        self.refusals = RefusalLog()

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        event, outcome = "unknown", "rejected"
        token = None
        try:
            body = await read_body(request, self.settings.max_body_bytes)
            verify_signature(self.secret, body, request.headers.get(SIGNATURE_HEADER))
            event, guid = headers_of(request)
            token = logs.bind(delivery=guid, event=event)
            parsed = parse_view(body, event)
            envelope = parsed if parsed is not None else parse_envelope(body)
            response, outcome = await self._route(body, event, guid, envelope, parsed)
        except Rejected as exc:
            response, outcome = reply(exc.status, error=exc.detail), "invalid" if exc.status == 422 else "rejected"
            self.refusals.note(exc.status, exc.detail, request.headers.get("x-github-delivery", ""))
        finally:
            if token is not None:
                logs.unbind(token)
        metrics.WEBHOOKS.labels(event, outcome).inc()
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        return response

    async def _route(
        self, body: bytes, event: str, guid: str, envelope: Envelope | EventView, parsed: EventView | None
    ) -> tuple[Response, str]:
        if event == "ping":
            log.info("delivery %s ping: pong", guid)
            return reply(200, status="pong", zen=getattr(envelope, "zen", None)), "pong"
        action = envelope.action
        handler = self.router.find(event, action)
        if handler is None:
            what = f"{event}.{action}" if action else event
            return self._done(guid, event, action, Outcome.ignored(f"no handler for {what}")), "ignored"
        sender = envelope.sender
        if sender is not None and sender.type == "Bot":
            return self._done(guid, event, action, Outcome.ignored(f"sender {sender.login} is a bot")), "ignored"
        delivery = Delivery(guid, event, action, body, self.settings, self.queues(), parsed)
        return await self._dispatch(delivery, handler)

    async def _dispatch(self, delivery: Delivery, handler: Any) -> tuple[Response, str]:
        try:
            outcome = await handler(delivery)
        except ValidationError as exc:
            errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
            return reply(422, error="payload is missing fields this event needs", fields=errors), "invalid"
        except REDIS_DOWN as exc:
            log.warning("delivery %s: Redis unavailable (%s)", delivery.id, exc)
            return reply(503, error="queue unavailable; GitHub will show this delivery as failed"), "unavailable"
        except Exception:
            log.exception("delivery %s: handler %s failed", delivery.id, handler.__name__)
            return reply(500, error=f"internal error (delivery {delivery.id})"), "error"
        if outcome.status == "duplicate":
            log.info("delivery %s: duplicate, nothing done", delivery.id)
            return reply(200, status="duplicate", delivery=delivery.id), "duplicate"
        return self._done(delivery.id, delivery.event, delivery.action, outcome), outcome.status

    def _done(self, guid: str, event: str, action: str | None, outcome: Outcome) -> Response:
        log.info("delivery %s %s.%s: %s: %s", guid, event, action, outcome.status, outcome.detail)
        return reply(202, status=outcome.status, detail=outcome.detail, delivery=guid)
