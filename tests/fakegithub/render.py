"""Records → the meaningful fields of GitHub's JSON (the rest is completed from the schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests.fakegithub.core import Reply

if TYPE_CHECKING:
    from tests.fakegithub.core import Call, FakeCore
    from tests.fakegithub.state import Repo

MAX_PER_PAGE = 100


def user(fake: FakeCore, login: str) -> dict[str, Any]:
    bot = login.endswith("[bot]")
    return {
        "login": login,
        "id": abs(hash(login)) % 10_000_000,
        "node_id": f"U_{login}",
        "type": "Bot" if bot else "User",
        "html_url": f"{fake.html_url}/{'apps/' + login[:-5] if bot else login}",
        "url": f"{fake.url}/users/{login}",
    }


def repository(fake: FakeCore, repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(fake, repo.owner),
        "default_branch": repo.default_branch,
        "url": f"{fake.url}/repos/{repo.full_name}",
        "html_url": f"{fake.html_url}/{repo.full_name}",
        "clone_url": f"{fake.clone_base_url}/{repo.full_name}.git",
    }


def app(fake: FakeCore) -> dict[str, Any]:
    return {
        "id": fake.app_id,
        "slug": fake.app_slug,
        "node_id": f"A_{fake.app_id}",
        "name": fake.app_slug,
        "owner": user(fake, "ruvopt-org"),
        "html_url": f"{fake.html_url}/apps/{fake.app_slug}",
        "permissions": {"checks": "write", "pull_requests": "write", "contents": "read", "metadata": "read"},
        "events": ["pull_request", "issue_comment", "check_run", "check_suite"],
    }


def paged(call: Call, items: list[Any], status: int = 200) -> Reply:
    """A page of ``items`` as GitHub pages lists (``per_page`` ≤ 100, ``page``, Link header)."""
    per_page = min(int(call.query.get("per_page", 30)), MAX_PER_PAGE)
    page = max(int(call.query.get("page", 1)), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max(1, -(-len(items) // per_page))
    links = []
    base = {k: v for k, v in call.query.items() if k != "page"}
    if page < last:
        links.append(f'<{_url(call, {**base, "page": page + 1})}>; rel="next"')
        links.append(f'<{_url(call, {**base, "page": last})}>; rel="last"')
    if page > 1:
        links.append(f'<{_url(call, {**base, "page": 1})}>; rel="first"')
        links.append(f'<{_url(call, {**base, "page": page - 1})}>; rel="prev"')
    headers = {"link": ", ".join(links)} if links else {}
    return Reply(status, chunk, headers)


def _url(call: Call, query: dict[str, Any]) -> str:
    encoded = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()})
    return f"{call.fake.url}{call.path}?{encoded}"
