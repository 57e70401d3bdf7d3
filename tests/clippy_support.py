"""Running real ``cargo clippy`` offline and lining its verdicts up with ruvopt's.

Crates are copied to a temporary directory (never built inside the repository); their
dependencies come from Debian's directory registry ``/usr/share/cargo/registry`` through a
source replacement in ``.cargo/config.toml``; build products go to ``.cache/clippy-target``
so a rerun only re-checks the crate under test.

Positions are ``(file relative to the crate, line, column of the unsafe keyword)`` with a
1-based column counted in characters, as rustc's JSON diagnostics count it. Which blocks
exist is rustc's own answer: ``--force-warn unsafe_code`` reports every unsafe block and
``unsafe impl`` the compiler saw (cfg'd-out code and never-expanded macros are absent).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

REPO = Path(__file__).resolve().parent.parent
REGISTRY = Path("/usr/share/cargo/registry")
TARGET_ROOT = REPO / ".cache" / "clippy-target"
BLOCK_LINT = "clippy::undocumented_unsafe_blocks"
DOC_LINT = "clippy::missing_safety_doc"
CLIPPY_ARGS = (
    "-A",
    "clippy::all",
    "-W",
    BLOCK_LINT,
    "-W",
    DOC_LINT,
    "--force-warn",
    "unsafe_code",
    "--cap-lints",
    "warn",
)
OPTION_SETTINGS: dict[str, dict[str, bool]] = {
    "default": {},
    "statement-off": {"accept-comment-above-statement": False},
    "attributes-off": {"accept-comment-above-attributes": False},
    "both-off": {"accept-comment-above-statement": False, "accept-comment-above-attributes": False},
}
Position = tuple[str, int, int]


@dataclass
class ClippyRun:
    blocks: set[Position] = field(default_factory=set)  # every unsafe block rustc compiled
    impls: set[Position] = field(default_factory=set)  # every `unsafe impl` rustc compiled
    declarations: set[Position] = field(default_factory=set)  # other unsafe_code reports (unsafe fn, trait)
    undocumented: set[Position] = field(default_factory=set)  # clippy::undocumented_unsafe_blocks
    missing_doc: set[Position] = field(default_factory=set)  # clippy::missing_safety_doc
    seconds: float = 0.0


def cargo_available() -> bool:
    return shutil.which("cargo") is not None


def offline_config(crate: Path) -> None:
    """Make ``crate`` build from Debian's registry only, without network."""
    (crate / ".cargo").mkdir(exist_ok=True)
    (crate / ".cargo" / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "debian"\n\n'
        f'[source.debian]\ndirectory = "{REGISTRY}"\n\n[net]\noffline = true\n'
    )


def strip_manifest(manifest: Path) -> None:
    """Drop what ``cargo clippy --lib`` does not need and the registry may lack."""
    doc = tomlkit.parse(manifest.read_text())
    for key in ("dev-dependencies", "dev_dependencies", "bench", "test", "example", "workspace"):
        doc.pop(key, None)
    for table in doc.get("target", {}).values():
        for key in ("dev-dependencies", "dev_dependencies"):
            table.pop(key, None)
    manifest.write_text(tomlkit.dumps(doc))


def registry_crate(name: str) -> str:
    """The newest ``<name>-<version>`` directory of the registry (Debian and Ubuntu ship
    different versions; the comparison holds for whichever is installed)."""
    pattern = re.compile(rf"{re.escape(name)}-(\d+(?:\.\d+)*)(?:[-+].*)?")
    found = []
    for directory in REGISTRY.glob(f"{name}-*"):
        match = pattern.fullmatch(directory.name)
        if match is not None:
            found.append((tuple(int(part) for part in match.group(1).split(".")), directory.name))
    if not found:
        raise FileNotFoundError(f"{REGISTRY}/{name}-* is missing: run scripts/install-test-deps.sh")
    return max(found)[1]


