"""The routing table: which (event, action) pairs have handlers, and how they are named."""

from __future__ import annotations

import inspect

import pytest

from ruvopt.bot.receiver.handlers import default_router
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router

# docs/app.md, "Events": the events ruvopt acts on, and nothing else.
CONTRACT_EVENTS = {
    ("pull_request", "opened"),
    ("pull_request", "synchronize"),
    ("pull_request", "reopened"),
    ("pull_request", "ready_for_review"),
    ("issue_comment", "created"),
    ("check_run", "rerequested"),
    ("check_run", "requested_action"),
    ("check_suite", "rerequested"),
}


def test_the_default_router_handles_exactly_the_events_of_the_github_contract():
    assert set(default_router().routes()) == CONTRACT_EVENTS


def test_handlers_are_named_after_their_event_and_action():
    for (event, action), handler in default_router().routes().items():
        assert handler.__name__ == f"{event}_{action}"


def test_handlers_stay_short_deciders():
    # A handler decides and enqueues in about ten lines (docs/architecture.md); shared steps live in
    # helpers next to it.
    for handler in default_router().routes().values():
        body = inspect.getsource(handler).splitlines()
        assert len(body) <= 14, f"{handler.__name__} is {len(body)} lines"


def test_router_finds_by_event_and_action_and_nothing_else():
    router = Router()

    @router.register("pull_request", "opened")
    async def pull_request_opened(delivery: Delivery) -> Outcome:
        return Outcome.queued("x")

    assert router.find("pull_request", "opened") is pull_request_opened
    assert router.find("pull_request", "closed") is None
    assert router.find("pull_request", None) is None
    assert router.find("issues", "opened") is None


def test_merging_routers_with_the_same_route_twice_is_an_error():
    first, second = Router(), Router()

    @first.register("ping")
    async def ping_a(delivery: Delivery) -> Outcome:
        return Outcome.ignored("a")

    @second.register("ping")
    async def ping_b(delivery: Delivery) -> Outcome:
        return Outcome.ignored("b")

    with pytest.raises(ValueError, match="two handlers"):
        Router(first, second)
