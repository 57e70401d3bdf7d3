"""The chaos suite's long form: the same harness as ``tests/test_chaos.py``, more pull
requests, a longer kill window, one run per seed; all four invariants checked after each.

    .venv/bin/python benchmarks/soak_chaos.py [--seeds 1,2,3] [--prs 16] [--kill-for 180] [--json out.json]

Prints one line of figures per seed (time to settle, longest-open check run, faults
injected, kills) and exits 1 if any invariant broke.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chaos.harness import ChaosPlan, ChaosRun  # noqa: E402
from tests.chaos.invariants import check, settled  # noqa: E402
from tests.fakegithub import FakeGitHub, FakeGitHubServer  # noqa: E402
from tests.fakegithub.auth import AppKey  # noqa: E402
from tests.githttp import GitHttpServer  # noqa: E402
from tests.plugins.redis_server import RedisServer  # noqa: E402


def soak(plan: ChaosPlan) -> tuple[dict[str, Any], list[str]]:
    server = FakeGitHubServer(FakeGitHub(AppKey.generate())).start()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "git").mkdir()
        git = GitHttpServer(tmp / "git", token_ok=server.fake.token_valid).start()
        redis = RedisServer(tmp / "redis", appendfsync="always")
        redis.start()
        run = ChaosRun(plan, server.fake, git, redis, tmp / "run")
        try:
            run.workdir.mkdir()
            run.arrange()
            run.run()
            run.wait_settled(settled)
            figures, violations = check(run)
            assert server.fake.chaos is not None
            figures["faults_injected"] = server.fake.chaos.summary()
            figures["worker_kills"] = len(run.kills)
            violations += [f"contract: {v}" for v in server.fake.unexpected_violations()]
            return figures, violations
        finally:
            run.stop()
            redis.stop()
            git.stop()
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--prs", type=int, default=16)
    parser.add_argument("--kill-for", type=float, default=180.0, help="seconds during which workers are killed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results, broken = {}, False
    for seed in (int(s) for s in args.seeds.split(",")):
        plan = dataclasses.replace(
            ChaosPlan(), seed=seed, prs=args.prs, kill_for_s=args.kill_for, settle_timeout_s=args.kill_for + 300
        )
        figures, violations = soak(plan)
        results[seed] = {"figures": figures, "violations": violations}
        broken |= bool(violations)
        print(
            f"seed {seed}: settled after {figures['settled_after_s']} s, longest-open run "
            f"{figures['max_run_open_s']} s, {figures['check_runs']} runs, faults {figures['faults_injected']}, "
            f"{figures['worker_kills']} kills, violations {violations or 'none'}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
