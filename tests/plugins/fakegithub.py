"""pytest plugin: the one FakeGitHub and a git-over-HTTP server that demands its tokens.

Fixtures (signatures are stable; the end-to-end tests use them):

- ``fake_github`` → :class:`tests.fakegithub.FakeGitHub`, served on loopback for the whole
  session and reset before each test. ``.url`` is the REST base URL (GraphQL at
  ``.url + "/graphql"``), ``.app_id`` / ``.app_private_key_pem`` authenticate as the App,
  ``.settings(**overrides)`` builds a ``ruvopt.bot.settings.Settings`` pointing at it. Arrange
  with ``add_repo``/``add_pull``/``set_role``/``add_delivery``…, inspect with
  ``check_runs``/``reviews``/``review_comments``/``threads``/``issue_comments``/``calls``,
  inject faults with ``fail_next``/``secondary_rate_limit``/``primary_rate_limit``/
  ``expire_tokens``, or for a whole run with ``fake.chaos = faults.Chaos(seed, …)``
  (``tests/fakegithub/faults.py``: seeded 502s before or after applying a call,
  rate-limit windows, latency). At teardown the test fails if any request broke GitHub's
  OpenAPI contract (or the fake's reply drifted from it) unless the test wrapped it in
  ``with fake_github.expect_violation("…"):``.
- ``git_http_server`` → :class:`tests.githttp.GitHttpServer` on loopback serving bare
  repositories through real ``git http-backend``; a request must carry a token that
  ``fake_github`` currently accepts, else 401. ``add_repo("owner/name", path)`` returns
  the clone URL; ``fake_github.clone_base_url`` is pointed at it, so PR payloads from
  the fake name clone URLs this server serves.
- ``git_server`` → the same, one per test module (the end-to-end modules share it across
  their tests; it accepts whatever tokens the session's FakeGitHub accepts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.fakegithub.auth import AppKey
from tests.githttp import GitHttpServer


@pytest.fixture(scope="session")
def fake_github_server() -> Iterator[FakeGitHubServer]:
    server = FakeGitHubServer(FakeGitHub(AppKey.generate())).start()
    yield server
    server.stop()


@pytest.fixture
def fake_github(fake_github_server: FakeGitHubServer) -> Iterator[FakeGitHub]:
    fake = fake_github_server.fake
    fake.reset()
    yield fake
    try:
        assert_no_violations(fake)
    finally:
        fake.reset()


def assert_no_violations(fake: FakeGitHub) -> None:
    """Fail the test if a request broke the contract and the test did not declare it."""
    unexpected = fake.unexpected_violations()
    if unexpected:
        listing = "\n".join(f"  {v}" for v in unexpected)
        pytest.fail(f"GitHub contract violations (not declared with expect_violation):\n{listing}", pytrace=False)


@pytest.fixture
def git_http_server(fake_github: FakeGitHub, tmp_path: Path) -> Iterator[GitHttpServer]:
    root = tmp_path / "git-http-root"
    root.mkdir()
    server = GitHttpServer(root, token_ok=fake_github.token_valid).start()
    fake_github.clone_base_url = server.url
    yield server
    server.stop()


@pytest.fixture(scope="module")
def git_server(
    fake_github_server: FakeGitHubServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GitHttpServer]:
    server = GitHttpServer(tmp_path_factory.mktemp("git"), token_ok=fake_github_server.fake.token_valid).start()
    yield server
    server.stop()
