"""The two installs, each into a fresh virtual environment from the project's wheel.

``pip install ruvopt`` is the CLI (check, review): the engine's dependencies only, and
every import name under ``ruvopt``. ``pip install "ruvopt[app]"`` adds the receiver and
workers. Real pip, resolving the real dependencies (from PyPI, through pip's cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.plugins.workspaces import make_git_repo
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
APP_DISTRIBUTIONS = {"fastapi", "uvicorn", "saq", "redis", "pygithub", "pydantic-settings", "starlette"}
RUST_LIB = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n"

pytestmark = pytest.mark.install


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env, **kwargs)  # type: ignore[call-overload]


def _tracked_copy(target: Path) -> Path:
    """The committed files only: a build/ left in the work tree by an earlier build would
    put modules that no longer exist into the wheel."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source, dest = ROOT / name, target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            dest.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, dest)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = _tracked_copy(tmp_path_factory.mktemp("source") / "ruvopt")
    done = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)])
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("ruvopt-*.whl")
    return built


def _venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path, extra: str) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "env"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    done = _run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", f"{wheel}{extra}"])
    assert done.returncode == 0, done.stderr
    return venv


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    return _venv(tmp_path_factory, wheel, "")


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    return _venv(tmp_path_factory, wheel, "[app]")


def _site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python3*/site-packages")
    return site


def _distributions(venv: Path) -> set[str]:
    listed = _run([str(venv / "bin/pip"), "list", "--format=freeze", "--disable-pip-version-check"])
    return {line.split("==")[0].lower() for line in listed.stdout.splitlines()}


def test_the_wheel_puts_nothing_generic_at_the_top_of_site_packages(light: Path) -> None:
    site = _site_packages(light)
    ours = {p.name for p in site.iterdir() if p.name.lower().startswith("ruvopt")}
    assert {"ruvopt"} <= ours
    for generic in ("checks", "bot", "cli"):
        assert not (site / generic).exists(), f"site-packages/{generic} would shadow a user's module"
    assert {p.name for p in (site / "ruvopt").iterdir() if not p.name.startswith("__")} == {"checks", "bot", "cli"}


def test_the_light_install_has_none_of_the_app_dependencies(light: Path) -> None:
    assert _distributions(light) & APP_DISTRIBUTIONS == set()


def test_the_light_install_runs_check_and_review(light: Path, tmp_path: Path) -> None:
    sample = ROOT / "examples" / "sample-workspace"
    checked = _run([str(light / "bin/ruvopt"), "check", str(sample), "--format", "json"])
    assert checked.returncode in (0, 1), checked.stderr
    assert '"findings"' in checked.stdout
    manifest = '[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n'
    repo, shas = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": manifest, "src/lib.rs": RUST_LIB},
            {"src/lib.rs": RUST_LIB + "pub unsafe fn raw(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"},
        ],
    )
    reviewed = _run([str(light / "bin/ruvopt"), "review", str(repo), "--base", shas[0], "--head", shas[1]])
    assert reviewed.returncode in (0, 1), reviewed.stderr
    assert "RO201" in reviewed.stdout


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_app_commands_without_the_extra_exit_2_naming_it(light: Path, command: str) -> None:
    done = _run([str(light / "bin/ruvopt"), command])
    assert done.returncode == 2
    assert "pip install 'ruvopt[app]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_app_install_serves_webhooks(full: Path, tmp_path: Path) -> None:
    assert APP_DISTRIBUTIONS - {"starlette"} <= _distributions(full)
    from tests.fakegithub.auth import AppKey

    # All three App credentials: `serve` refuses a partial set (docs/install.md).
    env = {
        **os.environ,
        "RUVOPT_WEBHOOK_SECRET": "s",
        "RUVOPT_REDIS_URL": "redis://127.0.0.1:1/0",
        "RUVOPT_APP_ID": "1",
        "RUVOPT_PRIVATE_KEY": AppKey.generate().private_pem,
    }
    port = _free_port()
    proc = subprocess.Popen(
        [str(full / "bin/ruvopt"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), 30, "ruvopt serve from the [app] install")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
