"""The ``command`` job: run one ``/ruvopt`` comment.

Parsed strictly (:mod:`ruvopt.bot.commands`); a malformed command gets a reply that says what to
write instead. ``recheck`` and ``bench`` need ``role_name`` admin, maintain or write from
``GET /repos/{o}/{r}/collaborators/{user}/permission`` — not ``author_association``,
which says nothing about access granted through teams. ``bench`` pins the PR's head SHA
at the moment it is accepted and replies with the queue position.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from ruvopt.bot.commands import HELP, Bench, CommandError, Help, Recheck, find_command, parse
from ruvopt.bot.github.client import PullHead
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.command")

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


class CommandGitHub(Protocol):
    """What the command job needs from GitHub (implemented by :mod:`ruvopt.bot.github.client`)."""

    async def permission(self, repo: str, user: str) -> str:
        """``role_name`` of ``user`` on ``repo`` (admin, maintain, write, triage, read, none)."""
        ...

    async def reply(self, repo: str, pr: int, body: str) -> None:
        """Post ``body`` as a comment on the pull request."""
        ...

    async def pull_request(self, repo: str, pr: int) -> PullHead:
        """The pull request's current head and base SHAs and state."""
        ...


def marker(comment_id: int) -> str:
    """Hidden marker on every reply, so a retried job's reply can be recognised."""
    return f"<!-- ruvopt:reply-to:{comment_id} -->"


async def run_command(
    settings: Settings,
    queues: queue.Queues,
    github: CommandGitHub,
    *,
    installation: int,
    repo: str,
    pr: int,
    comment_id: int,
    author: str,
    body: str,
    delivery: str = "",
    last_attempt: bool = False,
) -> dict[str, Any]:
    if await queue.command_done(queues.redis, repo, comment_id):
        return {"skipped": f"comment {comment_id} was already handled"}
    call = _Call(settings, queues, github, installation, repo, pr, comment_id, author)
    try:
        result = await call.execute(body)
    except Exception:
        # A user error is a reply; anything else is retried, and only the last attempt
        # tells the commenter (with the delivery id to find the log line).
        log.exception("command from comment %s (delivery %s) failed", comment_id, delivery)
        if last_attempt:
            await call.reply(f"ruvopt hit an internal error (delivery `{delivery or 'unknown'}`).")
        raise
    await queue.mark_command_done(queues.redis, repo, comment_id)
    return result


@dataclass
class _Call:
    settings: Settings
    queues: queue.Queues
    github: CommandGitHub
    installation: int
    repo: str
    pr: int
    comment_id: int
    author: str

    async def reply(self, text: str) -> None:
        await self.github.reply(self.repo, self.pr, f"@{self.author} {text}\n\n{marker(self.comment_id)}")

    async def execute(self, body: str) -> dict[str, Any]:
        line = find_command(body)
        if line is None:
            return {"ignored": "no /ruvopt command"}
        try:
            command = parse(line)
        except CommandError as exc:
            await self.reply(f"{exc}\n\n{HELP}")
            return {"error": str(exc)}
        if isinstance(command, Help):
            await self.reply(HELP)
            return {"command": "help"}
        role = await self.github.permission(self.repo, self.author)
        if role not in WRITE_ROLES:
            await self.reply(f"`/ruvopt {command.name}` needs write access to this repository (you have `{role}`).")
            return {"denied": command.name, "role": role}
        pull = await self.github.pull_request(self.repo, self.pr)
        if pull.state != "open":
            await self.reply(f"#{self.pr} is {pull.state}; `/ruvopt {command.name}` runs on open pull requests.")
            return {"refused": command.name, "state": pull.state}
        if isinstance(command, Recheck):
            return await self.recheck(pull)
        return await self.bench(command, pull)

    async def recheck(self, pull: PullHead) -> dict[str, Any]:
        job = await queue.enqueue_review(
            self.queues, self.settings, installation=self.installation, repo=self.repo, pr=self.pr,
            head_sha=pull.head_sha, base_sha=pull.base_sha, force=True,
        )  # fmt: skip
        state = "queued" if job is not None else "already queued"
        await self.reply(f"re-check of `{pull.head_sha[:12]}` {state}.")
        return {"command": "recheck", "head_sha": pull.head_sha, "queued": job is not None}

    async def bench(self, command: Bench, pull: PullHead) -> dict[str, Any]:
        ticket = await queue.enqueue_bench(
            self.queues, self.settings, installation=self.installation, repo=self.repo, pr=self.pr,
            head_sha=pull.head_sha, base_sha=pull.base_sha, profile=command.profile, bench=command.bench,
            requested_by=self.author, comment_id=self.comment_id,
        )  # fmt: skip
        what = " ".join(f"{k}={v}" for k, v in (("profile", command.profile), ("bench", command.bench)) if v)
        where = f"position {ticket.position} in the bench queue" if ticket.position else "running now"
        again = "was already queued" if ticket.duplicate else "queued"
        shipped = importlib.util.find_spec("ruvopt.bot.jobs.bench") is not None
        waiting = "" if shipped else " No bench worker runs in this deployment yet; it stays queued."
        await self.reply(
            f"benchmark of `{pull.head_sha[:12]}`{f' ({what})' if what else ''} {again}: {where}"
            f" ({ticket.running} running).{waiting}"
        )
        return {"command": "bench", "head_sha": pull.head_sha, "job": ticket.job_key, "position": ticket.position}
