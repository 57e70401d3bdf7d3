"""One side (base or head) of a comparison: prepared once, then measured run by run.

Prepared once per side, so each run measures the workspace's own code:

1. the commit is materialised (:mod:`.workdir`) and its dependencies fetched outside the
   sandbox (:mod:`.toolchain`);
2. inside the sandbox: ``cargo metadata`` (members and targets), then a full
   ``cargo build --profile P`` per profile — dependencies are built here, once;
3. ``cargo bench --no-run`` builds the bench binaries, which are copied aside (a clean
   build of the release profile would delete them: they share ``target/release``).

Each run then, per profile: ``cargo clean -p <every member>`` (the dependencies stay),
the timed **clean build**, the **artifact sizes** cargo reports for the members (rlib,
cdylib/so, staticlib, binaries), ``touch`` of each member's crate root and the timed
**incremental rebuild**; then every bench binary (criterion's estimates from a fresh
``CRITERION_HOME``, custom measures from the Bencher Metric Format file), or with
``metric = "instructions"`` one iteration of each criterion benchmark under callgrind.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruvopt.bot.bench import results
from ruvopt.bot.bench.sandbox import Limits, Mounts, Result, Sandbox
from ruvopt.bot.bench.stats import Metric
from ruvopt.bot.bench.toolchain import CargoHome, Toolchain
from ruvopt.bot.bench.workdir import SideDirs, materialise

Samples = dict[Metric, float]
SETARCH = ("setarch", platform.machine(), "-R")
ITER_FUNCTIONS = "*Bencher*iter*"  # criterion's Bencher::iter, iter_batched, iter_custom… (and AsyncBencher's)
LIB_KINDS = {"lib", "rlib", "cdylib", "dylib", "staticlib", "proc-macro"}
ARTIFACT_KINDS = {".rlib": "rlib", ".so": "cdylib", ".dylib": "cdylib", ".a": "staticlib", ".dll": "cdylib"}


class SideFailed(RuntimeError):
    """A command of this side failed; ``str()`` is the paragraph for the report."""


@dataclass(frozen=True)
class Plan:
    profiles: tuple[str, ...] = ("release",)
    benches: tuple[str, ...] = ()  # bench targets; empty: every bench target
    runs: int = 5
    metric: Literal["time", "instructions"] = "time"
    bmf_file: str | None = None
    criterion_args: tuple[str, ...] = ()
    jobs: int | None = None


@dataclass(frozen=True)
class Package:
    name: str
    manifest_dir: Path
    roots: tuple[Path, ...]  # crate root of its lib target, else of its bins
    uses_criterion: bool


@dataclass(frozen=True)
class BenchBinary:
    package: Package
    target: str
    executable: Path


@dataclass
class Side:
    name: Literal["base", "head"]
    sha: str
    dirs: SideDirs
    toolchain: Toolchain
    cargo_home: CargoHome
    limits: Limits
    plan: Plan
    log: Callable[[str], None] = lambda _: None
    packages: list[Package] = field(default_factory=list)
    benches: list[BenchBinary] = field(default_factory=list)
    lockfile_generated: bool = False
    aslr_off: bool = False  # bench binaries run under `setarch -R` (same addresses every run)
    copy_seconds: float = 0.0  # copying a seed target directory in (the job's own overhead)
    built: bool = False  # dependencies and bench binaries built: the target directory is worth keeping
    cache_key: str = ""  # its dependency cache entry (base sides only)
    # (what, seconds, sandboxed) of every child process: git archive, cargo fetch, the sandboxed runs
    commands: list[tuple[str, float, bool]] = field(default_factory=list)
    _sandbox: Sandbox | None = None

    # -- preparing ---------------------------------------------------------------------------------

    async def checkout(self, git_dir: Path, environ: Mapping[str, str]) -> None:
        """The commit's files, and its dependencies fetched (outside the sandbox)."""
        await asyncio.to_thread(self.dirs.create)
        started = time.monotonic()
        await materialise(git_dir, self.sha, self.dirs.src, self.dirs.home)
        self.commands.append(("git archive + extract", time.monotonic() - started, False))
        manifest = self.dirs.src / "Cargo.toml"
        if not manifest.is_file():
            raise SideFailed(f"{self.name} (`{self.sha[:12]}`) has no Cargo.toml at the repository root.")
        self.log(f"{self.name}: cargo fetch")
        started = time.monotonic()
        self.lockfile_generated = await self.cargo_home.fetch(self.toolchain, manifest, self.dirs.home, environ)
        self.commands.append(("cargo fetch", time.monotonic() - started, False))
        binds = self.cargo_home.prepare_inner(self.dirs.cargo_home)
        readonly = (*self.toolchain.readonly_paths(), *self.cargo_home.source_dirs())
        self._sandbox = Sandbox(Mounts(self.dirs.writable, readonly, binds), self.limits)

    @property
    def lockfile(self) -> bytes:
        lock = self.dirs.src / "Cargo.lock"
        return lock.read_bytes() if lock.is_file() else b""

    async def build(self, seed: Path | None = None, *, seeded: bool = False) -> None:
        """Build the dependencies (and once the members) of every profile and the bench
        binaries. ``seed``: a target directory built from the same Cargo.lock (the other
        side's), copied in so its dependencies are not rebuilt; ``seeded``: the target
        directory already holds one (the dependency cache's entry, moved in)."""
        if seed is not None:
            started = time.monotonic()
            await asyncio.to_thread(_replace_tree, seed, self.dirs.target)
            self.copy_seconds += time.monotonic() - started
            seeded = True
        self.packages = self.read_metadata(await self.cargo("metadata", "--format-version", "1", "--no-deps"))
        probe = await self._sandbox_run([*SETARCH, "/bin/true"], self.dirs.src, self.env())
        self.aslr_off = probe.ok  # a runtime whose seccomp refuses personality(2) keeps ASLR on
        if seeded:
            # cargo names a member's artifacts by its path relative to the workspace, and the
            # extracted sources carry commit times older than the seed's build: the seed's
            # member artifacts would look fresh. Only its dependencies may be kept.
            for profile in (*self.plan.profiles, "bench"):
                await self.cargo("clean", *self.member_specs(), "--profile", profile)
        for profile in self.plan.profiles:
            self.log(f"{self.name}: building dependencies ({profile})")
            await self.cargo("build", "--workspace", "--profile", profile)
        await self.build_benches()
        self.built = True

    def read_metadata(self, result: Result) -> list[Package]:
        data = json.loads(result.stdout)
        members = set(data["workspace_members"])
        packages = []
        for package in data["packages"]:
            if package["id"] not in members:
                continue
            targets = package["targets"]
            libs = [t for t in targets if set(t["kind"]) & LIB_KINDS]
            bins = [t for t in targets if "bin" in t["kind"]]
            roots = tuple(r for t in (libs or bins) if _inside(r := Path(t["src_path"]), self.dirs.src))
            criterion = any(d["name"] == "criterion" for d in package["dependencies"])
            packages.append(Package(package["name"], Path(package["manifest_path"]).parent, roots, criterion))
        return packages

    async def build_benches(self) -> None:
        selection = [a for name in self.plan.benches for a in ("--bench", name)] or ["--benches"]
        self.log(f"{self.name}: cargo bench --no-run")
        result = await self.cargo("bench", "--no-run", "--workspace", "--message-format=json", *selection)
        by_dir = {p.manifest_dir: p for p in self.packages}
        keep = self.dirs.home / "bench-bin"
        keep.mkdir(exist_ok=True)
        for message in _messages(result.stdout):
            target = message.get("target", {})
            if message.get("executable") is None or "bench" not in target.get("kind", []):
                continue
            package = by_dir.get(Path(message["manifest_path"]).parent)
            if package is None or not _inside(Path(message["executable"]), self.dirs.target):
                continue
            copy = keep / f"{package.name}-{target['name']}"
            shutil.copy2(message["executable"], copy)
            self.benches.append(BenchBinary(package, target["name"], copy))

    def member_specs(self) -> list[str]:
        return [a for p in self.packages for a in ("-p", p.name)]

    # -- one run -----------------------------------------------------------------------------------

    async def measure(self, run: int) -> Samples:
        samples: Samples = {}
        for profile in self.plan.profiles:
            samples |= await self.measure_builds(profile)
        for binary in self.benches:
            samples |= await self.run_bench(binary, run)
        return samples

    async def measure_builds(self, profile: str) -> Samples:
        await self.cargo("clean", *self.member_specs(), "--profile", profile)
        self.log(f"{self.name}: clean build ({profile})")
        built = await self.cargo("build", "--workspace", "--profile", profile, "--message-format=json")
        samples = {Metric(f"build/{profile}/clean", "build", f"clean build ({profile})", "s"): built.seconds}
        samples |= self.artifact_sizes(profile, built.stdout)
        for root in {r for p in self.packages for r in p.roots}:
            os.utime(root)
        self.log(f"{self.name}: incremental build ({profile})")
        rebuilt = await self.cargo("build", "--workspace", "--profile", profile)
        samples[
            Metric(f"build/{profile}/incremental", "build", f"rebuild after touching the crate root ({profile})", "s")
        ] = rebuilt.seconds
        return samples

    def artifact_sizes(self, profile: str, stdout: bytes) -> Samples:
        members = {p.manifest_dir for p in self.packages}
        sizes: Samples = {}
        for message in _messages(stdout):
            if message.get("reason") != "compiler-artifact" or Path(message["manifest_path"]).parent not in members:
                continue
            name = message["target"]["name"]
            files = [(f, ARTIFACT_KINDS.get(Path(f).suffix)) for f in message.get("filenames", [])]
            if message.get("executable"):
                files.append((message["executable"], "bin"))
            for file, kind in files:
                if kind is None or not _inside(Path(file), self.dirs.target) or not Path(file).is_file():
                    continue
                metric = Metric(f"size/{profile}/{name}.{kind}", "size", f"{name} {kind} ({profile})", "B")
                sizes[metric] = float(Path(file).stat().st_size)
        return sizes

    async def run_bench(self, binary: BenchBinary, run: int) -> Samples:
        if self.plan.metric == "instructions" and binary.package.uses_criterion:
            return await self.count_instructions(binary)
        home = self.dirs.criterion_home(run, binary.target)
        home.mkdir(parents=True, exist_ok=True)
        flags = ["--noplot", *self.plan.criterion_args] if binary.package.uses_criterion else []
        self.log(f"{self.name}: bench {binary.target} (run {run + 1})")
        argv = [*self.setarch(), str(binary.executable), "--bench", *flags]
        await self.sandboxed(argv, binary, f"bench `{binary.target}`", CRITERION_HOME=str(home))
        samples: Samples = {}
        for estimate in results.read_criterion(home):
            samples[Metric(f"bench/{estimate.id}", "bench", estimate.id, "ns")] = estimate.nanoseconds
        return samples | self.custom_measures(binary)

    def custom_measures(self, binary: BenchBinary) -> Samples:
        if not self.plan.bmf_file:
            return {}
        path = (binary.package.manifest_dir / self.plan.bmf_file).resolve()
        if not path.is_relative_to(self.dirs.src.resolve()):
            return {}
        measures = results.read_bmf(path)
        path.unlink(missing_ok=True)
        return {Metric(f"custom/{m.id}", "custom", m.id, ""): m.value for m in measures}

    async def count_instructions(self, binary: BenchBinary) -> Samples:
        listed = await self.sandboxed([str(binary.executable), "--bench", "--list"], binary, "bench --list")
        ids = [line[: -len(": bench")] for line in listed.stdout.decode().splitlines() if line.endswith(": bench")]
        self.log(f"{self.name}: callgrind {binary.target} ({len(ids)} benchmarks)")
        samples: Samples = {}
        for bench_id in ids:
            total = await self.callgrind(binary, bench_id)
            samples[Metric(f"instructions/{bench_id}", "instructions", bench_id, "Ir")] = float(total)
        return samples

    async def callgrind(self, binary: BenchBinary, bench_id: str) -> int:
        """Instructions of one iteration of one benchmark: criterion in test mode (no
        ``--bench``) runs it once, and callgrind counts only inside criterion's
        ``Bencher::iter*`` — the routine and two clock reads, not criterion's own
        start-up and reporting (which are ~99 % of the process's instructions)."""
        out = self.dirs.tmp / "callgrind.out"
        out.unlink(missing_ok=True)
        callgrind = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            f"--toggle-collect={ITER_FUNCTIONS}",
        ]
        argv = [*self.setarch(), *callgrind, str(binary.executable), results.criterion_regex(bench_id)]
        await self.sandboxed(argv, binary, f"callgrind of `{binary.target}`")
        total = results.read_callgrind_total(out)
        if not total:
            raise SideFailed(
                f"On {self.name}, callgrind counted no instructions inside criterion's "
                f"`Bencher::iter*` for `{bench_id}` (`{binary.target}`)."
            )
        return total

    def setarch(self) -> list[str]:
        """Address-space randomisation off for a bench, as rustc-perf does: the same code at
        the same addresses in every run, so alignment luck does not change from run to run."""
        return list(SETARCH) if self.aslr_off else []

    # -- commands -----------------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": f"{self.toolchain.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.dirs.home),
            "CARGO_HOME": str(self.dirs.cargo_home),
            "CARGO_TARGET_DIR": str(self.dirs.target),
            "TMPDIR": str(self.dirs.tmp),
            "RUSTC": str(self.toolchain.rustc),
            "CARGO_TERM_COLOR": "never",
            "LANG": "C.UTF-8",
        }
        if self.plan.jobs:
            env["CARGO_BUILD_JOBS"] = str(self.plan.jobs)
        return env | extra

    async def cargo(self, *args: str) -> Result:
        argv = [str(self.toolchain.cargo), *args, "--offline", "--locked"]
        return await self.checked(argv, self.dirs.src, self.env(), f"`cargo {args[0]}`")

    async def sandboxed(self, argv: Sequence[str], binary: BenchBinary, what: str, **env: str) -> Result:
        extra = {"CARGO_MANIFEST_DIR": str(binary.package.manifest_dir), "CARGO_PKG_NAME": binary.package.name}
        return await self.checked(argv, binary.package.manifest_dir, self.env(**extra, **env), what)

    async def _sandbox_run(self, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Result:
        assert self._sandbox is not None, "checkout() first"
        return await self._sandbox.run(argv, cwd=cwd, env=env)

    async def checked(self, argv: Sequence[str], cwd: Path, env: dict[str, str], what: str) -> Result:
        result = await self._sandbox_run(argv, cwd, env)
        self.commands.append((what, result.seconds, True))
        if not result.ok:
            raise SideFailed(result.failure(f"On {self.name} (`{self.sha[:12]}`), {what}", self.limits))
        return result


def _inside(path: Path, directory: Path) -> bool:
    """Paths read from cargo's output can be forged: a proc-macro's prints reach cargo's
    stdout. The worker only copies, stats or touches what lies inside this side's tree."""
    return path.resolve().is_relative_to(directory.resolve())


def _replace_tree(source: Path, destination: Path) -> None:
    shutil.rmtree(destination)
    shutil.copytree(source, destination, symlinks=True)


def _messages(stdout: bytes) -> list[dict[str, Any]]:
    out = []
    for line in stdout.splitlines():
        if line.startswith(b"{"):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                out.append(message)
    return out
