"""Webhook handlers, one module per feature. A handler only decides and enqueues: no
GitHub call, no clone and no analysis happens inside a web request."""

from __future__ import annotations

from ruvopt.bot.receiver.handlers import checks, comments, pull_request
from ruvopt.bot.receiver.routing import Router


def default_router() -> Router:
    """Every feature's routes in one table (a route registered twice is an error)."""
    return Router(pull_request.router, comments.router, checks.router)
