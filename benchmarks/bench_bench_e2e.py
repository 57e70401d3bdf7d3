"""``/ruvopt bench`` comment → completed ``ruvopt/bench`` check run, runs=3, real processes.

The parts of ``tests/test_e2e_bench.py`` with production settings (writes ≥ 1 s apart per
installation): ``redis-server``, ``ruvopt serve``, ``ruvopt worker --queues review,bench``,
the FakeGitHub, a repository over smart HTTP. The pull request is the tests' small
criterion crate (one benchmark; criterion 1 s warm-up + 1 s measurement, 10 samples;
``runs = 3``) with a slower head. A writer comments ``/ruvopt bench``; the clock runs
until the ``ruvopt/bench`` check run of the head is ``completed``. The first request
builds criterion and its dependencies (cold); later ones find them in the dependency
cache (warm). The job's own ``seconds`` (the engine's wall time) is read from saq's result.

    .venv/bin/python benchmarks/bench_bench_e2e.py [--warm 5] [--write-docs]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_helpers import environment, write_section
from tests.app_stack import AppStack, comment_event, wait_for
from tests.bench_support import cargo_home, criterion_crate, generate_lockfile
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.fakegithub.auth import AppKey
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer
from tests.queue_probe import BENCH, job
from tests.review_support import PullWorld

TITLE = "## /ruvopt bench: comment to completed check run"
WRITER = "maintainer-1"
_ids = itertools.count(1)


def one_request(stack: AppStack, fake: FakeGitHub, world: PullWorld) -> dict[str, float]:
    before = len(fake.check_runs(world.repo, name="ruvopt/bench"))
    posted = fake.add_issue_comment(world.repo, world.pr, "/ruvopt bench", user=WRITER)
    start = time.perf_counter()
    response = stack.post("issue_comment", comment_event(world, "/ruvopt bench", WRITER, comment_id=posted.id))
    assert response.status_code == 202, response.text
    wait_for(lambda: fake.world.issue_comments[posted.id].reactions, 60, "the 👀")
    acked = time.perf_counter() - start

    def completed() -> bool:
        runs = fake.check_runs(world.repo, name="ruvopt/bench")
        return len(runs) > before and runs[-1].status == "completed"

    wait_for(completed, 900, "the ruvopt/bench run")
    total = time.perf_counter() - start
    run = fake.check_runs(world.repo, name="ruvopt/bench")[-1]
    assert run.conclusion == "failure", run.summary  # the head is slower: the bench must say so
    result = wait_for(
        lambda: (job(stack.redis_url, BENCH, f"bench:{world.repo}#{world.pr}") or {}).get("result"),
        60,
        "the job's result",
    )
    return {"total": total, "ack": acked, "engine": float(result["seconds"])}


def measure(warm: int) -> tuple[dict[str, float], list[dict[str, float]]]:
    with tempfile.TemporaryDirectory(prefix="ruvopt-bench-e2e-") as tmp:
        work = Path(tmp)
        redis_server = RedisServer(work / "redis")
        redis_server.start()
        github = FakeGitHubServer(FakeGitHub(AppKey.generate())).start()
        fake = github.fake
        (work / "git").mkdir()
        git = GitHttpServer(work / "git", token_ok=fake.token_valid).start()
        home = cargo_home(work)
        stack = AppStack(fake, redis_server.url, work, RUVOPT_BENCH_CARGO_HOME=str(home))
        try:
            stack.start_receiver()
            stack.start_worker(queues="review,bench")
            base = criterion_crate(1000)
            base["Cargo.lock"] = generate_lockfile(base, home, work)
            world = PullWorld.create(fake, git, work, base, criterion_crate(4000))
            fake.set_role(world.repo, WRITER, "write")
            cold = one_request(stack, fake, world)
            print(f"cold: {cold}", file=sys.stderr)
            rows = []
            for i in range(warm):
                time.sleep(1.1)  # the last request's writes leave the write spacing behind
                rows.append(one_request(stack, fake, world))
                print(f"warm {i + 1}: {rows[-1]}", file=sys.stderr)
            violations = fake.unexpected_violations()
            assert not violations, f"GitHub contract violations: {violations}"
            return cold, rows
        finally:
            stack.stop()
            git.stop()
            github.stop()
            redis_server.stop()


def section(cold: dict[str, float], rows: list[dict[str, float]]) -> str:
    med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    return "\n".join(
        [
            TITLE,
            "",
            f"Command: `.venv/bin/python benchmarks/bench_bench_e2e.py --warm {len(rows)} --write-docs` "
            f"({environment()}).",
            "",
            "Real `redis-server`, `ruvopt serve`, `ruvopt worker --queues review,bench` with production settings "
            "(writes ≥ 1 s apart per installation), the FakeGitHub, the repository over smart HTTP. The pull request: "
            "the tests' criterion crate (one benchmark, criterion 1 s warm-up + 1 s measurement, 10 samples), a head "
            "doing 4× the work, `runs = 3`. Clock: the signed `issue_comment` webhook → the head's `ruvopt/bench` "
            "check run `completed` (`failure`: the slower head is found every time). *Engine* is the comparison "
            "itself (both sides built and measured, 6 interleaved runs); the rest is queueing, the mirror fetch and "
            "posting.",
            "",
            "| request | comment → 👀 | comment → completed check run | engine |",
            "|---|---|---|---|",
            f"| cold (criterion and its dependencies built) | {cold['ack']:.2f} s | {cold['total']:.1f} s "
            f"| {cold['engine']:.1f} s |",
            f"| warm, median of {len(rows)} (dependency cache) | {med['ack']:.2f} s | {med['total']:.1f} s "
            f"| {med['engine']:.1f} s |",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    cold, rows = measure(args.warm)
    text = section(cold, rows)
    print(text)
    if args.write_docs:
        write_section(TITLE, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
