"""The FakeGitHub answers as GitHub does, and refuses what GitHub's own description refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.fakegithub import FakeGitHub, git_diff
from tests.plugins.fakegithub import assert_no_violations
from tests.plugins.workspaces import make_git_repo

REPO = "octo-org/widgets"
INSTALLATION = 71
SHA = "a" * 40


@pytest.fixture
def api(fake_github: FakeGitHub) -> Iterator[httpx.Client]:
    """A client authenticated with a fresh installation token of REPO's installation."""
    fake_github.add_repo(REPO, installation_id=INSTALLATION)
    token = fake_github.issue_token(INSTALLATION)
    with httpx.Client(base_url=fake_github.url, headers={"Authorization": f"token {token}"}) as client:
        yield client


def app_jwt(fake: FakeGitHub, *, lifetime: int = 540, iss: object = None) -> str:
    now = int(time.time())
    claims = {"iat": now - 60, "exp": now + lifetime, "iss": str(iss or fake.app_id)}
    return jwt.encode(claims, fake.app_private_key_pem, algorithm="RS256")


# -- the contract ------------------------------------------------------------------------------


def test_valid_check_run_is_created_and_its_reply_matches_the_schema(fake_github: FakeGitHub, api: httpx.Client):
    reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA, "status": "in_progress"})
    assert reply.status_code == 201
    assert reply.json()["status"] == "in_progress"
    assert reply.json()["app"]["slug"] == "ruvopt"
    assert [r.name for r in fake_github.check_runs(REPO)] == ["ruvopt"]
    assert fake_github.violations == []


def test_check_run_with_bad_status_enum_is_rejected(fake_github: FakeGitHub, api: httpx.Client):
    with fake_github.expect_violation("'running' is not one of"):
        reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA, "status": "running"})
    assert reply.status_code == 422
    assert fake_github.check_runs() == []


def test_annotation_missing_annotation_level_is_rejected(fake_github: FakeGitHub, api: httpx.Client):
    run = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA}).json()
    annotation = {"path": "src/lib.rs", "start_line": 1, "end_line": 1, "message": "m"}
    output = {"title": "t", "summary": "s", "annotations": [annotation]}
    with fake_github.expect_violation("'annotation_level' is a required property"):
        reply = api.patch(f"/repos/{REPO}/check-runs/{run['id']}", json={"output": output})
    assert reply.status_code == 422
    assert fake_github.check_runs()[0].annotations == []


def test_a_key_the_schema_does_not_list_is_a_violation(fake_github: FakeGitHub, api: httpx.Client):
    with fake_github.expect_violation("'commit_sha' was unexpected"):
        reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "x", "head_sha": SHA, "commit_sha": SHA})
    assert reply.status_code == 422


def test_more_than_50_annotations_in_one_request_get_422(fake_github: FakeGitHub, api: httpx.Client):
    run = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA}).json()
    many = [
        {"path": "a.rs", "start_line": i, "end_line": i, "annotation_level": "warning", "message": "m"}
        for i in range(1, 52)
    ]
    with fake_github.expect_violation("is too long"):
        reply = api.patch(
            f"/repos/{REPO}/check-runs/{run['id']}", json={"output": {"summary": "s", "annotations": many}}
        )
    assert reply.status_code == 422
    ok = api.patch(f"/repos/{REPO}/check-runs/{run['id']}", json={"output": {"summary": "s", "annotations": many[:50]}})
    assert ok.status_code == 200
    again = api.patch(
        f"/repos/{REPO}/check-runs/{run['id']}", json={"output": {"summary": "s", "annotations": many[50:]}}
    )
    assert again.json()["output"]["annotations_count"] == 51  # PATCHes append


def test_completing_a_check_run_without_conclusion_is_refused(fake_github: FakeGitHub, api: httpx.Client):
    reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA, "status": "completed"})
    assert reply.status_code == 422
    assert fake_github.check_runs() == []


def test_unknown_path_and_missing_method_are_violations(fake_github: FakeGitHub, api: httpx.Client):
    with fake_github.expect_violation("no operation in GitHub's description"):
        assert api.get(f"/repos/{REPO}/check-runz").status_code == 404
    with fake_github.expect_violation("has no DELETE"):
        assert api.delete(f"/repos/{REPO}/check-runs").status_code == 404


def test_wrong_query_type_and_unknown_query_parameter_are_violations(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.add_pull(REPO, 1, head_sha=SHA, base_sha="b" * 40)
    with fake_github.expect_violation("per_page='lots' is not an integer"):
        assert api.get(f"/repos/{REPO}/issues/1/comments", params={"per_page": "lots"}).status_code == 422
    with fake_github.expect_violation("unknown query parameter 'sort_by'"):
        assert api.get(f"/repos/{REPO}/issues/1/comments", params={"sort_by": "x"}).status_code == 422
    assert api.get(f"/repos/{REPO}/issues/1/comments", params={"per_page": "5"}).status_code == 200


def test_malformed_json_gets_400(fake_github: FakeGitHub, api: httpx.Client):
    with fake_github.expect_violation("Problems parsing JSON"):
        reply = api.post(
            f"/repos/{REPO}/check-runs", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert reply.status_code == 400


def test_expect_violation_fails_when_nothing_was_violated(fake_github: FakeGitHub, api: httpx.Client):
    with pytest.raises(AssertionError, match="expected a contract violation"), fake_github.expect_violation():
        api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA})


