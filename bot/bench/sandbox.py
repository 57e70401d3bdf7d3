"""Run one command of the repository's (cargo build, a bench binary) inside ``bwrap``.

A pull request's ``build.rs`` and proc-macros run during the build, and its benches run
after it: all of it is untrusted. Each command gets:

- **no network**: a new network namespace (loopback only, and not the worker's);
- **an empty environment**: ``--clearenv``, then only the variables the caller names
  (PATH, HOME, CARGO_HOME…) — no token, no App key, nothing of the worker's;
- **a read-only system**: the system directories (``/usr`` and the ``/lib*``, ``/bin``
  links), the few ``/etc`` files a compiler needs, and the caller's read-only paths
  (toolchain, crate sources). Nothing else of the worker's filesystem exists inside —
  not its cache of other repositories, not a mounted secret — and the new root is
  remounted read-only;
- **writable**: only the caller's writable paths (the work tree, the target directory
  and the side's scratch home);
- **no privileges**: a new user namespace mapped to an unprivileged uid, every
  capability dropped, nested user namespaces disabled, a new session (no terminal to
  inject input into);
- **limits**: a wall-clock limit (the process group is killed when it passes) and a
  per-process address-space limit (``prlimit --as``; a cgroup needs a delegated
  hierarchy that most container runtimes do not give a worker);
- **every child killed at the end**: a new PID namespace whose init is bwrap's; when the
  command ends (or is killed) the kernel kills every process left in the namespace,
  daemons that double-forked included. :func:`ruvopt.bot.queue.procs.run` kills bwrap's process group
  on timeout or cancellation, and ``PR_SET_PDEATHSIG`` covers a SIGKILLed worker.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruvopt.bot.queue import procs

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the linker (cc → gcc through /etc/alternatives) and the dynamic loader read; the
# rest of /etc stays outside, so a secret an operator mounted there cannot leak.
ETC_PATHS = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
)
SANDBOX_UID = 1000
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# How a process that ran out of address space says so: Rust's alloc error handler,
# glibc/strerror(ENOMEM), C++'s bad_alloc, LLVM's fatal handler, valgrind.
_OOM = re.compile(
    rb"memory allocation of \d+ bytes failed|Cannot allocate memory|out of memory|std::bad_alloc"
    rb"|LLVM ERROR: out of memory|failed to allocate",
    re.IGNORECASE,
)


class SandboxError(RuntimeError):
    """bwrap is missing or cannot create the namespaces it needs on this machine."""


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 1200.0
    memory_bytes: int = 4 << 30  # per process

    def describe(self) -> str:
        return f"{self.wall_seconds:g} s wall clock, {self.memory_bytes / (1 << 30):g} GiB of memory per process"


@dataclass(frozen=True)
class Mounts:
    writable: tuple[Path, ...]
    readonly: tuple[Path, ...] = ()
    # (source, destination) pairs bound read-only at another path
    readonly_at: tuple[tuple[Path, Path], ...] = ()


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool = False
    out_of_memory: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self, what: str, limits: Limits, tail_lines: int = 30) -> str:
        """One paragraph for a report: what failed, why, and the end of its output."""
        if self.timed_out:
            reason = f"timed out after {self.seconds:.0f} s (limit {limits.wall_seconds:g} s) and was killed"
        elif self.out_of_memory:
            reason = (
                f"ran out of memory (limit {limits.memory_bytes / (1 << 30):g} GiB per process) "
                f"and stopped with exit status {self.returncode}"
            )
        else:
            reason = f"failed with exit status {self.returncode}"
        return f"{what} {reason}." + (f"\n\n```\n{self.tail(tail_lines)}\n```" if self.tail(tail_lines) else "")

    def tail(self, lines: int = 30) -> str:
        text = (self.stderr or self.stdout).decode(errors="replace").replace("```", "'''")
        return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass(frozen=True)
class Sandbox:
    mounts: Mounts
    limits: Limits = field(default_factory=Limits)
    bwrap: str = "bwrap"

    def argv(self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> list[str]:
        args = [
            _which("prlimit"),
            f"--as={self.limits.memory_bytes}",
            "--core=0",
            "--",
            _which(self.bwrap),
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--cap-drop",
            "ALL",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--die-with-parent",
            "--new-session",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
        ]
        for path in SYSTEM_PATHS:
            args += _system_mount(Path(path))
        for path in ETC_PATHS:
            args += ["--ro-bind-try", path, path]
        for ro in self.mounts.readonly:
            args += ["--ro-bind", str(ro), str(ro)]
        for source, destination in self.mounts.readonly_at:
            args += ["--ro-bind", str(source), str(destination)]
        for rw in self.mounts.writable:
            args += ["--bind", str(rw), str(rw)]
        args += ["--remount-ro", "/", "--chdir", str(cwd), "--clearenv"]
        for name, value in {"PATH": DEFAULT_PATH, **env}.items():
            args += ["--setenv", name, value]
        return [*args, "--", *command]

    async def run(
        self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float | None = None
    ) -> Result:
        """Run ``command`` inside; a command that outlives the limit is killed (``timed_out``)."""
        argv = self.argv(command, cwd=cwd, env=env)
        limit = self.limits.wall_seconds if timeout is None else min(timeout, self.limits.wall_seconds)
        started = time.monotonic()
        try:
            done = await procs.run(argv, env={}, timeout=limit)
        except TimeoutError:
            return Result(tuple(command), -9, b"", b"", time.monotonic() - started, timed_out=True)
        seconds = time.monotonic() - started
        setup = _setup_failure(done.stderr)
        if done.returncode != 0 and setup:
            raise SandboxError(f"bwrap could not set up the sandbox: {setup}")
        oom = done.returncode != 0 and bool(_OOM.search(done.stderr[-65536:] + done.stdout[-65536:]))
        return Result(tuple(command), done.returncode, done.stdout, done.stderr, seconds, out_of_memory=oom)


def _which(program: str) -> str:
    """Absolute path of a host program (bwrap runs with an empty environment: no PATH)."""
    return shutil.which(program) or program


def _system_mount(path: Path) -> list[str]:
    """A system directory as it is outside: a symlink (merged /usr) stays a symlink."""
    if path.is_symlink():
        return ["--symlink", str(path.readlink()), str(path)]
    if path.is_dir():
        return ["--ro-bind", str(path), str(path)]
    return []


def _setup_failure(stderr: bytes) -> str | None:
    """bwrap's own error (namespaces refused…), told apart from the command's failures."""
    for line in stderr.decode(errors="replace").splitlines()[:3]:
        if line.startswith("bwrap: "):
            return line.removeprefix("bwrap: ")
        if line.startswith("prlimit: "):
            return line
    return None


async def preflight(bwrap: str = "bwrap", extra_readonly: Sequence[Path] = ()) -> None:
    """Raise :class:`SandboxError` unless a sandbox can be created here (bwrap installed,
    user and network namespaces allowed). The bench worker refuses to start otherwise."""
    if shutil.which(bwrap) is None:
        raise SandboxError(f"`{bwrap}` is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    if shutil.which("prlimit") is None:
        raise SandboxError("`prlimit` is not installed (it is part of util-linux)")
    probe = Sandbox(Mounts(writable=(), readonly=tuple(extra_readonly)), Limits(wall_seconds=30))
    result = await probe.run(["/bin/sh", "-c", "exit 0"], cwd=Path("/"), env={})
    if not result.ok:
        raise SandboxError(f"a sandboxed `true` failed ({result.returncode}): {result.tail(5)}")
