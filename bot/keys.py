"""Every Redis key ruvopt writes, in one place (all prefixed ``ruvopt:``).

Redis is the broker and the only state store. saq keeps its own keys for the jobs of its
two queues (``saq:ruvopt:review:*``, ``saq:ruvopt:bench:*``); the facts that must outlive
a job, or that several processes share, are these:

==========================================  ============================================
``ruvopt:delivery:<guid>``                  a webhook delivery was accepted (dedupe, ≥ 3 days)
``ruvopt:pr-head:<repo>#<pr>``              the PR's latest head: ``"<updated_at epoch> <sha>"``
``ruvopt:sha-pr:<repo>@<sha>``              PR and base of a head SHA (fork check events list no PRs)
``ruvopt:reviewed:<repo>@<sha>``            a review of that head finished (not repeated unless forced)
``ruvopt:command-done:<repo>:<id>``         a ``/ruvopt`` comment was handled (retries don't re-reply)
``ruvopt:bench-moved:<repo>#<pr>@<sha>:…``  a bench request's "the head moved" reply was posted
``ruvopt:redeliver-asked:<guid>``           the reconciler asked GitHub to redeliver (cool-down)
``ruvopt:unfinished`` (sorted set)          jobs whose attempt started and did not complete
``ruvopt:unfinished:<job key>``             that job's function and arguments, for the sweeper
``ruvopt:resumed:<job key>``                how often the sweeper enqueued it again
``ruvopt:lock:sweeper``                     one sweeper round at a time across the fleet
``ruvopt:lock:review:<repo>#<pr>``          one review of a PR plans and posts at a time
``ruvopt:lock:summary:<repo>#<pr>``         one writer of the PR's summary comment at a time
``ruvopt:installation-token:<id>``          the installation token, sealed (AES-GCM), until near expiry
``ruvopt:write-gate:<id>``                  the installation's next write slot (writes ≥ 1 s apart)
``ruvopt:diag:<marker>:<what>``             the operator's ``sleep_job`` diagnostic counters
==========================================  ============================================

Job keys (saq's ``key``, unique while a job is queued or running) are here too: a review
per (repository, head SHA), a command per comment, a bench per pull request.
"""

from __future__ import annotations

PREFIX = "ruvopt:"

REVIEW_QUEUE = "ruvopt:review"
BENCH_QUEUE = "ruvopt:bench"

UNFINISHED = "ruvopt:unfinished"
SWEEPER_LOCK = "ruvopt:lock:sweeper"


# --- job keys (saq) ---------------------------------------------------------------------------


def review_job(repo: str, head_sha: str) -> str:
    return f"review:{repo}@{head_sha}"


def command_job(repo: str, comment_id: int | str) -> str:
    return f"command:{repo}:{comment_id}"


def bench_job(repo: str, pr: int) -> str:
    """One bench per pull request is queued or running at a time."""
    return f"bench:{repo}#{pr}"


# --- facts --------------------------------------------------------------------------------------


def delivery(guid: str) -> str:
    return f"ruvopt:delivery:{guid}"


def pr_head(repo: str, pr: int) -> str:
    return f"ruvopt:pr-head:{repo}#{pr}"


def sha_pr(repo: str, sha: str) -> str:
    return f"ruvopt:sha-pr:{repo}@{sha}"


def reviewed(repo: str, sha: str) -> str:
    return f"ruvopt:reviewed:{repo}@{sha}"


def command_done(repo: str, comment_id: int | str) -> str:
    return f"ruvopt:command-done:{repo}:{comment_id}"


def bench_moved(repo: str, pr: int, head_sha: str, request: str) -> str:
    return f"ruvopt:bench-moved:{repo}#{pr}@{head_sha}:{request}"


def redeliver_asked(guid: str) -> str:
    return f"ruvopt:redeliver-asked:{guid}"


def unfinished(job_key: str) -> str:
    return f"ruvopt:unfinished:{job_key}"


def resumed(job_key: str) -> str:
    return f"ruvopt:resumed:{job_key}"


def review_lock(repo: str, pr: int) -> str:
    return f"ruvopt:lock:review:{repo}#{pr}"


def summary_lock(repo: str, pr: int) -> str:
    return f"ruvopt:lock:summary:{repo}#{pr}"


def installation_token(installation_id: int) -> str:
    return f"ruvopt:installation-token:{installation_id}"


def write_gate(installation_id: int) -> str:
    return f"ruvopt:write-gate:{installation_id}"


def diag(marker: str, what: str) -> str:
    return f"ruvopt:diag:{marker}:{what}"
