"""The job contract: one frozen dataclass per kind of job, used alike by the intake that
enqueues it, the queue that stores it (as saq keyword arguments), the worker that starts
it and the job module that runs it.

A job's arguments travel through Redis as JSON: :meth:`to_kwargs` gives what saq stores,
:meth:`from_kwargs` reads it back (tuples come back from JSON lists). Adding a field with
a default keeps jobs queued by an older release readable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal, Self

from ruvopt.bot import keys

QueueName = Literal["review", "bench"]


class JobArgs:
    """What every job dataclass shares: its saq function and queue, and (de)serialisation.
    Each defines ``key``: saq's job key, unique while the job is queued or running."""

    function: ClassVar[str]
    queue: ClassVar[QueueName] = "review"

    def to_kwargs(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        return {name: list(value) if isinstance(value, tuple) else value for name, value in data.items()}

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> Self:
        known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
        values = {}
        for name, value in kwargs.items():
            if name in known:
                values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)


@dataclass(frozen=True)
class ReviewJob(JobArgs):
    """The static review of one head of a pull request (queue ``ruvopt:review``)."""

    function: ClassVar[str] = "review"

    installation: int
    repo: str
    pr: int
    head_sha: str
    base_sha: str
    force: bool = False  # a re-check: runs even if the head was reviewed or superseded
    delivery: str = ""  # the webhook delivery that asked for it (for the logs and the user)

    @property
    def key(self) -> str:
        return keys.review_job(self.repo, self.head_sha)


@dataclass(frozen=True)
class CommandJob(JobArgs):
    """One ``/ruvopt`` comment, or one press of a check run's "Run bench" button."""

    function: ClassVar[str] = "command"

    installation: int
    repo: str
    pr: int
    comment_id: int  # 0: a button press
    author: str
    body: str
    delivery: str = ""
    head_sha: str | None = None  # a button press: the commit whose check run it was on

    @property
    def request(self) -> str:
        """What identifies the request: the comment, or the delivery of the button press."""
        return str(self.comment_id) if self.comment_id else f"button-{self.delivery}"

    @property
    def key(self) -> str:
        return keys.command_job(self.repo, self.request)


@dataclass(frozen=True)
class BenchJob(JobArgs):
    """``/ruvopt bench``: base vs head measured in the sandbox (queue ``ruvopt:bench``)."""

    function: ClassVar[str] = "bench"
    queue: ClassVar[QueueName] = "bench"

    installation: int
    repo: str
    pr: int
    head_sha: str  # pinned when the request was accepted; this is what gets measured
    base_sha: str
    requested_by: str
    comment_id: int | None = None  # None: the "Run bench" button of a check run
    profiles: tuple[str, ...] = ()  # empty: `[bench]` of the base branch decides
    benches: tuple[str, ...] = ()
    runs: int | None = None
    delivery: str = ""
    pr_head: str = ""  # the PR's head when the request was accepted (the button may pin an older commit)

    @property
    def key(self) -> str:
        return keys.bench_job(self.repo, self.pr)


Job = ReviewJob | CommandJob | BenchJob
BY_FUNCTION: dict[str, type[ReviewJob] | type[CommandJob] | type[BenchJob]] = {
    cls.function: cls for cls in (ReviewJob, CommandJob, BenchJob)
}
