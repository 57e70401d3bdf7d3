"""Reads what the receiver left in Redis, straight from saq's keys (not through bot code).

saq (0.26) keeps, per queue ``<name>``: a list ``saq:<name>:queued`` of job ids waiting,
``saq:<name>:active`` of running ones, and each job's JSON at ``saq:job:<name>:<key>``.
"""

from __future__ import annotations

import json
from typing import Any

import redis

REVIEW = "ruvopt:review"
BENCH = "ruvopt:bench"


def queued_jobs(redis_url: str, queue_name: str = REVIEW) -> list[dict[str, Any]]:
    """The jobs waiting in ``queue_name``, in the order workers will take them."""
    client = redis.Redis.from_url(redis_url)
    try:
        ids = client.lrange(f"saq:{queue_name}:queued", 0, -1)
        return [json.loads(raw) for raw in client.mget(ids) if raw is not None] if ids else []
    finally:
        client.close()


def job(redis_url: str, queue_name: str, key: str) -> dict[str, Any] | None:
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.get(f"saq:job:{queue_name}:{key}")
        return json.loads(raw) if raw is not None else None
    finally:
        client.close()


def get(redis_url: str, key: str) -> str | None:
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.get(key)
        return raw.decode() if raw is not None else None
    finally:
        client.close()
