"""Shared fixtures live in tests/plugins/ — one module per kind of real part:

- ``redis_server``: a real ``redis-server`` on a free loopback port per test session.
- ``fakegithub``: the one FakeGitHub, validating every request against GitHub's OpenAPI.
- ``workspaces``: builders such as ``make_workspace(files={...})`` and git repositories.
"""

pytest_plugins = [
    "tests.plugins.redis_server",
    "tests.plugins.fakegithub",
    "tests.plugins.workspaces",
]
