"""The one FakeGitHub: GitHub's REST (validated against GitHub's OpenAPI description) and
the slice of GraphQL the bot uses, in memory, served on loopback. See ``core`` for the
request pipeline, ``fake`` for the test API and ``tests/plugins/fakegithub.py`` for the
fixtures.
"""

from tests.fakegithub.core import ApiError, Violation
from tests.fakegithub.fake import FakeGitHub, git_diff
from tests.fakegithub.server import FakeGitHubServer

__all__ = ["ApiError", "FakeGitHub", "FakeGitHubServer", "Violation", "git_diff"]
