"""The ``ruvopt`` command: a thin shell over :mod:`checks` (check, review) and the App
processes (serve, worker). Heavy imports happen inside each command, so ``ruvopt check``
never loads FastAPI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ruvopt.checks import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ruvopt", description=__doc__.split("\n\n")[0])
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
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
