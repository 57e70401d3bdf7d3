"""The bench sandbox, with the real ``bwrap``: what a pull request's code cannot do.

Two levels: commands run straight in :class:`ruvopt.bot.bench.sandbox.Sandbox` (children,
timeouts, hidden files), and a head commit whose ``build.rs`` tries each escape, built
by the real engine (:func:`ruvopt.bot.bench.runner.compare`) with real cargo. Each
``build.rs`` writes what it saw to ``$OUT_DIR/probe.txt``, so a test can tell "the probe
ran and was refused" from "the probe never ran".
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ruvopt.bot.bench.sandbox import Limits, Mounts, Sandbox, preflight
from tests.bench_support import cargo_home, compare_commits, manifest, plain_crate
from tests.waiting import wait_for_async

PROBE_WRITER = """
fn report(text: &str) {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("probe.txt");
    std::fs::write(out, text).unwrap();
}
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return cargo_home(tmp_path)


def probe(tmp_path: Path) -> str:
    [found] = (tmp_path / "work" / "head" / "target").glob("**/out/probe.txt")
    return found.read_text()


def processes_with(needle: str) -> list[int]:
    """PIDs whose command line contains ``needle`` (read from /proc, as ps does)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class Listener:
    """A TCP listener on the worker's loopback that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# --- build.rs probes through the real engine ---------------------------------------------------


async def test_a_build_script_cannot_connect_to_a_listener_on_the_workers_loopback(tmp_path, home, listener):
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
        pass  # the control: from the worker, the listener answers
    await wait_for_async(lambda: listener.accepted == 1, 5, "the listener to accept the control connection")
    build_rs = PROBE_WRITER + (
        "fn main() {\n"
        f'    match std::net::TcpStream::connect(("127.0.0.1", {listener.port})) {{\n'
        '        Ok(_) => { report("connected"); panic!("the sandbox let a build script connect"); }\n'
        '        Err(e) => report(&format!("refused: {e}")),\n    }\n}\n'
    )
    comparison = await compare_commits(
        tmp_path, [plain_crate(), plain_crate(build_rs=build_rs)], home, runs=1, keep=True
    )
    assert comparison.error is None, comparison.error
    # A connect() that succeeded would have been reported: the kernel completes it before
    # the listener's accept, so "refused" means no second connection ever existed.
    assert probe(tmp_path).startswith("refused:")
    assert listener.accepted == 1  # only the control


async def test_a_build_script_sees_none_of_the_workers_environment(tmp_path, home, monkeypatch):
    monkeypatch.setenv("RUVOPT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY----- worker secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_worker_token")
    build_rs = PROBE_WRITER + (
        "fn main() {\n"
        "    let mut names: Vec<String> = std::env::vars().map(|(k, _)| k).collect();\n"
        '    names.sort();\n    report(&names.join("\\n"));\n}\n'
    )
    comparison = await compare_commits(
        tmp_path, [plain_crate(), plain_crate(build_rs=build_rs)], home, runs=1, keep=True
    )
    assert comparison.error is None, comparison.error
    names = set(probe(tmp_path).split("\n"))
    assert "OUT_DIR" in names  # the probe ran, with cargo's own variables
    assert "RUVOPT_PRIVATE_KEY" not in names
    assert "GITHUB_TOKEN" not in names
    assert not {n for n in names if n.startswith("RUVOPT_")}
    assert os.environ.keys() - names >= {"RUVOPT_PRIVATE_KEY", "GITHUB_TOKEN"}


async def test_a_build_script_cannot_write_outside_the_work_tree(tmp_path, home):
    outside = tmp_path / "outside"
    outside.mkdir()
    targets = [outside / "pwned", Path("/tmp") / f"ruvopt-pwned-{os.getpid()}", tmp_path / "work" / "pwned"]
    attempts = "".join(
        f'    let r = std::fs::write("{t}", "x"); log.push(format!("{t}: {{:?}}", r.is_ok()));\n' for t in targets
    )
    body = f'    let mut log = Vec::new();\n{attempts}    report(&log.join("\\n"));\n'
    build_rs = PROBE_WRITER + f"fn main() {{\n{body}}}\n"
    comparison = await compare_commits(
        tmp_path, [plain_crate(), plain_crate(build_rs=build_rs)], home, runs=1, keep=True
    )
    assert comparison.error is None, comparison.error
    assert probe(tmp_path) == "\n".join(f"{t}: false" for t in targets)
    assert not any(t.exists() for t in targets)


async def test_a_build_script_that_sleeps_past_the_limit_is_killed_and_reported_as_timed_out(tmp_path, home):
    build_rs = "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(600));\n}\n"
    started = time.monotonic()
    comparison = await compare_commits(tmp_path, [plain_crate(), plain_crate(build_rs=build_rs)], home, runs=1, wall=8)
    assert time.monotonic() - started < 90
    assert comparison.conclusion == "neutral"
    assert comparison.error is not None
    assert "timed out after" in comparison.error
    assert "was killed" in comparison.error
    assert comparison.error.startswith(f"On head (`{comparison.head_sha[:12]}`), `cargo build`")
    await wait_for_async(lambda: processes_with("build-script-build") == [], 5, "the build script to be gone")


