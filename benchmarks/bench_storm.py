"""A signed webhook storm on loopback: open loop at 1,000 req/s for 60 s across 50 PRs, then
the queue drained by 1, 2 and 4 workers (issue 7's load figures).

The App's real processes — ``redis-server`` (append-only; ``--appendfsync`` picks the
policy), ``ruvopt serve``, ``ruvopt worker``s — the FakeGitHub and one real git
repository per pull request, served over smart HTTP. Every request is a signed real
``pull_request.synchronize`` payload of one of 50 PRs with a fresh head SHA, a newer
``updated_at`` and its own delivery id, so each one supersedes the PR's previous head;
5 % of the requests are redeliveries of an earlier delivery (same id, same bytes), which
must be answered ``200 duplicate`` and change nothing. Each PR's last delivery carries a
head that exists in its repository, so the drain reviews it for real.

Figures: p50/p99/max ingest latency (from each request's due time: no coordinated
omission), errors, redeliveries processed as new (duplicates processed), accepted
deliveries without a claim in Redis (lost), the review queue's depth every 0.5 s, and
the time from starting N workers until every PR's final head has a completed check run
(drain), for N = 1, 2, 4 — one storm each. Writes are not spaced (``write_spacing 0``),
so the drain measures the workers, not GitHub's pacing.

    .venv/bin/python benchmarks/bench_storm.py [--rate 1000] [--seconds 60] [--prs 50]
        [--workers 1,2,4] [--appendfsync everysec|always] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ingest import summary  # noqa: E402
from tests import payloads  # noqa: E402

REDELIVERY_SHARE = 0.05
MAX_CONNECTIONS = 256
SAMPLE_S = 0.5


# --- load generator (its own process) ---------------------------------------------------------


class Storm:
    """The request schedule: which PR, which head, which redelivery, for request i."""

    def __init__(self, templates: list[dict[str, Any]], total: int, seed: int) -> None:
        self.templates, self.total = templates, total
        rng = random.Random(seed)
        self.prs = [rng.randrange(len(templates)) for _ in range(total)]
        self.replay = [i > 100 and rng.random() < REDELIVERY_SHARE for i in range(total)]
        self.replay_of = [rng.randrange(max(1, i - 1)) for i in range(total)]
        # each PR's final new delivery (not a replay): it carries the head that exists
        self.last = {pr: i for i, pr in enumerate(self.prs) if not self.replay[i]}
        self.sent: dict[int, bytes] = {}

    def request(self, i: int, host: str, port: int, secret: bytes) -> tuple[bytes, bool]:
        """(raw HTTP request, is a redelivery)."""
        if self.replay[i] and self.replay_of[i] in self.sent:
            return self.sent[self.replay_of[i]], True
        import hashlib
        import hmac

        template = self.templates[self.prs[i]]
        final = self.last[self.prs[i]] == i
        sha = template["final_head"] if final else hashlib.sha1(f"storm-{i}".encode()).hexdigest()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + i))
        body = template["body"].replace("H" * 40, sha).replace("2000-01-01T00:00:00Z", stamp).encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        head = (
            f"POST /webhook HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: storm-{i}\r\n"
            f"X-Hub-Signature-256: sha256={signature}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        data = head.encode() + body
        self.sent[i] = data
        return data, False


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> tuple[int, bytes]:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
    return int(head[9:12]), await reader.readexactly(length)


async def storm(host: str, port: int, rate: float, seconds: float, templates_path: str, secret: str) -> dict[str, Any]:
    templates = json.loads(await asyncio.to_thread(Path(templates_path).read_text))
    total = int(rate * seconds)
    plan = Storm(templates, total, seed=7)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    processed: dict[bytes, int] = {}  # delivery id → times answered 202 (a replay may overtake its original)

    slots = asyncio.Semaphore(MAX_CONNECTIONS)  # GitHub's senders are many, but not unbounded

    async def one(due: float, data: bytes, replay: bool) -> None:
        async with slots:
            try:
                conn = idle.pop() if idle else await asyncio.open_connection(host, port)
                try:
                    status, body = await _exchange(*conn, data)
                except (asyncio.IncompleteReadError, ConnectionResetError):  # a keep-alive the server closed
                    conn = await asyncio.open_connection(host, port)
                    status, body = await _exchange(*conn, data)
            except OSError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - due)  # from the due time: waiting for a slot counts
            what = json.loads(body).get("status", "error")
            key = f"{status} {what}" + (" (redelivery)" if replay else "")
            outcomes[key] = outcomes.get(key, 0) + 1
            at = data.index(b"X-GitHub-Delivery: ") + 19
            guid = data[at : data.index(b"\r\n", at)]
            processed[guid] = processed.get(guid, 0) + (status == 202)
            idle.append(conn)

    tasks = []
    t0 = time.perf_counter() + 0.2
    for i in range(total):
        due = t0 + i / rate
        data, replay = plan.request(i, host, port, secret.encode())
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, data, replay)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    for _, writer in idle:
        writer.close()
    errors = sum(n for k, n in outcomes.items() if not k.startswith(("200", "202")))
    return summary(latencies, elapsed, errors) | {
        "rate": rate,
        "outcomes": outcomes,
        "replays_processed": sum(n - 1 for n in processed.values() if n > 1),
        "accepted_guids": [f"storm-{i}" for i in range(total) if not plan.replay[i]],
    }


def load_main(argv: list[str]) -> None:
    import uvloop

    host, port, rate, seconds, templates, secret = argv
    print(json.dumps(uvloop.run(storm(host, int(port), float(rate), float(seconds), templates, secret))))


# --- orchestration ----------------------------------------------------------------------------------


class DepthSampler:
    """The review queue's depth (queued + scheduled/running) every 0.5 s, in a thread."""

    def __init__(self, redis_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self.samples: list[tuple[float, int, int]] = []  # (seconds, queued list, incomplete set)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.t0 = time.monotonic()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            queued = int(self.client.llen("saq:ruvopt:review:queued"))
            incomplete = int(self.client.zcard("saq:ruvopt:review:incomplete"))
            self.samples.append((round(time.monotonic() - self.t0, 1), queued, incomplete))

    def start(self) -> DepthSampler:
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, int, int]]:
        self._stop.set()
        self._thread.join(timeout=5)
        self.client.close()
        return self.samples


