"""Queue reliability with real processes: ``ruvopt worker`` subprocesses, a real
redis-server that gets killed and restarted, real child processes.

The worker runs with the production defaults of :class:`ruvopt.bot.settings.Settings`
(heartbeat 10 s, sweep every 5 s, retries 3) unless a test says otherwise, so these
tests prove the saq settings docs/app.md requires.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from saq import Job

from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import intake, procs, worker
from ruvopt.bot.queue.jobs import BenchJob, ReviewJob
from ruvopt.bot.receiver.app import create_app
from ruvopt.bot.settings import Settings
from tests import payloads
from tests.queue_probe import BENCH, REVIEW, get, job, queued_jobs
from tests.waiting import wait_for, wait_for_async

DEFAULTS = Settings()
# A silent job is stuck after `heartbeat`, found by the next sweep, then saq waits 5 s for
# the abort to land, the retry waits up to retry_delay (1 s) and the scheduler polls each 1 s.
RECOVERY_BOUND_S = DEFAULTS.job_heartbeat_seconds + DEFAULTS.sweep_seconds + 5 + 1 + 1 + 5  # + slack


class Workers:
    """``ruvopt worker`` processes started by one test; all killed at its end."""

    def __init__(self, redis_url: str, logs: Path) -> None:
        self.redis_url, self.logs = redis_url, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, queues: str = "review", **env: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"worker-{len(self.started)}.log"
        environment = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "RUVOPT_REDIS_URL": self.redis_url,
            **env,
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ruvopt.cli.main", "worker", "--queues", queues],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append(proc)
        wait_for(lambda: b"worker consuming" in log.read_bytes(), 20, f"worker did not start; log:\n{log}")
        # saq sweeps at start: a job dequeued in that instant is still "queued" in the
        # active list, and the sweep aborts and retries it (a saq race; our reporters are
        # idempotent). Tests that count runs enqueue after the first sweep has listed the
        # active jobs (its lock key is set by the same script, before the listing).
        for name in queues.split(","):
            sweep_lock = f"saq:{queue.QUEUE_NAMES[name]}:sweep"
            wait_for(lambda k=sweep_lock: get(self.redis_url, k) is not None, 20, f"the first sweep of {name}")
        return proc

    def log(self, index: int) -> str:
        return (self.logs / f"worker-{index}.log").read_text(errors="replace")

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def workers(redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(redis_url, tmp_path)
    yield pool
    pool.kill_all()


def counter(redis_url: str, marker: str, name: str) -> int:
    return int(get(redis_url, f"ruvopt:diag:{marker}:{name}") or 0)


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie waiting for its parent to reap it counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


# --- at-least-once ------------------------------------------------------------------------------


def test_a_job_of_a_sigkilled_worker_is_run_again_exactly_once_by_another_worker(workers, redis_url):
    first = workers.start()
    # Longer than the heartbeat: the second run also proves a live job is not swept.
    seconds = DEFAULTS.job_heartbeat_seconds + 2
    asyncio.run(worker.enqueue_sleep(redis_url, seconds, "killed"))
    wait_for(lambda: counter(redis_url, "killed", "started") == 1, 20, "the first worker never started the job")
    killed = time.monotonic()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    workers.start()
    wait_for(lambda: counter(redis_url, "killed", "started") == 2, RECOVERY_BOUND_S, "job not re-run")
    recovery = time.monotonic() - killed
    # Once saq records the job complete, no sweep re-queues it: a third start could only
    # have come before that, and the counters are read after it.
    wait_for(lambda: job(redis_url, REVIEW, "diag:killed")["status"] == "complete", seconds + 5, "re-run incomplete")
    assert counter(redis_url, "killed", "started") == 2
    assert counter(redis_url, "killed", "completed") == 1
    assert job(redis_url, REVIEW, "diag:killed")["status"] == "complete"
    print(f"re-run {recovery:.1f}s after the kill (bound {RECOVERY_BOUND_S}s)")


def test_sigterm_puts_the_running_job_back_for_another_worker(workers, redis_url):
    first = workers.start(RUVOPT_SHUTDOWN_GRACE_SECONDS="0")
    asyncio.run(worker.enqueue_sleep(redis_url, 3, "terminated"))
    wait_for(lambda: counter(redis_url, "terminated", "started") == 1, 10, "job never started")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    requeued = job(redis_url, REVIEW, "diag:terminated")
    assert (requeued["status"], requeued["error"]) == ("queued", "cancelled")
    workers.start()
    wait_for(lambda: counter(redis_url, "terminated", "completed") == 1, 15, "re-queued job did not complete")
    assert counter(redis_url, "terminated", "started") == 2


def test_a_job_queued_before_redis_restarts_is_processed_by_a_worker_started_after(workers, redis_server, redis_url):
    asyncio.run(worker.enqueue_sleep(redis_url, 0.1, "restart"))
    redis_server.restart(hard=True)  # SIGKILL: nothing flushed on the way down
    workers.start()
    wait_for(lambda: counter(redis_url, "restart", "completed") == 1, 15, "queued job lost in the restart")


async def test_an_accepted_delivery_survives_a_redis_crash_before_any_worker_runs(redis_server, redis_url):
    settings = Settings(webhook_secret=payloads.SECRET, app_id=payloads.APP_ID, redis_url=redis_url)
    app = create_app(settings)
    payload = payloads.pull_request("opened", number=3)
    body, headers = payloads.delivery("pull_request", payload, guid="before-crash")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ruvopt") as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 202
        redis_server.restart(hard=True)
        [review] = queued_jobs(redis_url, REVIEW)
        assert review["kwargs"]["head_sha"] == payload["pull_request"]["head"]["sha"]
        again = await client.post("/webhook", content=body, headers=headers)  # GitHub's redelivery
        assert again.json()["status"] == "duplicate"
    await app.state.queues.redis.aclose()


async def test_a_job_the_receiver_enqueued_is_run_by_a_real_saq_worker(workers, redis_url):
    # ruvopt.bot.queue.intake writes saq's job layout itself (one round trip per delivery); a real
    # worker must take such a job like one saq enqueued. The head is marked reviewed, so
    # the job ends in the worker's skip path without needing GitHub.
    settings = Settings(webhook_secret=payloads.SECRET, app_id=payloads.APP_ID, redis_url=redis_url)
    app = create_app(settings)
    payload = payloads.pull_request("opened", number=8)
    sha = payload["pull_request"]["head"]["sha"]
    body, headers = payloads.delivery("pull_request", payload)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ruvopt") as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 202
    await queue.mark_reviewed(app.state.queues.redis, "Codertocat/Hello-World", sha)
    await app.state.queues.redis.aclose()
    workers.start()
    key = f"review:Codertocat/Hello-World@{sha}"
    await asyncio.to_thread(wait_for, lambda: job(redis_url, REVIEW, key)["status"] == "complete", 15, "not run")
    assert "already reviewed" in job(redis_url, REVIEW, key)["result"]["skipped"]


def test_a_long_bench_does_not_delay_a_review(workers, redis_url):
    workers.start("review,bench")
    asyncio.run(worker.enqueue_sleep(redis_url, 60, "bench", queue_name="bench"))
    wait_for(lambda: counter(redis_url, "bench", "started") == 1, 10, "bench never started")
    asyncio.run(worker.enqueue_sleep(redis_url, 0.1, "review", queue_name="review"))
    wait_for(lambda: counter(redis_url, "review", "completed") == 1, 5, "the review (it waited for the bench)")
    assert counter(redis_url, "bench", "completed") == 0


# --- child processes ------------------------------------------------------------------------------


def test_aborting_a_running_job_kills_its_child_process(workers, redis_url):
    workers.start()
    asyncio.run(worker.enqueue_sleep(redis_url, 300, "aborted", spawn=True))
    wait_for(lambda: get(redis_url, "ruvopt:diag:aborted:pid") is not None, 10, "child never started")
    pid = int(get(redis_url, "ruvopt:diag:aborted:pid") or 0)
    assert alive(pid)

    async def abort() -> None:
        redis = queue.connect(redis_url, role="worker")
        review = queue.make_queues(redis).review
        await review.abort(await review.job("diag:aborted"), error="operator abort")
        await redis.aclose()

    asyncio.run(abort())
    wait_for(lambda: not alive(pid), 1 + procs.KILL_GRACE_S + 3, f"child {pid} outlived its aborted job")
    wait_for(
        lambda: job(redis_url, REVIEW, "diag:aborted")["status"] == "aborted",
        5,
        f"job marked aborted; worker log:\n{workers.log(0)}",
    )
    assert counter(redis_url, "aborted", "completed") == 0


def test_a_sigkilled_worker_takes_its_child_process_with_it(workers, redis_url):
    proc = workers.start()
    asyncio.run(worker.enqueue_sleep(redis_url, 300, "orphan", spawn=True))
    wait_for(lambda: get(redis_url, "ruvopt:diag:orphan:pid") is not None, 10, "child never started")
    pid = int(get(redis_url, "ruvopt:diag:orphan:pid") or 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    wait_for(lambda: not alive(pid), 5, f"child {pid} outlived its SIGKILLed worker")


async def test_cancelling_run_kills_the_whole_process_group():
    started: list[int] = []
    task = asyncio.create_task(procs.run(["sh", "-c", "sleep 300 & sleep 300 & wait"], on_start=started.append))
    await wait_for_async(lambda: started and len(group_members(started[0])) == 3, 10, "sh and both sleeps")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_async(lambda: group_members(started[0]) == [], 5, "the cancelled run's group to be gone")


async def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period():
    started: list[int] = []
    script = "trap '' TERM; sleep 300 & wait; wait"
    t0 = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await procs.run(["sh", "-c", script], timeout=0.5, kill_grace=0.5, on_start=started.append)
    # SIGKILL is sent before run() raises; the kernel finishes the kill asynchronously.
    await wait_for_async(lambda: group_members(started[0]) == [], 5, "the SIGKILLed group to be gone")
    assert time.monotonic() - t0 < 10


async def test_run_returns_the_output_and_exit_status():
    done = await procs.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")


# --- the queue contract ---------------------------------------------------------------------------


@pytest.fixture
async def queues(redis_url):
    redis = queue.connect(redis_url, role="worker")
    yield queue.make_queues(redis)
    await redis.aclose()


def review_job(sha: str, pr: int = 4, force: bool = False) -> ReviewJob:
    return ReviewJob(1, "o/r", pr, sha, payloads.new_sha(), force=force)


async def test_a_review_is_keyed_by_repo_and_head_so_it_is_queued_once(queues, redis_url):
    sha = payloads.new_sha()
    first = await intake.accept(queues, DEFAULTS, delivery="d-1", job=review_job(sha))
    forced = await intake.accept(queues, DEFAULTS, delivery="d-2", job=review_job(sha, force=True))
    assert first.enqueued
    assert not forced.enqueued
    assert not forced.duplicate
    assert len(queued_jobs(redis_url, REVIEW)) == 1


async def record_head(queues: queue.Queues, sha: str, pr: int = 4) -> None:
    head = intake.Head(pr, sha, payloads.new_sha(), None)
    await intake.accept(queues, DEFAULTS, delivery=f"d-{sha}", job=None, repo="o/r", head=head)


async def test_a_reviewed_head_is_skipped_when_its_job_starts_unless_forced(queues):
    sha = payloads.new_sha()
    await record_head(queues, sha)
    assert await queue.review_skip_reason(queues.redis, "o/r", 4, sha, force=False) is None
    await queue.mark_reviewed(queues.redis, "o/r", sha)
    assert "already reviewed" in (await queue.review_skip_reason(queues.redis, "o/r", 4, sha, force=False) or "")
    assert await queue.review_skip_reason(queues.redis, "o/r", 4, sha, force=True) is None


async def test_the_review_job_skips_a_head_superseded_after_it_was_queued(queues):
    old, new = payloads.new_sha(), payloads.new_sha()
    await record_head(queues, old)
    await record_head(queues, new)
    state = worker.State(DEFAULTS, queues.redis, queues)
    first_attempt = Job("review", attempts=1)  # saq counts the attempt before the function runs
    result = await worker.review({"state": state, "job": first_attempt}, **review_job(old).to_kwargs())
    assert "superseded" in result["skipped"]


async def test_bench_jobs_go_to_their_own_queue(queues, redis_url):
    job = BenchJob(
        installation=1,
        repo="o/r",
        pr=4,
        head_sha=payloads.new_sha(),
        base_sha=payloads.new_sha(),
        requested_by="me",
        comment_id=9,
        profiles=("release",),
        runs=3,
    )
    ticket = await queue.enqueue_bench(queues, DEFAULTS, job)
    assert ticket.position == 1
    assert ticket.replaced is None
    assert ticket.running_job is None
    [stored] = queued_jobs(redis_url, BENCH)
    assert BenchJob.from_kwargs(stored["kwargs"]) == job  # what the worker rebuilds is what was queued
    assert [j["function"] for j in queued_jobs(redis_url, BENCH)] == ["bench"]
    assert queued_jobs(redis_url, REVIEW) == []
