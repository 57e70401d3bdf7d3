"""``ruvopt serve`` as a process for the registration tests, and headless Chromium.

The browser is Debian's ``chromium`` driven through Debian's ``chromium-driver`` by
selenium (both installed by scripts/install-test-deps.sh), started with the flags this
machine needs: no sandbox (root), no background networking (the network is closed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests import payloads
from tests.app_stack import ROOT
from tests.fakegithub import FakeGitHub
from tests.plugins.redis_server import free_port
from tests.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
]


class Serve:
    """One ``ruvopt serve`` process with nothing but the environment it is given."""

    def __init__(self, workdir: Path, fake: FakeGitHub, redis_url: str, **env: str) -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.credentials = workdir / "secrets" / "credentials.json"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(workdir),
            "PYTHONPATH": str(ROOT),
            "RUVOPT_REDIS_URL": redis_url,
            "RUVOPT_GITHUB_URL": fake.url,
            "RUVOPT_GITHUB_API_URL": fake.url,
            "RUVOPT_PUBLIC_URL": self.url,
            "RUVOPT_CREDENTIALS_FILE": str(self.credentials),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "serve.log"

    def run(self, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run to completion (for a serve that must refuse to start)."""
        return subprocess.run(
            [sys.executable, "-m", "ruvopt.cli.main", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> Serve:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ruvopt.cli.main", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def up() -> bool:
            assert self.proc is not None, self.log.read_text(errors="replace")
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, "ruvopt serve to answer /healthz")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def ping(self, secret: str) -> httpx.Response:
        body, headers = payloads.delivery("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}, secret=secret)
        return httpx.post(f"{self.url}/webhook", content=body, headers=headers, timeout=10)


def chromium(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        assert program.exists(), f"{program} is missing: run scripts/install-test-deps.sh (Debian chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
