"""The four invariants of issue 7, checked on what a chaos run left behind.

1. Every check run ruvopt created is completed, within the sweeper's bound of appearing.
2. Exactly one ``ruvopt`` run per head SHA, at most one review per head, exactly one
   sticky summary per PR (naming its final head), one reply per command, and the final
   head's run carries exactly its findings (no annotation posted twice).
3. No accepted delivery is lost: GitHub's delivery log has a 2xx for every delivery (the
   ``redeliver`` cron got the ones answered 503 while Redis was down accepted), each
   final head is reviewed with its real result, and every accepted command — including
   those accepted just before Redis was SIGKILLed — was answered.
4. No installation token (nor its git Basic form, nor any JWT) in any process's argv,
   in any file the run wrote (logs, caches, mirrors, Redis's AOF) or in any log.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from ruvopt.bot.jobs.review import GAVE_UP_TITLE
from ruvopt.bot.jobs.sweeper import LATE_TITLE, ORPHAN_TITLE
from ruvopt.bot.report.review import REVIEW_MARKER
from ruvopt.bot.report.summary import MARKER
from tests.chaos.harness import ChaosRun
from tests.review_support import PullWorld

NOT_A_RESULT = (ORPHAN_TITLE, LATE_TITLE, GAVE_UP_TITLE, "Superseded by", "ruvopt hit an internal error")
JWT = re.compile(rb"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
SLACK_S = 30.0  # GitHub retries and write spacing on top of the sweeper's deadline and round


def expected_annotations(run: ChaosRun, i: int) -> int:
    """The final head of PR ``i`` has this many one-line unsafe reads (harness.push)."""
    return len(run.worlds[i].pushes) + i % 3


def final_run(run: ChaosRun, world: PullWorld) -> Any:
    runs = [r for r in run.fake.check_runs(world.repo, "ruvopt") if r.head_sha == world.head]
    return runs[0] if len(runs) == 1 else None


def summaries(run: ChaosRun, world: PullWorld) -> list[Any]:
    return [
        c for c in run.fake.issue_comments(world.repo, world.pr) if c.user == run.fake.bot_login and MARKER in c.body
    ]


def replies(run: ChaosRun, comment_id: int) -> list[Any]:
    i, _ = run.comments[comment_id]
    world = run.worlds[i]
    mark = f"<!-- ruvopt:reply-to:{comment_id} -->"
    return [c for c in run.fake.issue_comments(world.repo, world.pr) if mark in c.body]


def undelivered(run: ChaosRun) -> list[str]:
    """guids with no 2xx attempt in GitHub's delivery log."""
    with run.fake.lock:
        attempts = list(run.fake.world.deliveries)
    ok = {d.guid for d in attempts if 200 <= d.status_code < 300}
    return sorted({d.guid for d in attempts} - ok)


def queue_busy(run: ChaosRun) -> int | None:
    client = redis.Redis.from_url(run.redis.url, socket_timeout=2)
    try:
        return int(client.llen("saq:ruvopt:review:queued")) + int(client.llen("saq:ruvopt:review:active"))
    except redis.RedisError:
        return None
    finally:
        client.close()


def settled(run: ChaosRun, explain: bool = False) -> Any:
    """Every PR in its final state and nothing left to do; with ``explain``, what is missing."""
    missing: list[str] = [f"driver error: {e}" for e in run.monitor.errors]
    if run.redis_crash is None:
        missing.append("the Redis crash has not happened yet")
    if undelivered(run):
        missing.append(f"deliveries without a 2xx: {undelivered(run)}")
    busy = [r.id for r in run.fake.check_runs() if r.status != "completed"]
    if busy:
        missing.append(f"runs in progress: {busy}")
    for i, world in enumerate(run.worlds):
        final = final_run(run, world)
        if final is None or final.status != "completed" or (final.title or "").startswith(NOT_A_RESULT):
            missing.append(f"PR {i}: final head {world.head[:12]} has no result ({final and final.title})")
        if not any(world.head[:12] in c.body for c in summaries(run, world)):
            missing.append(f"PR {i}: no summary of {world.head[:12]}")
    missing += [f"comment {cid} unanswered" for cid in run.comments if not replies(run, cid)]
    if queue_busy(run) != 0:
        missing.append(f"review queue busy: {queue_busy(run)}")
    return missing if explain else not missing


def check(run: ChaosRun) -> tuple[dict[str, Any], list[str]]:
    """(figures for docs/reliability.md, violated invariants)."""
    violations: list[str] = []
    figures: dict[str, Any] = {"settled_after_s": round(run.settled_after or -1, 1)}
    figures.update(_completion(run, violations))
    figures.update(_exactly_once(run, violations))
    figures.update(_nothing_lost(run, violations))
    figures.update(_no_token_leaks(run, violations))
    return figures, violations


