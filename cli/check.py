"""``ruvopt check PATH [--base REF [--head REF]]``: the rules over a workspace on disk, or
diff mode straight from git objects, in one of five formats.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.filter import FILTER_MODES
from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.engine import check
from ruvopt.checks.gate import FAIL_ON
from ruvopt.checks.registry import load_config
from ruvopt.checks.render import github, markdown, sarif, text
from ruvopt.checks.render import json_report as json
from ruvopt.checks.render.view import View
from ruvopt.checks.source import DirectoryTree, GitError, run_git
from ruvopt.cli import describe
from ruvopt.cli.clone import prepare

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "markdown")

EPILOG = """\
fail-on (default: `fail-on` of ruvopt.toml — the base's in diff mode — else "new"):
  new    exit 1 when a reported finding of error severity is new, or (with --base) when
         a crate metric got worse than at base and is past its limit. Without --base
         there is nothing to compare with, so every finding counts as new.
  any    exit 1 when any finding is reported (after --filter-mode).
  never  always exit 0 unless the command itself fails.

exit codes: 0 passes under fail-on, 1 fails, 2 usage or configuration error (bad option,
bad ruvopt.toml, a ref that does not resolve, PATH not a git repository with --base, a
commit or blob the clone lacks and cannot fetch), 70 an internal error (a bug in ruvopt).

CI clones: in a shallow or partial clone with a remote, a missing base commit id is
fetched (`git fetch --depth=1 --filter=blob:none`), the clone is deepened step by step
(at most 1365 commits) until base and head have a merge base, and in a partial clone the
blobs the rules read are fetched in batches; set RUVOPT_FETCH_TOKEN when the remote needs
a token the clone does not hold. --no-fetch turns all of that off.

In diff mode both commits are read from git objects (no checkout) of the repository that
holds PATH, and only PATH's folder of them is checked, as without --base; the
configuration is that folder's in the base commit, never the head's, and the findings are
those of the head filtered to the diff from the merge base of base and head:
  added         on lines the diff adds (default)
  diff_context  on lines inside the diff's hunks
  file          in files the diff touches
  nofilter      everywhere
"""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ruvopt``, else ``~/.cache/ruvopt`` (XDG base directory spec)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "ruvopt"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "check",
        help="run the rules over a workspace (or a diff between two commits)",
        description=describe(__doc__),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("."), help="workspace directory (default: .)")
    p.add_argument("--base", metavar="REF", help="diff mode: compare with this commit (config is read from it)")
    p.add_argument("--head", metavar="REF", help="diff mode: the commit to check (default: HEAD)")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="report format (default: text); github and sarif name files from the repository's root",
    )
    p.add_argument(
        "--filter-mode", choices=FILTER_MODES, default=None, help="diff mode: which findings to report (default: added)"
    )
    p.add_argument("--fail-on", choices=FAIL_ON, default=None, help="when to exit 1 (see below)")
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report here instead of stdout")
    p.add_argument("--jobs", "-j", type=positive_int, metavar="N", help="worker processes (default: all cores)")
    add_fetch_option(p)
    cache = p.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="per-file result cache (default: $XDG_CACHE_HOME/ruvopt or ~/.cache/ruvopt)",
    )
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.set_defaults(handler=run)


def add_fetch_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-fetch",
        action="store_true",
        help="diff mode: never fetch into a shallow or partial clone; fail saying what is missing",
    )


class UsageError(Exception):
    pass


def repo_root(path: Path) -> Path:
    if not path.is_dir():
        raise UsageError(f"{path}: no such directory")
    try:
        return Path(run_git(path, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        raise UsageError(f"{path}: not a git repository (--base needs one)") from None


def build_view(args: argparse.Namespace, progress: text.ScanProgress) -> View:
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    if args.head and not args.base:
        raise UsageError("--head needs --base")
    if args.filter_mode and not args.base:
        raise UsageError("--filter-mode needs --base (without it every finding is reported)")
    if args.base:
        repo = repo_root(args.path)
        folder = folder_in_repo(args.path)
        clone = prepare(repo, args.base, args.head or "HEAD", allow_fetch=not args.no_fetch, note=progress.note)
        result = check_diff(
            repo,
            args.base,
            args.head or "HEAD",
            filter_mode=args.filter_mode or "added",
            cache_dir=cache_dir,
            jobs=args.jobs,
            progress=progress,
            fetch_blobs=clone.blob_fetcher(),
            subdir=folder,
        )
        return replace(View.of_diff(result), repo_prefix=folder)
    if not args.path.is_dir():
        raise UsageError(f"{args.path}: no such directory")
    tree = DirectoryTree(args.path)
    if not any(p == "Cargo.toml" or p.endswith("/Cargo.toml") for p in tree.entries()):
        raise UsageError(f"{args.path}: no Cargo.toml found; point PATH at a Cargo workspace or crate")
    config = load_config(tree)
    report = check(tree, config, cache_dir=cache_dir, jobs=args.jobs, progress=progress)
    return replace(View.of_check(report, config), repo_prefix=folder_in_repo(args.path))


def folder_in_repo(path: Path) -> str:
    """``path``'s place in its git repository ("crates/ws/"), "" at the root or outside git."""
    try:
        return run_git(path, "rev-parse", "--show-prefix").decode().strip()
    except GitError:
        return ""


def render(view: View, fmt: str) -> str:
    """The report as text in ``fmt`` (plain text, no colour, for files and pipes)."""
    if fmt == "json":
        return json.render(view)
    if fmt == "sarif":
        return sarif.render(view)
    if fmt == "github":
        return github.render(view)
    if fmt == "markdown":
        return markdown.render(view)
    return text.render_str(view)


def run(args: argparse.Namespace) -> int:
    try:
        with text.ScanProgress() as progress:
            view = build_view(args, progress)
    except (UsageError, ConfigError, GitError) as exc:
        print(f"ruvopt check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    view = view.judged(args.fail_on or view.config.fail_on)
    if args.output is None and args.format == "text":
        text.render(view, Console(highlight=False))  # colour and width when stdout is a terminal
    else:
        output = render(view, args.format)
        if args.output is None:
            sys.stdout.write(output)
        else:
            try:
                args.output.write_text(output, encoding="utf-8")
            except OSError as exc:
                print(f"ruvopt check: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
                return EXIT_USAGE
    assert view.verdict is not None
    return EXIT_FAIL if view.verdict.failed else EXIT_OK
