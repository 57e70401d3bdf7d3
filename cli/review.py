"""``ruvopt review PATH --base REF [--head REF]``: print exactly what the App would post.

A dry run of the review job for a pull request that has no ruvopt comments yet: the same
analysis (:func:`ruvopt.checks.diff.mode.check_diff`, configuration from the base commit) and
the same plan (:func:`ruvopt.bot.report.plan.build_plan`), printed instead of posted — no
GitHub, no Redis. Like the App, it reads the whole repository that holds PATH (with the
root's configuration), whatever folder PATH names.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.filter import FILTER_MODES
from ruvopt.checks.gate import FAIL_ON
from ruvopt.checks.source import GitError
from ruvopt.cli import describe
from ruvopt.cli.check import UsageError, add_fetch_option, default_cache_dir, positive_int, repo_root
from ruvopt.cli.clone import prepare

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
RULE = "=" * 72

EPILOG = """\
Prints, in order: the `ruvopt` check run (conclusion, title, output.summary, output.text
and the annotations in the PATCH requests that carry them, 50 each), the COMMENT review
(each inline comment with its line range and body, suggestion blocks included) and the
sticky summary comment. The App posts the same, minus inline comments for findings it
already commented on in earlier pushes.

exit codes: 0 the check run would not fail, 1 it would conclude `failure`, 2 usage or
configuration error (for an invalid base configuration the check run the App would post
is printed first).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "review",
        help="print what the GitHub App would post for a diff (dry run)",
        description=describe(__doc__),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("."), help="a directory of the git repository")
    p.add_argument("--base", metavar="REF", required=True, help="the pull request's base (config is read from it)")
    p.add_argument("--head", metavar="REF", default="HEAD", help="the pull request's head (default: HEAD)")
    p.add_argument("--filter-mode", choices=FILTER_MODES, default="added", help="findings to report (default: added)")
    p.add_argument("--fail-on", choices=FAIL_ON, default=None, help="default: `fail-on` of the base config, else new")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--jobs", "-j", type=positive_int, metavar="N", help="worker processes (default: all cores)")
    add_fetch_option(p)
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", type=Path, metavar="DIR", help="per-file result cache")
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ruvopt.bot.report.plan import build_plan, config_error_plan
    from ruvopt.checks.diff.mode import check_diff

    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    try:
        repo = repo_root(args.path)
        clone = prepare(repo, args.base, args.head, allow_fetch=not args.no_fetch)
        result = check_diff(
            repo,
            args.base,
            args.head,
            filter_mode=args.filter_mode,
            cache_dir=cache_dir,
            jobs=args.jobs,
            fetch_blobs=clone.blob_fetcher(),
        )
    except ConfigError as exc:
        print(f"ruvopt review: {exc}", file=sys.stderr)
        sys.stdout.write(render(config_error_plan(exc, args.head), args.format))
        return EXIT_USAGE
    except (UsageError, GitError) as exc:
        print(f"ruvopt review: {exc}", file=sys.stderr)
        return EXIT_USAGE
    plan = build_plan(result, fail_on=args.fail_on)
    sys.stdout.write(render(plan, args.format))
    return EXIT_FAIL if plan.check_run.conclusion == "failure" else EXIT_OK


def render(plan: Any, fmt: str) -> str:
    return render_json(plan) if fmt == "json" else render_text(plan)


def render_json(plan: Any) -> str:
    run = plan.check_run
    data = {
        "head_sha": plan.head_sha,
        "counts": {k: getattr(plan.counts, k) for k in ("reported", "new", "inline", "summary_only", "fixed")},
        "check_run": {
            "conclusion": run.conclusion,
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "requests": [run.output(batch) | {"annotations": batch} for batch in run.batches()],
        },
        "review": plan.review.to_api() if plan.review is not None else None,
        "summary_comment": plan.summary,
        "summary_only": [
            {"fingerprint": f.fingerprint, "path": f.path, "line": f.start_line, "reason": why}
            for f, why in plan.selection.summary_only
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _annotation_line(a: dict[str, Any]) -> str:
    where = f"{a['path']}:{a['start_line']}" + (f"-{a['end_line']}" if a["end_line"] != a["start_line"] else "")
    message = a["message"].split("\n", 1)[0]
    return f"  {a['annotation_level']:<8} {where} {a.get('title', '')}: {message}"


def render_text(plan: Any) -> str:
    run = plan.check_run
    out = [
        RULE,
        f"check run `ruvopt` on {plan.head_sha}",
        RULE,
        f"conclusion: {run.conclusion}",
        f"title: {run.title}",
        f"--- output.summary ({len(run.summary)} chars) ---",
        run.summary,
        f"--- output.text ({len(run.text)} chars) ---",
        run.text,
    ]
    batches = run.batches()
    out.append(f"--- annotations: {len(run.annotations)} in {len(batches)} request(s), at most 50 each ---")
    for i, batch in enumerate(batches, 1):
        kind = "PATCH with the conclusion" if i == len(batches) else "PATCH (run still in progress)"
        out.append(f"request {i} of {len(batches)}: {len(batch)} annotation(s), {kind}")
        out += [_annotation_line(a) for a in batch]
    out += [RULE]
    if plan.review is None:
        out += ["review: none (no new finding can be commented inline)"]
    else:
        out += [
            f"review: COMMENT on {plan.review.commit_id}, {len(plan.review.comments)} inline comment(s)",
            RULE,
            "--- review body ---",
            plan.review.body,
        ]
        for comment in plan.review.comments:
            lines = f"lines {comment.start_line}-{comment.line}" if comment.start_line else f"line {comment.line}"
            tag = ", with a suggestion" if comment.suggestion else ""
            out += [f"--- {comment.path} {lines} (RIGHT){tag} ---", comment.body]
    out += [RULE, f"summary comment ({len(plan.summary)} chars)", RULE, plan.summary.rstrip("\n"), ""]
    return "\n".join(out)
