"""Property-based fuzzing, small enough for CI: the command parser, the config loader, the
diff parser, every rule over Rust (grammar-aware and mutated real crate files) and the
webhook receiver (real ASGI app, real Redis) each answer every input, within a bound.

What "answer" means per target: :mod:`tests.fuzz.targets`. ``scripts/fuzz.py`` runs the
same targets for hours (hypothesis, or atheris coverage-guided); figures in
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from ruvopt.bot.receiver.app import create_app
from ruvopt.bot.settings import Settings
from tests import payloads
from tests.fuzz import strategies, targets

FAST = settings(
    max_examples=500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SLOW = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(strategies.COMMAND_TEXT)
def test_every_comment_is_a_command_a_refusal_or_nothing(body: str) -> None:
    targets.command(body)


@FAST
@given(strategies.CONFIG_TEXT)
def test_every_config_text_is_a_config_or_a_config_error(text: str) -> None:
    targets.config(text)


@FAST
@given(strategies.DIFF_TEXT)
def test_every_diff_text_is_a_diff_or_a_diff_error(text: str) -> None:
    targets.diff(text)


@SLOW
@given(strategies.RUST)
def test_every_rule_answers_generated_rust(source: str) -> None:
    targets.rules(source.encode())


@SLOW
@given(strategies.mutated_corpus_file())
@example(b"#![allow(\xf5nused_imports)]\nuse super::*;\n")  # found by scripts/fuzz.py: RO104 decoded strictly
def test_every_rule_answers_mutated_real_crate_files(source: bytes) -> None:
    targets.rules(source)


@pytest.fixture(scope="module")
def receiver(redis_server: Any) -> Iterator[Any]:
    redis_server.start()
    app = create_app(Settings(webhook_secret=payloads.SECRET, app_id=payloads.APP_ID, redis_url=redis_server.url))
    loop = asyncio.new_event_loop()
    yield app, loop
    loop.run_until_complete(app.state.queues.redis.aclose())
    loop.close()


@SLOW
@given(strategies.delivery())
def test_the_receiver_answers_every_delivery_without_a_500(receiver: Any, delivery: Any) -> None:
    app, loop = receiver
    headers, body = delivery
    loop.run_until_complete(targets.webhook(app, headers, body))
