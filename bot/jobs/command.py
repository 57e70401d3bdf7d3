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

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from ruvopt.bot.commands import HELP, Bench, CommandError, Help, Recheck, find_command, parse
from ruvopt.bot.github.client import PullHead
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import BenchJob, CommandJob, ReviewJob
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.command")

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


class CommandGitHub(Protocol):
    """What the command job needs from GitHub: :class:`ruvopt.bot.github.client.GitHubClient`
    (synchronous; the job calls it in a thread so its heartbeat keeps running)."""

    def get_permission_role(self, repo: str, user: str) -> str: ...
    def reply_once(self, repo: str, pr: int, body: str) -> bool: ...
    def pull_head(self, repo: str, pr: int) -> PullHead: ...
    def react(self, repo: str, comment_id: int, content: str) -> Any: ...


def marker(comment_id: int | str) -> str:
    """Hidden marker on every reply, so a retried job's reply can be recognised."""
    return f"<!-- ruvopt:reply-to:{comment_id} -->"


async def run_command(
    settings: Settings, queues: queue.Queues, github: CommandGitHub, job: CommandJob, *, last_attempt: bool = False
) -> dict[str, Any]:
    """``job.head_sha`` (with ``comment_id`` 0): a "Run bench" button pressed on that commit."""
    if await queue.command_done(queues.redis, job.repo, job.request):
        what = f"comment {job.comment_id}" if job.comment_id else f"button press (delivery {job.delivery})"
        return {"skipped": f"{what} was already handled"}
    call = _Call(settings, queues, github, job)
    try:
        result = await call.execute(job.body)
    except Exception:
        # A user error is a reply; anything else is retried, and only the last attempt
        # tells the commenter (with the delivery id to find the log line).
        log.exception("command from %s (delivery %s) failed", job.request, job.delivery)
        if last_attempt:
            await call.reply(f"ruvopt hit an internal error (delivery `{job.delivery or 'unknown'}`).")
        raise
    await queue.mark_command_done(queues.redis, job.repo, job.request)
    return result


@dataclass
class _Call:
    settings: Settings
    queues: queue.Queues
    github: CommandGitHub
    job: CommandJob

    @property
    def repo(self) -> str:
        return self.job.repo

    @property
    def pr(self) -> int:
        return self.job.pr

    async def reply(self, text: str) -> None:
        """One reply, recognised by its hidden marker: a retried job does not reply twice."""
        body = f"@{self.job.author} {text}\n\n{marker(self.job.request)}"
        await asyncio.to_thread(self.github.reply_once, self.repo, self.pr, body)

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
        role = await asyncio.to_thread(self.github.get_permission_role, self.repo, self.job.author)
        if role not in WRITE_ROLES:
            await self.reply(f"`/ruvopt {command.name}` needs write access to this repository (you have `{role}`).")
            return {"denied": command.name, "role": role}
        pull = await asyncio.to_thread(self.github.pull_head, self.repo, self.pr)
        if pull.state != "open":
            await self.reply(f"#{self.pr} is {pull.state}; `/ruvopt {command.name}` runs on open pull requests.")
            return {"refused": command.name, "state": pull.state}
        if isinstance(command, Recheck):
            return await self.recheck(pull)
        return await self.bench(command, pull)

    async def recheck(self, pull: PullHead) -> dict[str, Any]:
        review = ReviewJob(
            self.job.installation,
            self.repo,
            self.pr,
            pull.head_sha,
            pull.base_sha,
            force=True,
            delivery=self.job.delivery,
        )
        # The intake every webhook goes through; its own delivery id, so a retry of this
        # command job finds the re-check already accepted instead of queueing a second one.
        accepted = await intake.accept(self.queues, self.settings, delivery=f"{self.job.key}:recheck", job=review)
        queued = accepted.enqueued or accepted.duplicate
        await self.reply(f"re-check of `{pull.head_sha[:12]}` {'queued' if queued else 'already queued'}.")
        return {"command": "recheck", "head_sha": pull.head_sha, "queued": queued}

    async def bench(self, command: Bench, pull: PullHead) -> dict[str, Any]:
        head = self.job.head_sha or pull.head_sha
        job = BenchJob(
            installation=self.job.installation,
            repo=self.repo,
            pr=self.pr,
            head_sha=head,
            base_sha=pull.base_sha,
            requested_by=self.job.author,
            comment_id=self.job.comment_id or None,
            profiles=command.profiles,
            benches=command.benches,
            runs=command.runs,
            delivery=self.job.delivery,
            pr_head=pull.head_sha,
        )
        ticket = await queue.enqueue_bench(self.queues, self.settings, job)
        if ticket.running_job is not None:
            other = ticket.running_job
            await self.reply(
                f"a benchmark of #{self.pr} is running now (`{other.head_sha[:12]}`, requested by "
                f"@{other.requested_by}); one runs at a time per pull request. Ask again when its "
                "`ruvopt/bench` check run has completed."
            )
            return {"command": "bench", "refused": "running", "running": other.head_sha}
        if self.job.comment_id:
            await asyncio.to_thread(self.github.react, self.repo, self.job.comment_id, "eyes")
        await self.reply(bench_reply(job, ticket, pull))
        return {
            "command": "bench",
            "head_sha": head,
            "job": ticket.job_key,
            "position": ticket.position,
            "replaced": ticket.replaced.head_sha if ticket.replaced else None,
        }


def bench_reply(job: BenchJob, ticket: queue.BenchTicket, pull: PullHead) -> str:
    options = [f"{k}={','.join(v)}" for k, v in (("profile", job.profiles), ("bench", job.benches)) if v]
    options += [f"runs={job.runs}"] if job.runs else []
    what = f" ({' '.join(options)})" if options else " (`[bench]` of the base branch)"
    where = f"position {ticket.position} in the bench queue" if ticket.position else "starting now"
    lines = [
        f"👀 benchmark of `{job.head_sha[:12]}` against base `{job.base_sha[:12]}`{what} queued: {where} "
        f"({ticket.running} running). The result will be the `ruvopt/bench` check run on "
        f"`{job.head_sha[:12]}` and a section of the summary comment."
    ]
    if ticket.replaced is not None:
        old = ticket.replaced
        lines.append(f"It replaces the queued request for `{old.head_sha[:12]}` from @{old.requested_by}.")
    if job.head_sha != pull.head_sha:
        lines.append(
            f"`{job.head_sha[:12]}` is no longer the head of #{job.pr} (now `{pull.head_sha[:12]}`); "
            f"`{job.head_sha[:12]}` is what gets measured."
        )
    return " ".join(lines)


def give_up_command(settings: Settings, job: CommandJob) -> bool:
    """The sweeper gives up on a command whose workers kept dying: answer the commenter
    (once, by the reply marker) instead of leaving the comment unanswered for ever.
    Synchronous (the caller runs it in a thread); True when the reply is on the pull request."""
    from ruvopt.bot.github.client import GitHubClient

    command = (find_command(job.body) or "/ruvopt").strip()
    text = (
        f"ruvopt could not finish `{command}`: its worker stopped before answering, more than once "
        f"(delivery `{job.delivery or 'unknown'}`). Comment it again to retry."
    )
    gh = GitHubClient.for_installation(settings, job.installation)
    try:
        gh.reply_once(job.repo, job.pr, f"@{job.author} {text}\n\n{marker(job.request)}")
        return True
    finally:
        gh.close()
