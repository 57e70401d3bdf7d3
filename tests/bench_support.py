"""What the bench tests share: small Rust workspaces as ``{path: text}``, a cargo home whose
``[source]`` replaces crates.io with Debian's crate sources (``librust-criterion-dev``
and its dependencies under ``/usr/share/cargo/registry``), and the engine's entry point.

No crates.io here: criterion 0.3 builds offline from the Debian packages that
``scripts/install-test-deps.sh`` installs. Criterion benches are told to measure for 1 s
after a 1 s warm-up with 10 samples (``[bench]`` keys), which keeps a run near 2.5 s.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ruvopt.bot.bench.runner import Comparison, Machine, Request, compare
from ruvopt.bot.bench.sandbox import Limits
from tests.plugins.workspaces import Files, make_git_repo

DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
FAST_CRITERION = "warm-up-time = 1\nmeasurement-time = 1\nsample-size = 10\n"


def cargo_home(parent: Path) -> Path:
    """An operator's cargo home: crates.io replaced by Debian's directory registry."""
    home = parent / "cargo-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "{DEBIAN_REGISTRY}"\n'
    )
    return home


def manifest(name: str, *, dev_dependencies: str = "", benches: Sequence[str] = (), extra: str = "") -> str:
    text = f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
    if dev_dependencies:
        text += f"\n[dev-dependencies]\n{dev_dependencies}\n"
    for bench in benches:
        text += f'\n[[bench]]\nname = "{bench}"\nharness = false\n'
    return text + extra


def lockfile(name: str) -> str:
    """The Cargo.lock of a package without dependencies (version 3: every cargo reads it)."""
    return f'# @generated\nversion = 3\n\n[[package]]\nname = "{name}"\nversion = "0.1.0"\n'


def plain_crate(name: str = "probe", lib: str = "pub fn answer() -> u32 {\n    42\n}\n", **files: str) -> Files:
    """A crate without dependencies; ``files`` adds or replaces paths (``build_rs`` → build.rs)."""
    crate: dict[str, str] = {"Cargo.toml": manifest(name), "Cargo.lock": lockfile(name), "src/lib.rs": lib}
    for key, text in files.items():
        crate["build.rs" if key == "build_rs" else key] = text
    return crate


def criterion_crate(work: int, *, name: str = "engine", padding: int = 0, config: str = "") -> Files:
    """A crate with one criterion bench (``work`` iterations of a mixing loop) and
    ``padding`` extra exported functions (a bigger rlib)."""
    lib = (
        "pub fn mix(n: u64) -> u64 {\n    let mut acc = 0u64;\n    for i in 0..n {\n"
        "        acc = acc.wrapping_mul(6364136223846793005).wrapping_add(i ^ (acc >> 7));\n    }\n    acc\n}\n"
    )
    lib += "".join(
        f"pub fn pad{i}(x: u64) -> u64 {{ x.wrapping_mul({i + 3}).rotate_left({i % 63}) }}\n" for i in range(padding)
    )
    bench = (
        "use criterion::{black_box, criterion_group, criterion_main, Criterion};\n\n"
        "fn bench(c: &mut Criterion) {\n"
        f'    c.bench_function("mix", |b| b.iter(|| {name}::mix(black_box({work}))));\n'
        "}\n\ncriterion_group!(benches, bench);\ncriterion_main!(benches);\n"
    )
    return {
        "Cargo.toml": manifest(
            name, dev_dependencies='criterion = { version = "0.3", default-features = false }', benches=["mix_bench"]
        ),
        "src/lib.rs": lib,
        "benches/mix_bench.rs": bench,
        "ruvopt.toml": f"[bench]\nruns = 3\n{FAST_CRITERION}{config}",
    }


BMF_BENCH = """\
fn main() {
    let rate = probe::hits() as f64 / 100.0;
    let json = format!("{{\\"moe\\": {{\\"cache_hit_rate\\": {{\\"value\\": {rate}}}}}}}");
    std::fs::write("bmf.json", json).unwrap();
}
"""
BMF_CONFIG = '[bench]\nruns = 2\nbmf-file = "bmf.json"\n\n[bench.budgets]\n"moe/cache_hit_rate" = ">= 0.70"\n'


def bmf_crate(hits: int, padding: int = 0, **extra: str) -> Files:
    """A crate without dependencies whose bench (no criterion) writes a Bencher Metric
    Format file: ``moe/cache_hit_rate`` = hits / 100, budgeted ``>= 0.70``."""
    lib = f"pub fn hits() -> u32 {{\n    {hits}\n}}\n" + "".join(
        f"pub fn pad{i}(x: u64) -> u64 {{ x.wrapping_mul({i + 3}).rotate_left({i % 63}) }}\n" for i in range(padding)
    )
    files: dict[str, str] = {
        "Cargo.toml": manifest("probe", benches=["metrics"]),
        "Cargo.lock": lockfile("probe"),
        "src/lib.rs": lib,
        "benches/metrics.rs": BMF_BENCH,
        "ruvopt.toml": BMF_CONFIG,
    }
    for key, text in extra.items():
        files["build.rs" if key == "build_rs" else key] = text
    return files


def generate_lockfile(files: Files, home: Path, scratch: Path) -> str:
    """Cargo.lock for ``files`` resolved against Debian's registry (real cargo, offline)."""
    from tests.plugins.workspaces import make_workspace

    root = make_workspace(scratch, files, name="lock")
    env = {**os.environ, "CARGO_HOME": str(home)}
    subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=root, env=env, check=True, capture_output=True)
    return (root / "Cargo.lock").read_text()


def machine(tmp_path: Path, home: Path, *, wall: float = 300, memory_mb: int = 4096, keep: bool = False) -> Machine:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Machine(work, home, Limits(wall, memory_mb << 20), dict(os.environ), keep=keep)


async def compare_commits(
    tmp_path: Path, commits: Sequence[Files], home: Path, *, runs: int | None = None, **machine_args: object
) -> Comparison:
    """Commit ``commits`` (base first, head last) to a fresh repository and compare them."""
    repo, shas = make_git_repo(tmp_path, commits, name="bench-repo")
    request = Request(repo, shas[0], shas[-1], runs=runs)
    return await compare(request, machine(tmp_path, home, **machine_args))  # type: ignore[arg-type]
