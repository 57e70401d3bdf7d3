"""The App as real processes: ``ruvopt serve`` (uvicorn) and ``ruvopt worker`` subprocesses
against a real redis-server and the FakeGitHub, plus what the end-to-end tests and the
benchmark send them (signed real webhook payloads rewritten to a local repository).

Configuration reaches the processes the only way it does in production: environment
variables read by :class:`ruvopt.bot.settings.Settings`.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis

from tests import payloads
from tests.fakegithub import FakeGitHub
from tests.plugins.redis_server import free_port
from tests.review_support import PullWorld
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
_stamps = itertools.count(1_700_000_000, 60)


class AppStack:
    def __init__(self, fake: FakeGitHub, redis_url: str, workdir: Path, **env: str) -> None:
        self.fake, self.redis_url, self.workdir = fake, redis_url, workdir
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT),
            "RUVOPT_REDIS_URL": redis_url,
            "RUVOPT_WEBHOOK_SECRET": payloads.SECRET,
            "RUVOPT_APP_ID": str(fake.app_id),
            "RUVOPT_PRIVATE_KEY": fake.app_private_key_pem,
            "RUVOPT_GITHUB_API_URL": fake.url,
            "RUVOPT_CACHE_DIR": str(workdir / "cache"),
            **env,
        }
        self.receiver: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.names: dict[int, str] = {}  # pid → log name
        self._count = itertools.count()
        self.url = ""

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ruvopt.cli.main", *args],
                env={**self.env, **env},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return proc, log

    def start_receiver(self, log_level: str = "warning") -> AppStack:
        port = free_port()
        self.receiver, log = self._spawn("receiver", ["serve", "--port", str(port), "--log-level", log_level], {})
        self.url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert self.receiver is not None, log.read_text(errors="replace")
            assert self.receiver.poll() is None, log.read_text(errors="replace")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, "ruvopt serve to answer /healthz")
        return self

    def start_worker(self, *args: str, queues: str = "review", **env: str) -> subprocess.Popen[bytes]:
        """``ruvopt worker --queues <queues>`` with ``args`` added (``--metrics-port`` …)."""
        name = f"worker-{next(self._count)}"
        proc, log = self._spawn(name, ["worker", "--queues", queues, *args], env)
        self.workers.append(proc)
        self.names[proc.pid] = name
        wait_for(lambda: b"worker consuming" in log.read_bytes(), 30, f"{name} to start")
        return proc

    def log(self, proc_or_name: subprocess.Popen[bytes] | str) -> str:
        name = proc_or_name if isinstance(proc_or_name, str) else self.names[proc_or_name.pid]
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_workers(self, *, kill: bool = False) -> None:
        """SIGTERM (a clean stop takes a worker several seconds) or, with ``kill``, SIGKILL."""
        for proc in self.workers:
            if kill and proc.poll() is None:
                self.kill_worker(proc)
            _terminate(proc)
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.receiver is not None:
            _terminate(self.receiver)
            self.receiver = None

    # -- deliveries -----------------------------------------------------------------------------

    def post(self, event: str, payload: dict[str, Any], guid: str | None = None) -> httpx.Response:
        body, headers = payloads.delivery(event, payload, guid=guid)
        return httpx.post(f"{self.url}/webhook", content=body, headers=headers, timeout=10)

    def reviewed(self, world: PullWorld, sha: str | None = None) -> bool:
        """The worker finished the review of ``sha`` (its done marker, bot/queue/contract.py's key)."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            return bool(client.exists(f"ruvopt:reviewed:{world.repo}@{sha or world.head}"))
        finally:
            client.close()


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=25)  # a worker gives running jobs its shutdown grace period
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _rewrite(payload: dict[str, Any], world: PullWorld) -> dict[str, Any]:
    """Point a real example payload at the world's repository and installation."""
    owner, name = world.repo.split("/")
    repo_id = world.fake.world.repos[world.repo].id
    repository = payload["repository"]
    repository.update({"id": repo_id, "name": name, "full_name": world.repo})
    repository["owner"]["login"] = owner
    payload["installation"] = {"id": world.installation, "node_id": f"I_{world.installation}"}
    return payload


def pull_request_event(world: PullWorld, action: str, head: str | None = None) -> dict[str, Any]:
    """The real ``pull_request.<action>`` example for the world's PR at ``head``."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(next(_stamps)))
    payload = payloads.pull_request(
        action, number=world.pr, head_sha=head or world.head, base_sha=world.base, updated_at=stamp
    )
    payload = _rewrite(payload, world)
    for side in ("base", "head"):
        payload["pull_request"][side]["repo"]["id"] = payload["repository"]["id"]
        payload["pull_request"][side]["repo"]["full_name"] = world.repo
    return payload


def comment_event(world: PullWorld, body: str, author: str, *, comment_id: int | None = None) -> dict[str, Any]:
    """The real ``issue_comment.created`` example, on the world's PR, by ``author``."""
    payload = _rewrite(payloads.pr_comment(body, number=world.pr, author=author), world)
    if comment_id is not None:
        payload["comment"]["id"] = comment_id
    return payload
