"""``ruvopt check PATH [--base REF [--head REF]]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from checks.config import ConfigError
from checks.engine import check
from checks.source import GitError, open_tree

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="run the rules over a workspace")
    p.add_argument("path", type=Path, nargs="?", default=Path("."))
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--cache-dir", type=Path, default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = check(open_tree(args.path, None), cache_dir=args.cache_dir, jobs=args.jobs)
    except (ConfigError, GitError) as exc:
        print(f"ruvopt: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = {
        "crates": [{"name": c.name, "path": c.path, "root": c.root, "metrics": c.metrics.to_dict()} for c in report.crates],
        "findings": [f.to_dict() for f in report.findings],
    }
    print(json.dumps(out, indent=2))
    return EXIT_FAIL if report.findings else EXIT_OK
