"""The Rust toolchain and cargo home a bench uses, and fetching dependencies.

**Toolchain.** One toolchain for both sides: the one ``rustc`` on the worker's PATH
resolves to, asked from a neutral directory so a ``rust-toolchain.toml`` in the
repository cannot pick another one (or trigger a rustup download). Inside the sandbox
cargo and rustc are called by their real paths in the toolchain's sysroot, never
through rustup's proxies.

**Fetching.** ``cargo fetch --locked`` runs *outside* the sandbox, because it needs the
network: it downloads and unpacks crate sources and runs nothing of the repository's.
It runs from a neutral directory with ``--manifest-path``, so cargo does not read the
repository's ``.cargo/config.toml`` (cargo finds config files from its working
directory): a ``build.rustc-wrapper``, ``[env]`` or credential provider there would
otherwise run outside the sandbox. Registry mirrors and source replacement are the
operator's, in the worker's cargo home.

**Inside.** The sandbox gets its own cargo home: a ``config.toml`` holding only the
operator's ``[source]`` tables plus ``net.offline = true``, and the operator's
``registry/`` and ``git/`` (the fetched sources) bound read-only — not the operator's
``credentials.toml`` or the rest of their config.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruvopt.bot.queue import procs

FETCH_TIMEOUT_S = 900.0
_FETCH_ENV = (
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


class ToolchainError(RuntimeError):
    """No usable cargo/rustc, or fetching the dependencies failed (with cargo's message)."""


@dataclass(frozen=True)
class Toolchain:
    cargo: Path
    rustc: Path
    sysroot: Path
    release: str  # e.g. "1.95.0"
    commit: str
    host: str

    @property
    def description(self) -> str:
        return f"rustc {self.release} ({self.commit[:9]}) {self.host}"

    @property
    def bin_dir(self) -> Path:
        return self.cargo.parent

    def readonly_paths(self) -> tuple[Path, ...]:
        """What the sandbox must see of the toolchain (nothing extra when it lives in /usr)."""
        return () if self.sysroot == Path("/usr") or self.sysroot.is_relative_to("/usr") else (self.sysroot,)


async def find_toolchain() -> Toolchain:
    """The toolchain ``rustc`` on PATH resolves to (raises :class:`ToolchainError`)."""
    rustc = shutil.which("rustc")
    if rustc is None:
        raise ToolchainError("`rustc` is not on PATH; install a Rust toolchain (rustup or the distribution's rustc)")
    neutral = Path("/")
    sysroot_run = await procs.run([rustc, "--print", "sysroot"], cwd=neutral, timeout=120)
    version_run = await procs.run([rustc, "-vV"], cwd=neutral, timeout=120)
    if sysroot_run.returncode != 0 or version_run.returncode != 0:
        raise ToolchainError(f"`rustc -vV` failed: {(sysroot_run.stderr + version_run.stderr).decode()[-1000:]}")
    sysroot = Path(sysroot_run.stdout.decode().strip())
    info = dict(line.split(": ", 1) for line in version_run.stdout.decode().splitlines() if ": " in line)
    real_rustc = sysroot / "bin" / "rustc"
    cargo = sysroot / "bin" / "cargo"
    if not cargo.exists():
        raise ToolchainError(f"no cargo next to rustc in {sysroot / 'bin'}")
    return Toolchain(
        cargo,
        real_rustc if real_rustc.exists() else Path(rustc),
        sysroot,
        info.get("release", "?"),
        info.get("commit-hash", "unknown"),
        info.get("host", "?"),
    )


def default_cargo_home(environ: Mapping[str, str]) -> Path:
    """Where cargo itself would put its home for this environment."""
    if environ.get("CARGO_HOME"):
        return Path(environ["CARGO_HOME"])
    return Path(environ.get("HOME", str(Path.home()))) / ".cargo"


@dataclass(frozen=True)
class CargoHome:
    """The operator's cargo home: registry mirrors and the downloaded crate sources."""

    path: Path

    def config(self) -> dict[str, object]:
        for name in ("config.toml", "config"):
            file = self.path / name
            if file.is_file():
                with file.open("rb") as handle:
                    return tomllib.load(handle)
        return {}

    def sources(self) -> dict[str, dict[str, object]]:
        sources = self.config().get("source", {})
        return {str(k): dict(v) for k, v in sources.items() if isinstance(v, dict)} if isinstance(sources, dict) else {}

    def source_dirs(self) -> tuple[Path, ...]:
        """Directories of ``directory``/``local-registry`` sources (bound read-only inside)."""
        dirs = []
        for table in self.sources().values():
            for key in ("directory", "local-registry"):
                if isinstance(table.get(key), str):
                    dirs.append(Path(str(table[key])).resolve())
        return tuple(dict.fromkeys(dirs))

    def sandbox_config(self) -> str:
        """``config.toml`` of the cargo home inside the sandbox: sources, offline, nothing else."""
        lines = ["[net]", "offline = true", ""]
        for name, table in self.sources().items():
            lines.append(f"[source.{_toml_key(name)}]")
            for key, value in table.items():
                if isinstance(value, str):
                    lines.append(f"{_toml_key(key)} = {_toml_string(value)}")
            lines.append("")
        return "\n".join(lines)

    def prepare_inner(self, inner: Path) -> tuple[tuple[Path, Path], ...]:
        """Write the sandbox's cargo home at ``inner``; returns the read-only binds it needs."""
        inner.mkdir(parents=True, exist_ok=True)
        (inner / "config.toml").write_text(self.sandbox_config())
        binds = []
        for name in ("registry", "git"):
            (inner / name).mkdir(exist_ok=True)
            if (self.path / name).is_dir():
                binds.append((self.path / name, inner / name))
        return tuple(binds)

    def fetch_env(self, toolchain: Toolchain, environ: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in environ.items() if k in _FETCH_ENV or k.startswith("CARGO_REGISTRIES_")}
        return {
            **env,
            "PATH": f"{toolchain.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": environ.get("HOME", "/"),
            "CARGO_HOME": str(self.path),
            "RUSTC": str(toolchain.rustc),
            "CARGO_TERM_COLOR": "never",
        }

    async def fetch(self, toolchain: Toolchain, manifest: Path, neutral_dir: Path, environ: Mapping[str, str]) -> bool:
        """``cargo fetch --locked`` for ``manifest``; generates the lockfile first when the
        commit has none (returns True then). Raises :class:`ToolchainError` with cargo's words."""
        env = self.fetch_env(toolchain, environ)
        generated = not (manifest.parent / "Cargo.lock").exists()
        self.path.mkdir(parents=True, exist_ok=True)
        steps = [["generate-lockfile"]] if generated else []
        for step in [*steps, ["fetch", "--locked"]]:
            argv = [str(toolchain.cargo), *step, "--manifest-path", str(manifest)]
            done = await procs.run(argv, cwd=neutral_dir, env=env, timeout=FETCH_TIMEOUT_S)
            if done.returncode != 0:
                message = done.stderr.decode(errors="replace").strip()[-3000:]
                raise ToolchainError(f"`cargo {' '.join(step)}` failed:\n{message}")
        return generated


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else _toml_string(key)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
