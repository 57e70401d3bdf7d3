"""Real GitHub webhook payloads (``@octokit/webhooks-examples``), signing, and the
variants the examples lack, each derived from a real example by changing fields.

The examples are test material nobody here wrote; ``scripts/install-test-deps.sh``
installs them into ``.cache/npm``. When they are missing, every test that needs one
fails with a message saying so — never a skip.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / ".cache/npm/node_modules/@octokit/webhooks-examples/api.github.com/index.json"

SECRET = "It's a Secret to Everybody"  # the example secret in GitHub's webhook docs
APP_ID = 424242  # "our" App in tests; the examples' apps have other ids

_sha_counter = itertools.count(1)


class MissingTestMaterial(RuntimeError):
    pass


@functools.cache
def _index() -> dict[str, list[dict[str, Any]]]:
    if not EXAMPLES.is_file():
        raise MissingTestMaterial(
            f"{EXAMPLES.relative_to(ROOT)} is missing: run scripts/install-test-deps.sh "
            "(npm package @octokit/webhooks-examples)"
        )
    return {entry["name"]: entry["examples"] for entry in json.loads(EXAMPLES.read_text())}


def example(
    event: str, action: str | None = None, *, installed: bool = True, app_id: int | None = None
) -> dict[str, Any]:
    """A deep copy of the first real example of ``event``/``action`` (with an
    ``installation``, as every App delivery has, unless ``installed=False``)."""
    for payload in _index().get(event, []):
        if action is not None and payload.get("action") != action:
            continue
        if installed and "installation" not in payload:
            continue
        if app_id is not None and _app_id(payload) != app_id:
            continue
        return copy.deepcopy(payload)
    raise MissingTestMaterial(f"no example of {event}.{action} (installed={installed}) in {EXAMPLES.name}")


def _app_id(payload: dict[str, Any]) -> int | None:
    for key in ("check_run", "check_suite"):
        if key in payload:
            return int(payload[key]["app"]["id"])
    return None


def new_sha() -> str:
    """A distinct, well-formed commit id per call (content is irrelevant to the receiver)."""
    return hashlib.sha1(f"ruvopt-test-{next(_sha_counter)}".encode()).hexdigest()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(
    event: str, payload: dict[str, Any] | bytes, *, secret: str | None = SECRET, guid: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a delivery as GitHub sends it; ``secret=None`` leaves it unsigned."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return body, headers


# --- synthesised variants ---------------------------------------------------------------------


def pull_request(
    action: str = "opened",
    *,
    number: int | None = None,
    head_sha: str | None = None,
    base_sha: str | None = None,
    updated_at: str | None = None,
    draft: bool = False,
) -> dict[str, Any]:
    """The real ``pull_request.<action>`` example with the given PR number and SHAs."""
    payload = example("pull_request", action)
    pr = payload["pull_request"]
    if number is not None:
        payload["number"] = pr["number"] = number
    pr["head"]["sha"] = head_sha or new_sha()
    pr["base"]["sha"] = base_sha or pr["base"]["sha"]
    pr["draft"] = draft
    if updated_at is not None:
        pr["updated_at"] = updated_at
    return payload


def fork_pull_request(action: str = "opened", **kwargs: Any) -> dict[str, Any]:
    """A PR whose head lives in a fork (another owner's repository with another id)."""
    payload = pull_request(action, **kwargs)
    head = payload["pull_request"]["head"]
    fork = head["repo"]
    fork["id"] = fork["id"] + 1000
    fork["owner"]["login"] = "forker"
    fork["full_name"] = f"forker/{fork['name']}"
    fork["fork"] = True
    head["label"] = f"forker:{head['ref']}"
    head["user"]["login"] = "forker"
    return payload


def pr_comment(body: str, *, number: int = 1, author: str = "Codertocat", association: str = "OWNER") -> dict[str, Any]:
    """The real ``issue_comment.created`` example, moved onto a pull request: GitHub marks
    a PR's issue with ``issue.pull_request`` (the examples only comment on issues)."""
    payload = example("issue_comment", "created")
    issue, repo = payload["issue"], payload["repository"]["full_name"]
    issue["number"] = number
    issue["html_url"] = f"https://github.com/{repo}/pull/{number}"
    issue["pull_request"] = {
        "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
        "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
        "merged_at": None,
    }
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = payload["sender"]["login"] = author
    payload["comment"]["author_association"] = association
    return payload


def non_writer_comment(body: str, *, number: int = 1) -> dict[str, Any]:
    """A PR comment from someone without write access (association NONE)."""
    return pr_comment(body, number=number, author="drive-by-user", association="NONE")


def check_run(
    action: str = "rerequested", *, app_id: int = APP_ID, head_sha: str | None = None, pulls: bool = True
) -> dict[str, Any]:
    """A check run of ``app_id``. ``pulls=False`` empties ``pull_requests`` as GitHub does
    for a fork's head (the real ``rerequested`` examples already have it empty)."""
    source = "requested_action" if action == "requested_action" else "created"
    payload = example("check_run", source, installed=action == "requested_action")
    payload["action"] = action
    payload.setdefault("installation", {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="})
    run = payload["check_run"]
    run["app"]["id"] = run["check_suite"]["app"]["id"] = app_id
    if head_sha is not None:
        run["head_sha"] = run["check_suite"]["head_sha"] = head_sha
        for pr in run["pull_requests"]:
            pr["head"]["sha"] = head_sha
    if not pulls:
        run["pull_requests"] = run["check_suite"]["pull_requests"] = []
    return payload


def check_suite_rerequested(
    *, app_id: int = APP_ID, head_sha: str | None = None, pulls: bool = True, sender_type: str = "User"
) -> dict[str, Any]:
    """The real ``check_suite.rerequested`` example (its sender is a bot; a person clicks
    "Re-run" in practice, so the sender becomes a User unless asked otherwise)."""
    payload = example("check_suite", "rerequested")
    suite = payload["check_suite"]
    suite["app"]["id"] = app_id
    if head_sha is not None:
        suite["head_sha"] = suite["after"] = head_sha
        for pr in suite["pull_requests"]:
            pr["head"]["sha"] = head_sha
    if not pulls:
        suite["pull_requests"] = []
    if sender_type != "Bot":
        payload["sender"] = copy.deepcopy(payload["repository"]["owner"])
        payload["sender"]["type"] = sender_type
    return payload


def from_bot(payload: dict[str, Any]) -> dict[str, Any]:
    """The same delivery sent by a GitHub App's bot account."""
    payload = copy.deepcopy(payload)
    payload["sender"] = {**payload["sender"], "login": "some-app[bot]", "type": "Bot"}
    return payload
