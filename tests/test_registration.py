"""One-click App registration (``ruvopt serve`` setup mode) in a real browser.

Headless Chromium opens the setup page of a real ``ruvopt serve`` process, clicks
"Register GitHub App", lands on the FakeGitHub's "Create GitHub App" page (which checks
the manifest as GitHub does), clicks its button and follows GitHub's redirect back; the
receiver exchanges the code at ``POST /app-manifests/{code}/conversions`` (validated
against GitHub's OpenAPI description) and stores the credentials.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from tests.app_stack import ROOT
from tests.fakegithub import FakeGitHub
from tests.registration_support import Serve, chromium
from tests.waiting import wait_for

PERMISSIONS = {"checks": "write", "pull_requests": "write", "issues": "write", "contents": "read", "metadata": "read"}
EVENTS = ["pull_request", "issue_comment", "check_run", "check_suite"]


@pytest.fixture
def serve(tmp_path: Path, fake_github: FakeGitHub, redis_url: str) -> Iterator[Serve]:
    server = Serve(tmp_path, fake_github, redis_url)
    yield server
    server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    driver = chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def click(browser, css: str) -> None:
    WebDriverWait(browser, 20).until(ready.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def wait_text(browser, css: str, text: str) -> None:
    """Until the page shows ``text`` in ``css`` (the element of the previous page may
    still be there while the browser navigates: text_to_be_present retries past it)."""
    WebDriverWait(browser, 30).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def test_registering_in_a_browser_stores_the_apps_credentials_and_turns_on_the_receiver(serve, browser, fake_github):
    serve.start()
    assert serve.ping("any secret").status_code == 503  # no webhooks before registration
    browser.get(f"{serve.url}/")
    click(browser, "form#register button")
    wait_text(browser, "h1", "Create GitHub App for octocat")
    click(browser, "#create")
    wait_text(browser, "#registered", "Registered")
    assert urlparse(browser.current_url).path == "/setup/callback"

    (app,) = fake_github.created_apps()
    assert app.redeemed
    assert app.owner == "octocat"
    assert app.manifest["hook_attributes"]["url"] == f"{serve.url}/webhook"
    assert app.manifest["redirect_url"] == f"{serve.url}/setup/callback"
    assert app.manifest["default_permissions"] == PERMISSIONS
    assert app.manifest["default_events"] == EVENTS
    assert stat.S_IMODE(serve.credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(serve.credentials.parent.stat().st_mode) == 0o700
    stored = json.loads(serve.credentials.read_text())
    assert (stored["app_id"], stored["pem"], stored["webhook_secret"]) == (app.id, app.pem, app.webhook_secret)
    install = browser.find_element(By.ID, "install").get_attribute("href")
    assert install == f"{fake_github.html_url}/apps/{app.slug}/installations/new"

    # The same process is now the receiver: the page is gone, the new secret verifies.
    assert httpx.get(f"{serve.url}/", timeout=5).status_code == 404
    assert serve.ping(app.webhook_secret).json()["status"] == "pong"
    assert serve.ping("not the secret").status_code == 401
    # And after a restart, from the credentials file alone.
    serve.stop()
    serve.start()
    assert httpx.get(f"{serve.url}/", timeout=5).status_code == 404
    assert serve.ping(app.webhook_secret).status_code == 200


def test_an_organization_registers_the_app_through_its_own_settings_page(serve, browser, fake_github):
    serve.start()
    browser.get(f"{serve.url}/")
    org = browser.find_element(By.NAME, "org")
    org.send_keys("octo-org")
    click(browser, "form.options button")
    WebDriverWait(browser, 20).until(ready.url_contains("org=octo-org"))
    action = browser.find_element(By.CSS_SELECTOR, "form#register").get_attribute("action")
    assert urlparse(action).path == "/organizations/octo-org/settings/apps/new"
    click(browser, "form#register button")
    wait_text(browser, "h1", "Create GitHub App for octo-org")
    click(browser, "#create")
    wait_text(browser, "#registered", "Registered")
    (app,) = fake_github.created_apps()
    assert app.owner == "octo-org"


def test_a_callback_whose_state_this_server_did_not_issue_is_refused(serve, fake_github):
    serve.start()
    page = httpx.get(f"{serve.url}/", timeout=5).text
    issued = parse_qs(urlparse(page.split('action="')[1].split('"')[0].replace("&amp;", "&")).query)["state"][0]
    forged = httpx.get(f"{serve.url}/setup/callback", params={"code": "abc", "state": issued + "x"}, timeout=5)
    assert forged.status_code == 400
    assert "did not start on this server" in forged.text
    assert not serve.credentials.exists()
    assert fake_github.calls("POST", "/app-manifests/*") == []  # the code was never sent to GitHub


def test_setup_mode_answers_health_and_metrics_and_is_not_ready(serve):
    # Prometheus scrapes the receiver during registration too (RuvoptReceiverDown).
    serve.start()
    assert httpx.get(f"{serve.url}/healthz", timeout=5).json() == {"status": "ok", "mode": "setup"}
    assert httpx.get(f"{serve.url}/readyz", timeout=5).status_code == 503
    scraped = httpx.get(f"{serve.url}/metrics", timeout=5)
    assert scraped.status_code == 200
    assert "ruvopt_webhooks_total" in scraped.text


def test_a_code_github_does_not_know_leaves_setup_mode_on(serve, fake_github):
    serve.start()
    page = httpx.get(f"{serve.url}/", timeout=5).text
    state = parse_qs(urlparse(page.split('action="')[1].split('"')[0].replace("&amp;", "&")).query)["state"][0]
    reply = httpx.get(f"{serve.url}/setup/callback", params={"code": "expired-code", "state": state}, timeout=10)
    assert reply.status_code == 502
    assert "refused the registration code" in reply.text
    (call,) = fake_github.calls("POST", "/app-manifests/*")
    assert call.status == 404
    assert call.operation_id == "apps/create-from-manifest"
    assert not serve.credentials.exists()
    assert httpx.get(f"{serve.url}/", timeout=5).status_code == 200  # still in setup mode


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"RUVOPT_APP_ID": "12"}, "RUVOPT_WEBHOOK_SECRET not set"),
        ({"RUVOPT_WEBHOOK_SECRET": "s", "RUVOPT_PRIVATE_KEY": "k"}, "RUVOPT_APP_ID not set"),
        ({"RUVOPT_PRIVATE_KEY": "k"}, "RUVOPT_APP_ID, RUVOPT_WEBHOOK_SECRET not set"),
    ],
)
def test_serve_refuses_partial_credentials_and_names_what_is_missing(serve, env, missing):
    serve.env.update(env)
    proc = serve.run()
    assert proc.returncode == 2, proc.stderr
    assert missing in proc.stderr, proc.stderr


def test_setup_mode_without_a_public_url_says_which_setting_it_needs(serve):
    del serve.env["RUVOPT_PUBLIC_URL"]
    proc = serve.run()
    assert proc.returncode == 2, proc.stderr
    assert "set RUVOPT_PUBLIC_URL" in proc.stderr, proc.stderr


def test_a_credentials_file_others_can_read_is_refused(serve):
    serve.credentials.parent.mkdir()
    serve.credentials.write_text(json.dumps({"app_id": 1, "pem": "k", "webhook_secret": "s"}))
    serve.credentials.chmod(0o644)
    proc = serve.run()
    assert proc.returncode == 2, proc.stderr
    assert f"chmod 600 {serve.credentials}" in proc.stderr, proc.stderr


def _worker(serve: Serve, log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ruvopt.cli.main", "worker", "--queues", "review"],
            env={**serve.env, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_started_before_registration_stops_once_the_credentials_exist(serve, tmp_path):
    log = tmp_path / "worker.log"
    worker = _worker(serve, log)
    try:
        wait_for(
            lambda: b"no App credentials" in log.read_bytes() and b"worker consuming" in log.read_bytes(),
            30,
            "the worker to consume without credentials",
        )
        assert worker.poll() is None
        serve.credentials.parent.mkdir(mode=0o700)
        fd = os.open(serve.credentials, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, json.dumps({"app_id": 7, "pem": "k", "webhook_secret": "s"}).encode())
        os.close(fd)
        worker.wait(timeout=30)
    finally:
        worker.kill()
    output = log.read_text(errors="replace")
    assert worker.returncode == 0, output
    assert f"the App's credentials appeared in {serve.credentials}" in output


def test_a_worker_with_an_app_id_but_no_key_refuses_to_start(serve, tmp_path):
    log = tmp_path / "worker.log"
    worker = _worker(serve, log, RUVOPT_APP_ID="7")
    worker.wait(timeout=30)
    output = log.read_text(errors="replace")
    assert worker.returncode == 2, output
    assert "RUVOPT_PRIVATE_KEY (or RUVOPT_PRIVATE_KEY_PATH) not set" in output, output


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (
            {"RUVOPT_PRIVATE_KEY_PATH": "/nonexistent/app.pem"},
            "RUVOPT_PRIVATE_KEY_PATH=/nonexistent/app.pem: cannot read it",
        ),
        ({"RUVOPT_PRIVATE_KEY": "not a key"}, "RUVOPT_PRIVATE_KEY is not an unencrypted PEM private key"),
    ],
)
def test_a_worker_whose_key_cannot_sign_refuses_to_start(serve, tmp_path, key, problem):
    # Started anyway, it would fail every review's GitHub call, three attempts each.
    log = tmp_path / "worker.log"
    worker = _worker(serve, log, RUVOPT_APP_ID="7", **key)
    worker.wait(timeout=30)
    output = log.read_text(errors="replace")
    assert worker.returncode == 2, output
    assert problem in output, output


def test_the_receiver_needs_no_private_key(serve):
    # `serve` verifies webhooks and enqueues; only workers call GitHub (docs/security.md).
    serve.env.update({"RUVOPT_APP_ID": "7", "RUVOPT_WEBHOOK_SECRET": "s"})
    serve.start()
    assert httpx.get(f"{serve.url}/", timeout=5).status_code == 404  # not the registration page


def test_a_settings_error_never_prints_the_value_it_was_given(serve):
    # A wrong type next to secrets: the message names the variable, never a value.
    serve.env.update(
        {"RUVOPT_APP_ID": "seven", "RUVOPT_WEBHOOK_SECRET": "Wh00kSecret", "RUVOPT_REDIS_URL": "redis://:h1dden@x/0"}
    )
    proc = serve.run()
    assert proc.returncode == 2, proc.stderr
    assert "RUVOPT_APP_ID: " in proc.stderr, proc.stderr
    assert "Wh00kSecret" not in proc.stderr + proc.stdout
    assert "h1dden" not in proc.stderr + proc.stdout
    assert "seven" not in proc.stderr + proc.stdout


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles(serve):
    serve.env.update({"RUVOPT_APP_ID": "7", "RUVOPT_WEBHOOK_SECRET": "s", "RUVOPT_REDIS_ULR": "redis://x:1/0"})
    serve.start()
    log = serve.log.read_text(errors="replace")
    assert "ignored: RUVOPT_REDIS_ULR (did you mean RUVOPT_REDIS_URL?) is not a ruvopt setting" in log, log
