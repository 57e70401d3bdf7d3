"""ruvopt: a performance and optimisation checklist for Rust workspaces.

A thin shell over ruvopt.checks (check, review), the bench engine (bench) and the App
processes (serve, worker). Heavy imports happen inside each command, so ``ruvopt check``
never loads FastAPI.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from ruvopt.checks import __version__
from ruvopt.cli import describe

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
# sysexits' EX_SOFTWARE: ruvopt itself broke. Not 1, which a CI step reads as "the check
# found something", nor 2, which says the user's input or configuration is wrong.
EXIT_INTERNAL = 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ruvopt", description=describe(__doc__))
    parser.add_argument("--version", action="version", version=f"ruvopt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from ruvopt.cli import action as cli_action
    from ruvopt.cli import app as cli_app
    from ruvopt.cli import bench as cli_bench
    from ruvopt.cli import check as cli_check
    from ruvopt.cli import review as cli_review

    cli_check.add_parser(sub)
    cli_review.add_parser(sub)
    cli_bench.add_parser(sub)
    cli_action.add_parser(sub)
    cli_app.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except Exception as exc:  # a bug: say so in one last line, with the traceback above it
        traceback.print_exc()
        print(
            f"ruvopt {args.command}: internal error ({type(exc).__name__}: {exc}); this is a bug in ruvopt "
            f"{__version__}, please report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
