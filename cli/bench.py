"""``ruvopt bench PATH --base REF --head REF``: what ``/ruvopt bench`` measures, locally.

The same engine as the App's bench job (:func:`ruvopt.bot.bench.runner.compare`): configuration
from the base commit, both commits materialised from git objects, dependencies fetched
with ``cargo fetch --locked``, every build and bench inside the bwrap sandbox, base and
head interleaved. A progress display goes to stderr; the table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ruvopt.cli import describe

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_MEASURED = 0, 1, 2, 3
FORMATS = ("text", "json", "markdown", "bmf")

EPILOG = """\
Configuration is the `[bench]` table of the base commit (docs/configuration.md);
--profile, --bench and --runs narrow it. Dependencies are fetched outside the sandbox
with the cargo home in $CARGO_HOME (registry mirrors and source replacement are read
from its config.toml); the builds and benches run offline inside bubblewrap.

exit codes: 0 no regression, 1 a regression or a budget broken, 2 usage or
configuration error, 3 not measured (a build or bench failed or timed out).
"""


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return names


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {number})")
    return number


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="measure base vs head: build times, artifact sizes, cargo bench (sandboxed)",
        description=describe(__doc__),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("."), help="a directory of the git repository")
    p.add_argument("--base", metavar="REF", required=True, help="the base commit (its [bench] config is used)")
    p.add_argument("--head", metavar="REF", default="HEAD", help="the head commit (default: HEAD)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--runs", type=_positive, metavar="N", help="runs per side (default: [bench] runs)")
    p.add_argument("--profile", type=_names, metavar="P,…", default=(), help="profiles (default: [bench] profiles)")
    p.add_argument("--bench", type=_names, metavar="B,…", default=(), help="bench targets (default: [bench] benches)")
    p.add_argument("--timeout", type=_positive, default=1800, metavar="S", help="wall-clock limit per command")
    p.add_argument("--memory-mb", type=_positive, default=8192, metavar="MB", help="address-space limit per process")
    p.add_argument("--jobs", "-j", type=_positive, metavar="N", help="cargo build jobs (default: all cores)")
    p.add_argument("--work-dir", type=Path, metavar="DIR", help="scratch directory (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the work trees and target directories")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ruvopt.bot.bench import report
    from ruvopt.bot.bench.runner import Machine, Request, compare
    from ruvopt.bot.bench.sandbox import Limits
    from ruvopt.bot.bench.toolchain import default_cargo_home
    from ruvopt.bot.bench.workdir import WorkdirError

    git_dir = args.path.resolve()
    try:
        base, head = asyncio.run(_resolve_both(git_dir, args.base, args.head))
    except WorkdirError as exc:
        print(f"ruvopt bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ruvopt-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    limits = Limits(float(args.timeout), args.memory_mb << 20)
    machine = Machine(work.resolve(), default_cargo_home(os.environ), limits, dict(os.environ), args.jobs, args.keep)
    request = Request(git_dir, base, head, args.profile, args.bench, args.runs)
    with _Display(enabled=not args.quiet) as display:
        comparison = asyncio.run(compare(request, machine, display.update))
    if not args.keep and args.work_dir is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if args.format == "json":
        print(json.dumps(report.to_json(comparison), indent=2, ensure_ascii=False))
    elif args.format == "bmf":
        print(json.dumps(report.to_bmf(comparison), indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        print(report.markdown(comparison))
    else:
        print(report.text(comparison), end="")
    if comparison.error is not None:
        print(f"ruvopt bench: {comparison.error.splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE if "configuration is invalid" in comparison.error else EXIT_NOT_MEASURED
    return EXIT_FAIL if comparison.conclusion == "failure" else EXIT_OK


async def _resolve_both(git_dir: Path, base: str, head: str) -> tuple[str, str]:
    from ruvopt.bot.bench.workdir import resolve

    return await resolve(git_dir, base), await resolve(git_dir, head)


class _Display:
    """A rich progress bar on stderr: steps done of all, and what runs right now."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> _Display:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("starting", total=None)
        return self

    def update(self, text: str, done: int, total: int) -> None:
        if self.progress is None or self.task is None:
            return
        if done >= 0:
            self.progress.update(self.task, completed=done, total=total, description=text)
        else:
            self.progress.update(self.task, description=text)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