def copy_registry_crate(name: str, destination: Path) -> Path:
    """A buildable copy of ``/usr/share/cargo/registry/<name>`` under ``destination``."""
    crate = destination / name
    shutil.copytree(REGISTRY / name, crate, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    strip_manifest(crate / "Cargo.toml")
    offline_config(crate)
    return crate


def copy_fixture_crate(source: Path, destination: Path) -> Path:
    crate = destination / source.name
    shutil.copytree(source, crate, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    offline_config(crate)
    return crate


def write_clippy_toml(crate: Path, options: dict[str, bool]) -> None:
    text = "".join(f"{name} = {str(value).lower()}\n" for name, value in options.items())
    (crate / "clippy.toml").write_text(text)


def run_clippy(crate: Path, target_name: str, options: dict[str, bool], cargo_args: Iterable[str] = ()) -> ClippyRun:
    """``cargo clippy --lib`` with clippy's options in ``clippy.toml``; diagnostics parsed."""
    write_clippy_toml(crate, options)
    env = cargo_env(target_name)
    # Cargo would replay diagnostics cached for an earlier copy of the crate (its
    # fingerprint does not depend on the directory), so the crate itself is always
    # re-checked; its dependencies stay cached.
    package = str(tomlkit.parse((crate / "Cargo.toml").read_text())["package"]["name"])  # type: ignore[index]
    subprocess.run(
        ["cargo", "clean", "--offline", "-p", package],
        cwd=crate,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    command = ["cargo", "clippy", "--offline", "--lib", "--message-format=json", *cargo_args, "--", *CLIPPY_ARGS]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=crate, env=env, capture_output=True, text=True, timeout=900, check=False)
    run = parse_messages(done.stdout, crate)
    run.seconds = time.perf_counter() - started
    if (
        done.returncode != 0
        or not re.search(rf"(Checking|Compiling) {re.escape(package)} ", done.stderr)
        or not (run.blocks or run.impls or run.declarations)
    ):
        raise RuntimeError(f"cargo clippy did not check {package} ({done.returncode}):\n{done.stderr[-4000:]}")
    return run


def cargo_env(target_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLIPPY_CONF_DIR", "RUSTFLAGS", "CARGO_TARGET_DIR")}
    env["CARGO_TARGET_DIR"] = str(TARGET_ROOT / target_name)
    return env


def parse_messages(stdout: str, crate: Path) -> ClippyRun:
    run = ClippyRun()
    root = crate.resolve()
    for line in stdout.splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("reason") != "compiler-message":
            continue
        diagnostic = message["message"]
        code = (diagnostic.get("code") or {}).get("code")
        for span in diagnostic["spans"]:
            if not span["is_primary"]:
                continue
            path = Path(span["file_name"])  # relative to the crate for its own files
            full = path if path.is_absolute() else (root / path)
            try:
                relative = full.resolve().relative_to(root).as_posix()
            except ValueError:
                continue  # a span in another crate (a macro from a dependency)
            position = (relative, span["line_start"], span["column_start"])
            text = diagnostic["message"]
            if code == "unsafe_code" and "unsafe` block" in text:
                run.blocks.add(position)
            elif code == "unsafe_code" and "implementation of an `unsafe` trait" in text:
                run.impls.add(position)
            elif code == "unsafe_code":
                run.declarations.add(position)
            elif code == BLOCK_LINT:
                run.undocumented.add(position)
            elif code == DOC_LINT:
                run.missing_doc.add(position)
    return run


def char_column(line: str, byte_column: int) -> int:
    """1-based character column of a 0-based UTF-8 byte column in ``line``."""
    return len(line.encode()[:byte_column].decode(errors="replace")) + 1


@dataclass
class RuvoptRun:
    blocks: dict[Position, bool] = field(default_factory=dict)  # every block -> clippy would accept
    impls: dict[Position, bool] = field(default_factory=dict)  # every `unsafe impl` -> accepted
    reported: set[Position] = field(default_factory=set)  # RO201 and RO202 findings
    missing_doc: set[Position] = field(default_factory=set)  # RO203 findings
    seconds: float = 0.0


def ruvopt_run(crate: Path, options: dict[str, bool]) -> RuvoptRun:
    """ruvopt on ``crate`` with clippy's options: the engine's findings and every verdict."""
    from ruvopt.checks.config import Config
    from ruvopt.checks.context import FileContext
    from ruvopt.checks.engine import check
    from ruvopt.checks.registry import wanted_kinds_for
    from ruvopt.checks.safety.verdicts import unsafe_block_verdicts, unsafe_impl_verdicts
    from ruvopt.checks.source import DirectoryTree

    config = Config(select=("RO201", "RO202", "RO203"), rules={"RO201": dict(options)})
    run = RuvoptRun()
    started = time.perf_counter()
    report = check(DirectoryTree(crate), config, jobs=1)
    run.seconds = time.perf_counter() - started
    texts: dict[str, list[str]] = {}
    for finding in report.findings:
        lines = texts.setdefault(finding.path, (crate / finding.path).read_text(errors="replace").split("\n"))
        position = (finding.path, finding.start_line, char_column(lines[finding.start_line - 1], finding.start_col - 1))
        (run.missing_doc if finding.code == "RO203" else run.reported).add(position)
    kinds = wanted_kinds_for(config)
    for path in sorted(crate.rglob("*.rs")):
        relative = path.relative_to(crate).as_posix()
        if relative.startswith(("target/", ".cargo/")):
            continue
        ctx = FileContext(relative, path.read_bytes(), config, kinds)
        for verdicts, into in ((unsafe_block_verdicts(ctx), run.blocks), (unsafe_impl_verdicts(ctx), run.impls)):
            for node, accepted in verdicts:
                row, column = node.start_point
                into[(relative, row + 1, char_column(ctx.lines[row], column))] = accepted
    return run


@dataclass
class Disagreement:
    position: Position
    clippy: str  # "flagged" / "accepted"
    ruvopt: str  # "flagged" / "accepted" / "not found"
    source: str


def compare(
    compiled: set[Position],
    clippy_flagged: set[Position],
    known: Iterable[Position],
    reported: set[Position],
    crate: Path,
) -> list[Disagreement]:
    """Positions rustc compiled where ruvopt's verdict differs from clippy's (or is missing)."""
    found = []
    known = set(known)
    for position in sorted(compiled):
        theirs = "flagged" if position in clippy_flagged else "accepted"
        mine = "not found" if position not in known else ("flagged" if position in reported else "accepted")
        if theirs != mine:
            line = (crate / position[0]).read_text(errors="replace").split("\n")[position[1] - 1]
            found.append(Disagreement(position, theirs, mine, line.strip()[:80]))
    return found


def disagreement_table(rows: list[Disagreement]) -> str:
    lines = ["| position | clippy | ruvopt | source |", "|---|---|---|---|"]
    for row in rows:
        file, line, column = row.position
        lines.append(f"| {file}:{line}:{column} | {row.clippy} | {row.ruvopt} | `{row.source}` |")
    return "\n".join(lines)
