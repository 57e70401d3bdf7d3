"""Maps (event, action) to the handler that decides what to enqueue.

Each feature module in :mod:`ruvopt.bot.receiver.handlers` owns a :class:`Router` and registers its
handlers, named after event + action (``pull_request_opened``); :func:`ruvopt.bot.receiver.handlers.default_router`
merges them (gidgethub's ``Router(*routers)``, triagebot's handler table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from ruvopt.bot import logs
from ruvopt.bot.queue.contract import Queues
from ruvopt.bot.queue.intake import Accepted
from ruvopt.bot.settings import Settings

V = TypeVar("V", bound=BaseModel)


@dataclass(frozen=True)
class Outcome:
    """What a delivery led to; the receiver's response body and log line."""

    status: Literal["queued", "ignored", "duplicate"]
    detail: str

    @classmethod
    def queued(cls, detail: str) -> Outcome:
        return cls("queued", detail)

    @classmethod
    def ignored(cls, detail: str) -> Outcome:
        return cls("ignored", detail)

    @classmethod
    def duplicate(cls) -> Outcome:
        return cls("duplicate", "delivery already handled; nothing done")

    @classmethod
    def of(cls, accepted: Accepted, what: str) -> Outcome:
        """The outcome of an :func:`ruvopt.bot.queue.intake.accept` call."""
        if accepted.duplicate:
            return cls.duplicate()
        return cls("queued", f"{what} {'queued' if accepted.enqueued else 'already queued'}")


@dataclass
class Delivery:
    """One verified, parsed webhook delivery and what a handler may use to act on it."""

    id: str
    event: str
    action: str | None
    body: bytes  # the verified raw JSON
    settings: Settings
    queues: Queues
    parsed: BaseModel | None = None  # the receiver's parse of the event's full view, if it had one

    def parse(self, view: type[V]) -> V:
        """The payload as ``view`` (a :mod:`ruvopt.bot.receiver.events` model); raises ValidationError (→ 422).

        Parsed from the raw bytes by pydantic, which builds Python objects only for the
        fields the view declares — a 25 KB payload costs a fraction of a full parse — and
        not at all when the receiver already parsed this view. What the view knows of the
        installation, repository and PR joins the log context of this delivery
        (:mod:`ruvopt.bot.logs`; the receiver unbinds it with the delivery).
        """
        parsed = self.parsed if type(self.parsed) is view else view.model_validate_json(self.body)
        logs.bind(**log_context(parsed))
        return parsed


def log_context(view: Any) -> dict[str, Any]:
    installation = getattr(view, "installation", None)
    repository = getattr(view, "repository", None)
    numbered = getattr(view, "pull_request", None) or getattr(view, "issue", None)
    return {
        "installation": getattr(installation, "id", None),
        "repository": getattr(repository, "full_name", None),
        "pr": getattr(numbered, "number", None),
    }


Handler = Callable[[Delivery], Awaitable[Outcome]]


class Router:
    def __init__(self, *routers: Router) -> None:
        self._routes: dict[tuple[str, str | None], Handler] = {}
        for router in routers:
            for route, handler in router._routes.items():
                self._add(route, handler)

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self._add((event, action), handler)
            return handler

        return decorator

    def find(self, event: str, action: str | None) -> Handler | None:
        return self._routes.get((event, action))

    def routes(self) -> dict[tuple[str, str | None], Handler]:
        return dict(self._routes)

    def _add(self, route: tuple[str, str | None], handler: Handler) -> None:
        if route in self._routes:
            raise ValueError(f"two handlers for {route}: {self._routes[route].__name__}, {handler.__name__}")
        self._routes[route] = handler
