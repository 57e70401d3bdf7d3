"""The ``command`` job: run one ``/ruvopt`` comment (or one press of a "Run bench" button).

Parsed strictly (:mod:`ruvopt.bot.commands`); a malformed command gets a reply that says what to
write instead. ``recheck`` and ``bench`` need ``role_name`` admin, maintain or write from
``GET /repos/{o}/{r}/collaborators/{user}/permission`` — not ``author_association``,
which says nothing about access granted through teams.

``bench`` pins a head SHA when it is accepted — the PR's head for a comment, the check
run's commit for the button — acknowledges with 👀 on the comment and a reply with the
queue position, and keeps one bench per PR: a new request replaces a queued one, and is
refused (with a reply saying so) while one of the PR runs.
"""

from __future__ import annotations

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

    async def react(self, repo: str, comment_id: int, content: str) -> None:
        """Add a reaction (``eyes``) to the comment."""
        ...


def marker(comment_id: int | str) -> str:
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
    head_sha: str | None = None,
) -> dict[str, Any]:
    """``head_sha`` (with ``comment_id`` 0): a "Run bench" button pressed on that commit."""
    request = comment_id or f"button-{delivery}"
    if await queue.command_done(queues.redis, repo, request):
        what = f"comment {comment_id}" if comment_id else f"button press (delivery {delivery})"
        return {"skipped": f"{what} was already handled"}
    call = _Call(settings, queues, github, installation, repo, pr, comment_id, author, delivery, head_sha)
    try:
        result = await call.execute(body)
    except Exception:
        # A user error is a reply; anything else is retried, and only the last attempt
        # tells the commenter (with the delivery id to find the log line).
        log.exception("command from %s (delivery %s) failed", request, delivery)
        if last_attempt:
            await call.reply(f"ruvopt hit an internal error (delivery `{delivery or 'unknown'}`).")
        raise
    await queue.mark_command_done(queues.redis, repo, request)
    return result


@dataclass
class _Call:
    settings: Settings
    queues: queue.Queues
    github: CommandGitHub
    installation: int
    repo: str
    pr: int
    comment_id: int  # 0: the button
    author: str
    delivery: str = ""
    button_sha: str | None = None  # the commit whose check run's "Run bench" button was pressed

    async def reply(self, text: str) -> None:
        mark = marker(self.comment_id or f"button-{self.delivery}")
        await self.github.reply(self.repo, self.pr, f"@{self.author} {text}\n\n{mark}")

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
        head = self.button_sha or pull.head_sha
        job = queue.BenchJob(
            installation=self.installation, repo=self.repo, pr=self.pr, head_sha=head, base_sha=pull.base_sha,
            requested_by=self.author, comment_id=self.comment_id or None, profiles=command.profiles,
            benches=command.benches, runs=command.runs, delivery=self.delivery, pr_head=pull.head_sha,
        )  # fmt: skip
        ticket = await queue.enqueue_bench(self.queues, self.settings, job)
        if ticket.running_job is not None:
            other = ticket.running_job
            await self.reply(
                f"a benchmark of #{self.pr} is running now (`{other.head_sha[:12]}`, requested by "
                f"@{other.requested_by}); one runs at a time per pull request. Ask again when its "
                "`ruvopt/bench` check run has completed."
            )
            return {"command": "bench", "refused": "running", "running": other.head_sha}
        if self.comment_id:
            await self.github.react(self.repo, self.comment_id, "eyes")
        await self.reply(bench_reply(job, ticket, pull))
        return {"command": "bench", "head_sha": head, "job": ticket.job_key, "position": ticket.position,
                "replaced": ticket.replaced.head_sha if ticket.replaced else None}  # fmt: skip


def bench_reply(job: queue.BenchJob, ticket: queue.BenchTicket, pull: PullHead) -> str:
    options = [f"{k}={','.join(v)}" for k, v in (("profile", job.profiles), ("bench", job.benches)) if v]
    options += [f"runs={job.runs}"] if job.runs else []
    what = f" ({' '.join(options)})" if options else " (`[bench]` of the base branch)"
    where = f"position {ticket.position} in the bench queue" if ticket.position else "starting now"
    lines = [f"👀 benchmark of `{job.head_sha[:12]}` against base `{job.base_sha[:12]}`{what} queued: {where} "
             f"({ticket.running} running). The result will be the `ruvopt/bench` check run on "
             f"`{job.head_sha[:12]}` and a section of the summary comment."]  # fmt: skip
    if ticket.replaced is not None:
        old = ticket.replaced
        lines.append(f"It replaces the queued request for `{old.head_sha[:12]}` from @{old.requested_by}.")
    if job.head_sha != pull.head_sha:
        lines.append(f"`{job.head_sha[:12]}` is no longer the head of #{job.pr} (now `{pull.head_sha[:12]}`); "
                     f"`{job.head_sha[:12]}` is what gets measured.")  # fmt: skip
    return " ".join(lines)