def test_an_undeclared_violation_fails_the_test(fake_github: FakeGitHub, api: httpx.Client):
    api.get(f"/repos/{REPO}/no-such-thing")
    with pytest.raises(pytest.fail.Exception, match="no operation in GitHub's description"):
        assert_no_violations(fake_github)
    fake_github.violations.clear()  # this test caused it on purpose


# -- authentication ------------------------------------------------------------------------------


def test_app_jwt_gets_an_installation_token(fake_github: FakeGitHub):
    fake_github.add_installation(5, "octo-org")
    reply = httpx.post(
        f"{fake_github.url}/app/installations/5/access_tokens",
        headers={"Authorization": f"Bearer {app_jwt(fake_github)}"},
    )
    assert reply.status_code == 201
    assert reply.json()["token"].startswith("ghs_")
    assert fake_github.token_valid(reply.json()["token"])


@pytest.mark.parametrize(("lifetime", "iss"), [(900, None), (-10, None), (540, 1)])
def test_bad_jwts_are_refused(fake_github: FakeGitHub, lifetime: int, iss: object):
    fake_github.add_installation(5, "octo-org")
    token = app_jwt(fake_github, lifetime=lifetime, iss=iss)
    reply = httpx.post(
        f"{fake_github.url}/app/installations/5/access_tokens", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 401


def test_expired_installation_token_gets_401(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.expire_tokens()
    reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA})
    assert reply.status_code == 401
    assert reply.json()["message"] == "Bad credentials"


