"""What the ``/ruvopt bench`` benchmarks share: the small criterion crate of the tests,
a repository with an identical head, and writing a section of docs/performance.md."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if (Path.home() / ".cargo" / "bin").is_dir():  # rustup's cargo, as .ci/run adds it
    os.environ["PATH"] = f"{Path.home() / '.cargo' / 'bin'}:{os.environ['PATH']}"

from ruvopt.bot.bench.depcache import DependencyCache  # noqa: E402
from ruvopt.bot.bench.runner import Machine  # noqa: E402
from ruvopt.bot.bench.sandbox import Limits  # noqa: E402
from tests.bench_support import cargo_home, criterion_crate, generate_lockfile  # noqa: E402
from tests.plugins.workspaces import make_git_repo  # noqa: E402

DOCS = ROOT / "docs" / "performance.md"


def identical_pair(work: Path, *, runs: int = 5, config: str = "") -> tuple[Path, str, str, Path]:
    """A repository whose head differs from base only in README.md: any regression
    reported between them is a false one. Returns (repo, base, head, cargo home)."""
    home = cargo_home(work)
    crate = criterion_crate(1000)
    crate["ruvopt.toml"] = crate["ruvopt.toml"].replace("runs = 3", f"runs = {runs}") + config
    lock = generate_lockfile(crate, home, work)
    repo, (base, head) = make_git_repo(work, [{**crate, "Cargo.lock": lock}, {"README.md": "# engine\n"}])
    return repo, base, head, home


def machine(work: Path, home: Path) -> Machine:
    (work / "bench-work").mkdir(exist_ok=True)
    return Machine(
        work / "bench-work",
        home,
        Limits(1800, 8192 << 20),
        dict(os.environ),
        deps_cache=DependencyCache(work / "deps"),
        cache_scope="benchmark",
    )


def environment() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"


def write_section(title: str, section: str) -> None:
    """Replace the section titled ``title`` of docs/performance.md (or append it)."""
    text = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    start = text.find(title)
    if start >= 0:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)