def _completion(run: ChaosRun, violations: list[str]) -> dict[str, Any]:
    bound = run.plan.run_deadline_s + 2 * run.plan.run_sweep_s + SLACK_S
    latencies = {}
    for r in run.fake.check_runs():
        times = run.monitor.runs.get(r.id)
        if r.status != "completed" or times is None or times.completed is None:
            violations.append(f"I1: check run {r.id} ({r.repo}@{r.head_sha[:12]}) is {r.status}")
            continue
        latencies[r.id] = times.completed - times.first_seen
        if latencies[r.id] > bound:
            violations.append(f"I1: check run {r.id} took {latencies[r.id]:.0f} s to complete (bound {bound:.0f} s)")
    titles = Counter((r.title or "").split(" by ")[0].split(":")[0] for r in run.fake.check_runs())
    return {
        "check_runs": len(latencies),
        "max_run_open_s": round(max(latencies.values(), default=0), 1),
        "run_titles": dict(titles),
    }


def _exactly_once(run: ChaosRun, violations: list[str]) -> dict[str, Any]:
    per_head = Counter((r.repo, r.head_sha) for r in run.fake.check_runs(name="ruvopt"))
    violations += [f"I2: {n} check runs on {repo}@{sha[:12]}" for (repo, sha), n in per_head.items() if n != 1]
    reviews = 0
    for i, world in enumerate(run.worlds):
        ours = [r for r in run.fake.reviews(world.repo, world.pr) if REVIEW_MARKER in r.body]
        reviews += len(ours)
        violations += [
            f"I2: PR {i}: {n} reviews of {sha[:12]}" for sha, n in Counter(r.commit_id for r in ours).items() if n > 1
        ]
        fps = Counter(
            m.group(1)
            for c in run.fake.review_comments(world.repo, world.pr)
            if c.in_reply_to_id is None and (m := re.search(r"ruvopt:fp=([0-9a-f]+)", c.body))
        )
        violations += [f"I2: PR {i}: finding {fp[:8]} commented {n} times" for fp, n in fps.items() if n > 1]
        found = summaries(run, world)
        if len(found) != 1:
            violations.append(f"I2: PR {i}: {len(found)} sticky summaries")
        final = final_run(run, world)
        want = expected_annotations(run, i)
        if final is not None and len(final.annotations) != want:
            violations.append(f"I2: PR {i}: final run has {len(final.annotations)} annotations, not {want}")
    for cid in run.comments:
        if len(replies(run, cid)) > 1:
            violations.append(f"I2: comment {cid} answered {len(replies(run, cid))} times")
    return {"heads_with_runs": len(per_head), "reviews": reviews, "prs": len(run.worlds)}


def _nothing_lost(run: ChaosRun, violations: list[str]) -> dict[str, Any]:
    assert run.hookshot is not None
    sent = list(run.hookshot.sent)
    violations += [f"I3: delivery {g} never accepted" for g in undelivered(run)]
    if not run.accepted_before_crash:
        violations.append("I3: no delivery was accepted right before the Redis crash (the test did not test it)")
    for attempt in run.accepted_before_crash:
        if attempt.comment_id is not None and not replies(run, attempt.comment_id):
            violations.append(f"I3: command {attempt.comment_id} accepted before the crash was lost")
    for i, world in enumerate(run.worlds):
        final = final_run(run, world)
        if final is None or (final.title or "").startswith(NOT_A_RESULT):
            violations.append(f"I3: PR {i}: head {world.head[:12]} never got its review")
    outcomes = Counter(f"{s.status} {s.outcome}" for s in sent)
    cron = sum(1 for s in sent if s.outcome.startswith("cron:"))
    refused = sum(1 for s in sent if s.status == 503)
    brought_in = [s for s in sent if s.outcome == "cron:queued" and s.pr == run.outage_pr]
    if not refused or not brought_in:
        violations.append(
            f"I3: {refused} deliveries refused while Redis was down, {cron} redelivered by the cron "
            "(the test did not test the way back)"
        )
    return {
        "deliveries_sent": len(sent),
        "delivery_outcomes": dict(outcomes),
        "cron_redeliveries": cron,
        "accepted_before_redis_crash": len(run.accepted_before_crash),
    }


def _no_token_leaks(run: ChaosRun, violations: list[str]) -> dict[str, Any]:
    with run.fake.lock:
        tokens = [t.encode() for t in run.fake.world.tokens]
    needles = tokens + [base64.b64encode(b"x-access-token:" + t) for t in tokens]
    for argv in run.monitor.argv:
        if any(n in argv for n in needles) or JWT.search(argv):
            violations.append(f"I4: a process argv holds a token: {argv[:60]!r}…")
    files = scanned = 0
    for root in (run.workdir, run.redis.directory):
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            files, scanned = files + 1, scanned + len(data)
            if any(n in data for n in needles) or JWT.search(data):
                violations.append(f"I4: {path} holds a token")
    if not tokens:
        violations.append("I4: no token was minted (the grep proved nothing)")
    return {
        "tokens_minted": len(tokens),
        "files_grepped": files,
        "bytes_grepped": scanned,
        "argv_seen": len(run.monitor.argv),
        "process_samples": run.monitor.samples,
    }