def test_token_of_another_installation_sees_404(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.add_repo("someone-else/thing", installation_id=99)
    assert api.get("/repos/someone-else/thing/collaborators/octocat/permission").status_code == 404


def test_unknown_installation_is_404(fake_github: FakeGitHub):
    reply = httpx.post(
        f"{fake_github.url}/app/installations/12345/access_tokens",
        headers={"Authorization": f"Bearer {app_jwt(fake_github)}"},
    )
    assert reply.status_code == 404


# -- reviews and the diff ----------------------------------------------------------------------------


@pytest.fixture
def pull(fake_github: FakeGitHub, api: httpx.Client, tmp_path: Path) -> tuple[str, str]:
    """PR #7: lib.rs lines 2-3 replaced, new.rs added (from a real `git diff`)."""
    lines = "".join(f"line {i}\n" for i in range(1, 21))
    changed = lines.replace("line 2\nline 3\n", "line two\nline three\nline 3.5\n")
    repo, (base, head) = make_git_repo(tmp_path, [{"src/lib.rs": lines}, {"src/lib.rs": changed, "src/new.rs": "x\n"}])
    fake_github.add_pull(REPO, 7, head_sha=head, base_sha=base, diff=git_diff(repo, base, head))
    return base, head


def _review(api: httpx.Client, head: str, comments: list[dict[str, object]]) -> httpx.Response:
    body = {"commit_id": head, "body": "ruvopt", "event": "COMMENT", "comments": comments}
    return api.post(f"/repos/{REPO}/pulls/7/reviews", json=body)


def test_review_comment_on_an_added_line_is_accepted(fake_github: FakeGitHub, api: httpx.Client, pull):
    _, head = pull
    reply = _review(api, head, [{"path": "src/lib.rs", "line": 3, "side": "RIGHT", "body": "here"}])
    assert reply.status_code == 200
    assert reply.json()["state"] == "COMMENTED"
    [comment] = fake_github.review_comments(REPO, 7)
    assert (comment.path, comment.line, comment.side) == ("src/lib.rs", 3, "RIGHT")
    assert comment.diff_hunk.endswith("+line three")


def test_review_comment_on_a_context_line_inside_the_hunk_is_accepted(api: httpx.Client, pull):
    _, head = pull
    assert _review(api, head, [{"path": "src/lib.rs", "line": 6, "body": "ctx"}]).status_code == 200


def test_review_comment_outside_the_diff_rejects_the_whole_review(fake_github: FakeGitHub, api: httpx.Client, pull):
    _, head = pull
    good = {"path": "src/lib.rs", "line": 3, "body": "fine"}
    bad = {"path": "src/lib.rs", "line": 15, "body": "line 15 is not in any hunk"}
    reply = _review(api, head, [good, bad])
    assert reply.status_code == 422
    assert "must be part of the diff" in reply.json()["errors"][0]
    assert fake_github.reviews(REPO, 7) == []
    assert fake_github.review_comments(REPO, 7) == []


def test_review_comment_on_a_file_outside_the_pr_is_rejected(api: httpx.Client, pull):
    _, head = pull
    assert _review(api, head, [{"path": "README.md", "line": 1, "body": "?"}]).status_code == 422


def test_left_side_comment_must_be_a_removed_or_context_line(api: httpx.Client, pull):
    _, head = pull
    assert _review(api, head, [{"path": "src/lib.rs", "line": 2, "side": "LEFT", "body": "old"}]).status_code == 200
    assert _review(api, head, [{"path": "src/lib.rs", "line": 4, "side": "RIGHT", "body": "new"}]).status_code == 200
    assert _review(api, head, [{"path": "src/new.rs", "line": 1, "side": "LEFT", "body": "no"}]).status_code == 422


def test_review_for_a_commit_outside_the_pr_is_rejected(api: httpx.Client, pull):
    assert _review(api, "c" * 40, []).status_code == 422


# -- GraphQL ----------------------------------------------------------------------------------------

THREADS = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) {
    reviewThreads(first: 10) { nodes { id isResolved path line comments(first: 1) { nodes { databaseId body } } } }
  } } }"""
RESOLVE = "mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }"


def test_review_threads_are_listed_and_resolved_through_graphql(fake_github: FakeGitHub, api: httpx.Client, pull):
    _, head = pull
    _review(api, head, [{"path": "src/lib.rs", "line": 3, "body": "fix me"}])
    variables = {"owner": "octo-org", "name": "widgets", "number": 7}
    listed = api.post("/graphql", json={"query": THREADS, "variables": variables}).json()
    [thread] = listed["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]
    assert (thread["isResolved"], thread["path"], thread["line"]) == (False, "src/lib.rs", 3)
    assert thread["comments"]["nodes"][0]["body"] == "fix me"
    done = api.post("/graphql", json={"query": RESOLVE, "variables": {"id": thread["id"]}}).json()
    assert done["data"]["resolveReviewThread"]["thread"] == {"id": thread["id"], "isResolved": True}
    assert [t.resolved for t in fake_github.threads(REPO, 7)] == [True]


def test_graphql_unknown_field_is_a_violation(fake_github: FakeGitHub, api: httpx.Client, pull):
    query = THREADS.replace("isResolved path", "isResolved resolved path")
    with fake_github.expect_violation("Cannot query field 'resolved'"):
        reply = api.post("/graphql", json={"query": query, "variables": {"owner": "o", "name": "n", "number": 7}})
    assert "errors" in reply.json()


def test_graphql_connection_without_first_is_a_violation(fake_github: FakeGitHub, api: httpx.Client, pull):
    query = THREADS.replace("reviewThreads(first: 10)", "reviewThreads")
    variables = {"owner": "octo-org", "name": "widgets", "number": 7}
    with fake_github.expect_violation("must provide a `first` or `last`"):
        api.post("/graphql", json={"query": query, "variables": variables})


def test_graphql_unknown_thread_is_not_found(fake_github: FakeGitHub, api: httpx.Client):
    reply = api.post("/graphql", json={"query": RESOLVE, "variables": {"id": "PRRT_nope"}}).json()
    assert reply["errors"][0]["type"] == "NOT_FOUND"
    assert fake_github.violations == []


# -- faults -------------------------------------------------------------------------------------------


def test_injected_502_hits_the_next_request_only(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.fail_next("POST", f"/repos/{REPO}/check-runs", 502)
    body = {"name": "ruvopt", "head_sha": SHA}
    assert api.post(f"/repos/{REPO}/check-runs", json=body).status_code == 502
    assert api.post(f"/repos/{REPO}/check-runs", json=body).status_code == 201
    assert len(fake_github.check_runs()) == 1


def test_injected_secondary_limit_carries_retry_after(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.secondary_rate_limit("POST", "/repos/*/check-runs", retry_after=7)
    reply = api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": SHA})
    assert reply.status_code == 403
    assert reply.headers["retry-after"] == "7"
    assert "secondary rate limit" in reply.json()["message"]


def test_permission_reports_role_name(fake_github: FakeGitHub, api: httpx.Client):
    fake_github.set_role(REPO, "maint", "maintain")
    reply = api.get(f"/repos/{REPO}/collaborators/maint/permission").json()
    assert (reply["role_name"], reply["permission"]) == ("maintain", "write")
    assert api.get(f"/repos/{REPO}/collaborators/stranger/permission").json()["role_name"] == "read"


def test_check_runs_of_a_commit_are_listed_newest_first(fake_github: FakeGitHub, api: httpx.Client):
    for name in ("ruvopt", "ruvopt", "ruvopt/bench"):
        api.post(f"/repos/{REPO}/check-runs", json={"name": name, "head_sha": SHA})
    api.post(f"/repos/{REPO}/check-runs", json={"name": "ruvopt", "head_sha": "b" * 40})
    latest = api.get(f"/repos/{REPO}/commits/{SHA}/check-runs").json()
    assert [(r["name"], r["id"]) for r in latest["check_runs"]] == [
        ("ruvopt/bench", max(r.id for r in fake_github.check_runs(name="ruvopt/bench"))),
        ("ruvopt", max(r.id for r in fake_github.check_runs(name="ruvopt") if r.head_sha == SHA)),
    ]
    every = api.get(f"/repos/{REPO}/commits/{SHA}/check-runs", params={"filter": "all", "check_name": "ruvopt"})
    assert every.json()["total_count"] == 2