async def test_a_build_script_that_allocates_past_the_memory_limit_is_stopped(tmp_path, home):
    build_rs = (
        "fn main() {\n    let v = vec![7u8; 3usize << 30];\n"
        '    println!("cargo:warning={}", v.iter().step_by(4096).map(|&x| x as u64).sum::<u64>());\n}\n'
    )
    comparison = await compare_commits(
        tmp_path, [plain_crate(), plain_crate(build_rs=build_rs)], home, runs=1, memory_mb=1024
    )
    assert comparison.conclusion == "neutral"
    assert comparison.error is not None
    assert "ran out of memory (limit 1 GiB per process)" in comparison.error
    assert "memory allocation of 3221225472 bytes failed" in comparison.error


# --- the sandbox itself ------------------------------------------------------------------------


def sandbox(tmp_path: Path, wall: float = 30) -> Sandbox:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Sandbox(Mounts(writable=(work,)), Limits(wall_seconds=wall, memory_bytes=1 << 30))


async def test_preflight_passes_where_bwrap_can_create_its_namespaces():
    await preflight()


async def test_files_of_the_worker_outside_the_mounts_do_not_exist_inside(tmp_path):
    secret = tmp_path / "secret.pem"
    secret.write_text("key")
    result = await sandbox(tmp_path).run(["/bin/cat", str(secret)], cwd=tmp_path / "work", env={})
    assert result.returncode != 0
    assert b"No such file or directory" in result.stderr
    listing = await sandbox(tmp_path).run(["/bin/ls", "/"], cwd=tmp_path / "work", env={})
    assert set(listing.stdout.decode().split()) <= {
        "bin",
        "dev",
        "etc",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "sbin",
        "usr",
        "tmp",
    }


async def test_processes_left_behind_by_a_command_are_killed_when_it_ends(tmp_path):
    marker = f"sleep {311 + os.getpid() % 1000}"
    script = f"({marker} &) ; setsid {marker} & echo started"
    result = await sandbox(tmp_path).run(["/bin/sh", "-c", script], cwd=tmp_path / "work", env={})
    assert result.ok
    assert result.stdout.strip() == b"started"
    await wait_for_async(lambda: processes_with(marker) == [], 5, f"every {marker!r} to be gone")


async def test_a_command_past_the_wall_clock_limit_is_killed_with_its_children(tmp_path):
    marker = f"sleep {611 + os.getpid() % 1000}"
    started = time.monotonic()
    result = await sandbox(tmp_path, wall=1.5).run(
        ["/bin/sh", "-c", f"{marker} & {marker}"], cwd=tmp_path / "work", env={}
    )
    assert result.timed_out
    assert not result.ok
    assert time.monotonic() - started < 10
    await wait_for_async(lambda: processes_with(marker) == [], 5, f"every {marker!r} to be gone")


async def test_inside_there_is_no_capability_and_no_user_namespace_to_gain_one(tmp_path):
    status = await sandbox(tmp_path).run(["/bin/grep", "CapEff", "/proc/self/status"], cwd=tmp_path / "work", env={})
    assert status.stdout.split() == [b"CapEff:", b"0000000000000000"]
    nested = await sandbox(tmp_path).run(["/usr/bin/unshare", "--user", "true"], cwd=tmp_path / "work", env={})
    assert nested.returncode != 0


async def test_artifact_paths_forged_on_cargos_output_are_not_copied_or_measured(tmp_path, home):
    """A proc-macro's prints reach cargo's JSON output: one forging an "artifact" that
    names a file of the worker must not get that file copied into the sandbox's tree."""
    secret = tmp_path / "app.pem"
    secret.write_text("-----BEGIN PRIVATE KEY----- worker secret")
    app_dir = tmp_path / "work" / "head" / "src" / "app"  # where the engine materialises head's app crate
    forged = json.dumps(
        {
            "reason": "compiler-artifact",
            "manifest_path": str(app_dir / "Cargo.toml"),
            "target": {"kind": ["bench"], "name": "stolen"},
            "profile": {"test": True},
            "filenames": [str(secret)],
            "executable": str(secret),
        }
    )

    def macro(body: str) -> str:
        return (
            "use proc_macro::TokenStream;\n#[proc_macro]\npub fn forge(_: TokenStream) -> TokenStream {\n"
            f'{body}    "pub fn f() {{}}".parse().unwrap()\n}}\n'
        )

    base = {
        "Cargo.toml": '[workspace]\nmembers = ["mac", "app"]\nresolver = "2"\n',
        "Cargo.lock": 'version = 3\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = ["mac"]\n\n'
        '[[package]]\nname = "mac"\nversion = "0.1.0"\n',
        "mac/Cargo.toml": manifest("mac", extra="\n[lib]\nproc-macro = true\n"),
        "mac/src/lib.rs": macro(""),
        "app/Cargo.toml": manifest("app", extra='\n[dependencies]\nmac = { path = "../mac" }\n'),
        "app/src/lib.rs": "mac::forge!();\n",
    }
    forging = macro(f'    println!("{{}}", {json.dumps(forged)});\n')
    comparison = await compare_commits(tmp_path, [base, {"mac/src/lib.rs": forging}], home, runs=1, keep=True)
    assert comparison.error is None, comparison.error
    work = tmp_path / "work"
    assert not [p for p in work.rglob("*") if p.is_file() and b"worker secret" in p.read_bytes()]
    assert not [d.metric.id for d in comparison.decisions if "stolen" in d.metric.id or "pem" in d.metric.id]
