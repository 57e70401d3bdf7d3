"""``/ruvopt`` commands in pull request comments: found, then parsed strictly.

A command is the first line of a comment that starts with ``/ruvopt`` (after at most
three spaces), outside code blocks and quotes — so quoting someone's command in a reply
does not run it again. Only that first command runs.

Grammar::

    /ruvopt help
    /ruvopt recheck
    /ruvopt bench [profile=NAME[,NAME…]] [bench=NAME[,NAME…]] [runs=N]
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

PREFIX = "/ruvopt"
PROFILE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")  # Cargo profile names
BENCH_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # a `[[bench]]` target name
MAX_RUNS = 50  # as `[bench] runs`
BENCH_OPTIONS = "`profile=NAME[,NAME…]`, `bench=NAME[,NAME…]` and `runs=N` (1–50)"

HELP = """\
ruvopt commands (one per comment, on its own line):

- `/ruvopt recheck` — run the static review again on the current head.
- `/ruvopt bench [profile=NAME,…] [bench=NAME,…] [runs=N]` — measure build times, artifact sizes \
and `cargo bench` of base vs head in a sandbox (defaults: `[bench]` in the base branch's `ruvopt.toml`); \
the result is the `ruvopt/bench` check run and a section of the summary comment.
- `/ruvopt help` — this message.

`recheck` and `bench` need write access to the repository."""


class CommandError(ValueError):
    """A malformed command; the message is the reply the commenter gets."""


@dataclass(frozen=True)
class Help:
    name = "help"


@dataclass(frozen=True)
class Recheck:
    name = "recheck"


@dataclass(frozen=True)
class Bench:
    profiles: tuple[str, ...] = ()  # empty: `[bench] profiles` of the base branch
    benches: tuple[str, ...] = ()  # empty: `[bench] benches`
    runs: int | None = None  # None: `[bench] runs`
    name = "bench"


Command = Help | Recheck | Bench
_MARKDOWN = MarkdownIt("commonmark")


def find_command(body: str) -> str | None:
    """The first ``/ruvopt`` line of a comment's top-level paragraphs.

    The comment is read as CommonMark (markdown-it-py), as GitHub renders it, so a
    command quoted (``> /ruvopt …``), in a list, in a fenced block of any fence length
    or in an indented code block is not a command.
    """
    tokens = _MARKDOWN.parse(body)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "paragraph_open" or opening.level != 0 or inline.type != "inline":
            continue
        for raw in inline.content.split("\n"):
            line = raw.strip()
            if line == PREFIX or line.startswith((PREFIX + " ", PREFIX + "\t")):
                return line
    return None


def parse(line: str) -> Command:
    """Parse one command line (as returned by :func:`find_command`)."""
    words = line.split()
    if not words or words[0] != PREFIX:
        raise CommandError(f"a command starts with `{PREFIX}`")
    if len(words) == 1:
        raise CommandError(f"`{PREFIX}` needs a command: `recheck`, `bench` or `help`.")
    name, args = words[1], words[2:]
    if name == "help":
        _no_arguments(name, args)
        return Help()
    if name == "recheck":
        _no_arguments(name, args)
        return Recheck()
    if name == "bench":
        return _parse_bench(args)
    raise CommandError(f"unknown command `{name}`; use `recheck`, `bench` or `help`.")


def _no_arguments(name: str, args: list[str]) -> None:
    if args:
        raise CommandError(f"`{PREFIX} {name}` takes no arguments (got `{' '.join(args)}`).")


def _parse_bench(args: list[str]) -> Bench:
    options: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise CommandError(f"`{arg}` is not an option; `{PREFIX} bench` takes {BENCH_OPTIONS}.")
        if key not in ("profile", "bench", "runs"):
            raise CommandError(f"unknown option `{key}`; `{PREFIX} bench` takes {BENCH_OPTIONS}.")
        if key in options:
            raise CommandError(f"`{key}=` is given twice; `{PREFIX} bench` takes {BENCH_OPTIONS}, each once.")
        options[key] = value
    runs = options.get("runs")
    if runs is not None and not (re.fullmatch(r"[0-9]{1,2}", runs) and 1 <= int(runs) <= MAX_RUNS):
        raise CommandError(f"`runs={runs}` is not valid; `runs=` takes a whole number from 1 to {MAX_RUNS}.")
    return Bench(
        profiles=_names(options, "profile", PROFILE_NAME),
        benches=_names(options, "bench", BENCH_NAME),
        runs=int(runs) if runs is not None else None,
    )


def _names(options: dict[str, str], key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if key not in options:
        return ()
    names = options[key].split(",")
    for name in names:
        if not pattern.match(name):
            raise CommandError(f"`{key}={options[key]}`: `{name}` is not a valid {key} name.")
    if len(set(names)) != len(names):
        raise CommandError(f"`{key}={options[key]}` names the same {key} twice.")
    return tuple(names)