def worlds(fake: Any, git: Any, tmp: Path, prs: int) -> list[Any]:
    from tests.review_support import CRATE, PullWorld, unsafe_reads

    out = []
    for i in range(prs):
        head = {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads(f"storm{i}", 1 + i % 3)}
        out.append(PullWorld.create(fake, git, tmp / "repos", CRATE, head, repo=f"octo-org/storm-{i}", pr=1))
    return out


def templates(prs: list[Any]) -> list[dict[str, Any]]:
    from tests.app_stack import pull_request_event

    out = []
    for world in prs:
        payload = pull_request_event(world, "synchronize", head="H" * 40)
        payload["pull_request"]["updated_at"] = "2000-01-01T00:00:00Z"
        out.append({"body": json.dumps(payload), "final_head": world.head})
    return out


def run_storm(rate: float, seconds: float, prs: int, workers: int, appendfsync: str) -> dict[str, Any]:
    import subprocess

    import redis as redis_lib

    from tests.app_stack import AppStack, wait_for
    from tests.fakegithub import FakeGitHub, FakeGitHubServer
    from tests.fakegithub.auth import AppKey
    from tests.githttp import GitHttpServer
    from tests.plugins.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        fake_server = FakeGitHubServer(FakeGitHub(AppKey.generate())).start()
        fake = fake_server.fake
        (tmp / "git").mkdir()
        git = GitHttpServer(tmp / "git", token_ok=fake.token_valid).start()
        redis = RedisServer(tmp / "redis", appendfsync=appendfsync)
        redis.start()
        app = AppStack(fake, redis.url, tmp / "app", RUVOPT_WRITE_SPACING_SECONDS="0")
        (tmp / "app").mkdir()
        try:
            pulls = worlds(fake, git, tmp, prs)
            (tmp / "templates.json").write_text(json.dumps(templates(pulls)))
            app.start_receiver()
            port = app.url.rsplit(":", 1)[1]
            sampler = DepthSampler(redis.url).start()
            argv = [
                sys.executable,
                __file__,
                "--load",
                "127.0.0.1",
                port,
                str(rate),
                str(seconds),
                str(tmp / "templates.json"),
                payloads.SECRET,
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise RuntimeError(f"load generator failed:\n{proc.stderr[-3000:]}")
            result = json.loads(proc.stdout)
            client = redis_lib.Redis.from_url(redis.url)
            accepted = result.pop("accepted_guids")
            claims = sum(
                client.exists(*(f"ruvopt:delivery:{g}" for g in accepted[k : k + 1000]))
                for k in range(0, len(accepted), 1000)
            )
            result["lost"] = len(accepted) - claims
            result["queue_after_storm"] = int(client.llen("saq:ruvopt:review:queued"))
            drain_start = time.monotonic()
            for _ in range(workers):
                app.start_worker()

            def drained() -> bool:
                done = [r for r in fake.check_runs() if r.status == "completed"]
                return (
                    len({(r.repo, r.head_sha) for r in done if r.head_sha in finals}) == len(pulls)
                    and client.llen("saq:ruvopt:review:queued") == 0
                )

            finals = {w.head for w in pulls}
            wait_for(drained, 600, "every PR's final head reviewed")
            result["drain_s"] = round(time.monotonic() - drain_start, 2)
            per_head: dict[tuple[str, str], int] = {}
            for r in fake.check_runs():
                per_head[r.repo, r.head_sha] = per_head.get((r.repo, r.head_sha), 0) + 1
            result["duplicate_runs"] = sum(n - 1 for n in per_head.values())
            result["reviewed_heads"] = len(per_head)
            result["depth"] = sampler.stop()
            client.close()
            return result
        finally:
            app.stop()
            redis.stop()
            git.stop()
            fake_server.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        load_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--prs", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--appendfsync", default="always", choices=["always", "everysec"])
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    results: dict[str, Any] = {"loadavg": os.getloadavg()[0], "appendfsync": args.appendfsync}
    for n in (int(x) for x in args.workers.split(",")):
        results[f"workers={n}"] = run_storm(args.rate, args.seconds, args.prs, n, args.appendfsync)
        r = results[f"workers={n}"]
        print(
            f"{n} worker(s): {r['requests']} requests, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
            f"max {r['max_ms']:.1f} ms, errors {r['errors']}, lost {r['lost']}, duplicates processed "
            f"{r['replays_processed']} + {r['duplicate_runs']} runs, drain {r['drain_s']} s",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
