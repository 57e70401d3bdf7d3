"""Issue 7's chaos suite: every fault at once, on eight pull requests, with real processes.

``redis-server`` (append-only), ``ruvopt serve``, two (then more, as they are killed and
replaced) ``ruvopt worker``s, the FakeGitHub with 5 % of API calls answered 502 (half of
them after applying the call) and an 8-second secondary-rate-limit window on writes;
every delivery sent twice, 30 % replayed 10–40 s later; a worker SIGKILLed every 4–9 s
during the first minute; Redis SIGKILLed right after accepting a burst of commands and
restarted 3 s later from its AOF. See :mod:`tests.chaos.harness` for the timeline and
:mod:`tests.chaos.invariants` for what is asserted. The figures are printed (run with
``-s``) and published in docs/reliability.md; ``benchmarks/soak_chaos.py`` runs the same
plan longer and with more pull requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import ChaosPlan, ChaosRun
from tests.chaos.invariants import check, settled
from tests.fakegithub import FakeGitHub
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def chaos_run(fake_github: FakeGitHub, tmp_path: Path) -> Iterator[ChaosRun]:
    (tmp_path / "git-root").mkdir()
    git = GitHttpServer(tmp_path / "git-root", token_ok=fake_github.token_valid).start()
    server = RedisServer(tmp_path / "redis", appendfsync="always")  # as deploy/redis.conf
    server.start()
    run = ChaosRun(ChaosPlan(), fake_github, git, server, tmp_path / "run")
    try:
        yield run
    finally:
        run.stop()
        server.stop()
        git.stop()


def test_no_check_run_left_hanging_and_nothing_lost_or_doubled_under_combined_faults(chaos_run: ChaosRun):
    chaos_run.workdir.mkdir()
    chaos_run.arrange()
    chaos_run.run()
    chaos_run.wait_settled(settled)
    figures, violations = check(chaos_run)
    assert chaos_run.fake.chaos is not None
    figures["faults_injected"] = chaos_run.fake.chaos.summary()
    figures["worker_kills"] = len(chaos_run.kills)
    print(json.dumps(figures, indent=1))
    assert not violations, "\n".join(violations)
    assert figures["faults_injected"].get("502-after", 0) > 0
    assert figures["faults_injected"].get("403-secondary")
    assert len(chaos_run.kills) >= 5
    assert chaos_run.redis_crash is not None
