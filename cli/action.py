"""``ruvopt github-action``: the Action's one step, run inside a GitHub Actions job.

It reads what the runner provides — ``GITHUB_EVENT_NAME``, the event payload at
``GITHUB_EVENT_PATH`` — and picks what to compare, on a default ``actions/checkout``
(one commit, ``fetch-depth: 1``; :mod:`ruvopt.cli.clone` fetches the rest):

- ``pull_request`` / ``pull_request_target``: the pull request's ``base.sha`` → HEAD (the
  checked-out merge commit);
- ``merge_group``: ``merge_group.base_sha`` → HEAD (the queue's commit);
- ``push``: ``before`` → HEAD; a branch's first push has no ``before`` (all zeros), so
  the default branch's tip is the base — and on the default branch itself, or when it
  cannot be had, the whole workspace is checked;
- anything else (``workflow_dispatch``, ``schedule``…): the whole workspace.

``--base`` overrides the event. One analysis gives all three outputs: SARIF (for code
scanning) to ``--sarif``, annotations as workflow commands on stdout, and the markdown
report appended to ``$GITHUB_STEP_SUMMARY``; step outputs ``sarif``, ``findings`` and
``failed`` go to ``$GITHUB_OUTPUT``. Exit codes are ``ruvopt check``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.filter import FILTER_MODES
from ruvopt.checks.gate import FAIL_ON
from ruvopt.checks.render import github, markdown, sarif, text
from ruvopt.checks.render.view import View
from ruvopt.checks.source import GitError
from ruvopt.cli import describe
from ruvopt.cli.check import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_fetch_option,
    build_view,
    repo_root,
)
from ruvopt.cli.clone import Clone, CloneError

PR_EVENTS = ("pull_request", "pull_request_target")
NO_COMMIT = "0" * 40


@dataclass(frozen=True)
class Range:
    base: str | None  # None: check the whole workspace
    why: str  # for the job summary


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "github-action",
        help="the GitHub Action's step: base from the event, SARIF + annotations + job summary",
        description=describe(__doc__),
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("."), help="workspace directory (default: .)")
    p.add_argument("--base", default="", metavar="REF", help="compare with this commit instead of the event's base")
    p.add_argument("--fail-on", choices=FAIL_ON, default=None, help="default: `fail-on` of the base config, else new")
    p.add_argument("--filter-mode", choices=FILTER_MODES, default="added", help="findings to report (diff mode)")
    p.add_argument("--sarif", type=Path, metavar="FILE", help="write SARIF here")
    add_fetch_option(p)
    p.set_defaults(handler=run)


def event_range(event_name: str, event: dict[str, Any], clone: Clone | None) -> Range:
    """What the event asks to compare HEAD with (see the module docstring)."""
    if event_name in PR_EVENTS:
        pull = event.get("pull_request") or {}
        return Range(pull.get("base", {}).get("sha"), f"pull request #{pull.get('number', '?')}: its base")
    if event_name == "merge_group":
        return Range((event.get("merge_group") or {}).get("base_sha"), "merge group: the queue's base")
    if event_name == "push":
        before = str(event.get("before") or NO_COMMIT)
        if before.strip("0"):
            return Range(before, "push: the commit before it")
        return first_push_range(event, clone)
    return Range(None, f"`{event_name or 'no'}` event: the whole workspace")


def first_push_range(event: dict[str, Any], clone: Clone | None) -> Range:
    default = str((event.get("repository") or {}).get("default_branch") or "")
    ref = str(event.get("ref") or "")
    if not default or ref == f"refs/heads/{default}":
        return Range(None, "first push of the default branch: the whole workspace")
    try:
        tip = clone.fetch_branch(default) if clone is not None else None
    except CloneError:
        tip = None
    if tip is None:
        return Range(None, f"first push of {ref}: `{default}` could not be had, so the whole workspace")
    return Range(tip, f"first push of {ref}: the tip of `{default}`")


def read_event() -> tuple[str, dict[str, Any]]:
    name = os.environ.get("GITHUB_EVENT_NAME", "")
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return name, {}
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload at {path} ({exc})") from None
    return name, event if isinstance(event, dict) else {}


def analyse(args: argparse.Namespace, progress: text.ScanProgress) -> tuple[View, Range]:
    event_name, event = read_event()
    clone = None
    if not args.base and event_name in (*PR_EVENTS, "merge_group", "push"):
        clone = Clone.open(repo_root(args.path), allow_fetch=not args.no_fetch, note=progress.note)
    picked = Range(args.base, "the `base` input") if args.base else event_range(event_name, event, clone)
    check_args = argparse.Namespace(
        path=args.path,
        base=picked.base,
        head="HEAD" if picked.base else None,
        filter_mode=args.filter_mode if picked.base else None,
        no_cache=False,
        cache_dir=None,
        jobs=None,
        no_fetch=args.no_fetch,
    )
    return build_view(check_args, progress), picked


def write_outputs(view: View, picked: Range, sarif_path: Path | None) -> None:
    assert view.verdict is not None
    if sarif_path is not None:
        sarif_path.write_text(sarif.render(view), encoding="utf-8")
    sys.stdout.write(github.render(view))
    compared = (
        f"Compared with `{(view.base_commit or '')[:12]}` ({picked.why})" if view.diff_mode else f"Checked {picked.why}"
    )
    append_env_file("GITHUB_STEP_SUMMARY", f"{markdown.render(view).rstrip()}\n\n{compared}.\n")
    outputs = {
        "sarif": str(sarif_path or ""),
        "findings": str(len(view.findings)),
        "failed": "true" if view.verdict.failed else "false",
    }
    append_env_file("GITHUB_OUTPUT", "".join(f"{k}={v}\n" for k, v in outputs.items()))


def append_env_file(variable: str, content: str) -> None:
    """Append to the file the runner names in ``variable`` (nothing outside a runner)."""
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(content)


def run(args: argparse.Namespace) -> int:
    try:
        with text.ScanProgress() as progress:
            view, picked = analyse(args, progress)
        view = view.judged(args.fail_on or view.config.fail_on)
        write_outputs(view, picked, args.sarif)
    except (UsageError, ConfigError, GitError, OSError) as exc:
        message = str(exc) if not isinstance(exc, OSError) else f"cannot write an output: {exc}"
        print(f"ruvopt github-action: {message}", file=sys.stderr)
        print(github.command("error", {"title": "ruvopt could not run"}, message))
        append_env_file("GITHUB_STEP_SUMMARY", f"### ruvopt could not run\n\n{message}\n")
        return EXIT_USAGE
    assert view.verdict is not None
    return EXIT_FAIL if view.verdict.failed else EXIT_OK
