"""The FakeGitHub's GraphQL endpoint: the slice of GitHub's schema the bot uses.

GraphQL is not in the OpenAPI description, so the schema below is copied by hand from
GitHub's public schema (same type, field, argument and input names). Documents are
parsed and validated by graphql-core, so an unknown field, a wrong argument type or a
missing variable is rejected as GitHub would reject it; GitHub's own extra rules that
matter here (connections need ``first`` or ``last`` ≤ 100) are enforced by resolvers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, build_schema, graphql_sync, parse, validate

if TYPE_CHECKING:
    from tests.fakegithub.core import FakeCore
    from tests.fakegithub.state import ReviewComment, Thread

SDL = """
schema { query: Query mutation: Mutation }
scalar URI
scalar DateTime
interface Node { id: ID! }
interface Actor { login: String! url: URI! }
enum DiffSide { LEFT RIGHT }

type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  node(id: ID!): Node
}
type Mutation {
  resolveReviewThread(input: ResolveReviewThreadInput!): ResolveReviewThreadPayload
  unresolveReviewThread(input: UnresolveReviewThreadInput!): UnresolveReviewThreadPayload
}
input ResolveReviewThreadInput { clientMutationId: String threadId: ID! }
input UnresolveReviewThreadInput { clientMutationId: String threadId: ID! }
type ResolveReviewThreadPayload { clientMutationId: String thread: PullRequestReviewThread }
type UnresolveReviewThreadPayload { clientMutationId: String thread: PullRequestReviewThread }

type PageInfo { endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String }
type User implements Node & Actor { id: ID! login: String! url: URI! }
type Bot implements Node & Actor { id: ID! login: String! url: URI! }

type Repository implements Node {
  id: ID!
  name: String!
  nameWithOwner: String!
  pullRequest(number: Int!): PullRequest
}
type PullRequest implements Node {
  id: ID!
  number: Int!
  reviewThreads(after: String, before: String, first: Int, last: Int): PullRequestReviewThreadConnection!
}
type PullRequestReviewThreadConnection {
  edges: [PullRequestReviewThreadEdge]
  nodes: [PullRequestReviewThread]
  pageInfo: PageInfo!
  totalCount: Int!
}
type PullRequestReviewThreadEdge { cursor: String! node: PullRequestReviewThread }
type PullRequestReviewThread implements Node {
  id: ID!
  isResolved: Boolean!
  isOutdated: Boolean!
  isCollapsed: Boolean!
  path: String!
  line: Int
  startLine: Int
  diffSide: DiffSide!
  resolvedBy: User
  viewerCanResolve: Boolean!
  viewerCanUnresolve: Boolean!
  comments(after: String, before: String, first: Int, last: Int, skip: Int): PullRequestReviewCommentConnection!
}
type PullRequestReviewCommentConnection {
  nodes: [PullRequestReviewComment]
  pageInfo: PageInfo!
  totalCount: Int!
}
type PullRequestReviewComment implements Node {
  id: ID!
  databaseId: Int
  body: String!
  path: String!
  line: Int
  author: Actor
  createdAt: DateTime!
  url: URI!
}
"""

SCHEMA = build_schema(SDL)
MAX_PAGE = 100
_ALLOWED_KEYS = {"query", "variables", "operationName"}


class GraphQLContractError(Exception):
    """A document GitHub would refuse (recorded as a contract violation)."""


def check_request(body: Any) -> tuple[str, dict[str, Any], str | None]:
    """(query, variables, operationName) of a well-formed GraphQL POST body."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise GraphQLContractError("body must be a JSON object with a string `query`")
    extra = set(body) - _ALLOWED_KEYS
    if extra:
        raise GraphQLContractError(f"unknown keys in GraphQL body: {sorted(extra)}")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise GraphQLContractError("`variables` must be an object")
    name = body.get("operationName")
    if name is not None and not isinstance(name, str):
        raise GraphQLContractError("`operationName` must be a string")
    return body["query"], variables, name


def execute(fake: FakeCore, installation_id: int, body: Any) -> dict[str, Any]:
    """Run a document against the fake's world; contract errors raise, others are data."""
    query, variables, name = check_request(body)
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise GraphQLContractError(f"parse error: {exc.message}") from exc
    problems = validate(SCHEMA, document)
    if problems:
        raise GraphQLContractError("; ".join(p.message for p in problems))
    result = graphql_sync(
        SCHEMA, query, root_value=_Root(fake, installation_id), variable_values=variables, operation_name=name
    )
    errors = [_error(e) for e in result.errors or []]
    contract = [e for e in errors if e.get("type") in ("MISSING_PAGINATION_BOUNDARIES", "EXCESSIVE_PAGINATION")]
    if contract or any("type" not in e for e in errors):
        raise GraphQLContractError("; ".join(e["message"] for e in errors))
    out: dict[str, Any] = {"data": result.data}
    if errors:
        out["errors"] = errors
    return out


class _TypedError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _error(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message, "path": error.path or []}
    original = error.original_error
    if isinstance(original, _TypedError):
        out["type"] = original.kind
    return out


def _page(items: list[Any], connection: str, first: int | None, after: str | None, last: int | None) -> Any:
    if first is None and last is None:
        raise _TypedError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{connection}` connection.",
        )
    count = first if first is not None else last
    if count is None or count < 0 or count > MAX_PAGE:
        raise _TypedError(
            "EXCESSIVE_PAGINATION",
            f"Requesting {count} records on the `{connection}` connection exceeds the limit of {MAX_PAGE} records.",
        )
    start = int(after.split(":", 1)[1]) + 1 if after else 0
    chosen = items[start : start + count] if first is not None else items[max(0, len(items) - count) :]
    offset = start if first is not None else max(0, len(items) - count)
    end = offset + len(chosen)
    return {
        "nodes": chosen,
        "edges": [{"cursor": f"cursor:{offset + i}", "node": n} for i, n in enumerate(chosen)],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": offset > 0,
            "startCursor": f"cursor:{offset}" if chosen else None,
            "endCursor": f"cursor:{end - 1}" if chosen else None,
        },
    }


class _Root:
    """Root value: graphql-core's default resolver calls these with (info, **arguments)."""

    def __init__(self, fake: FakeCore, installation_id: int) -> None:
        self.fake = fake
        self.installation_id = installation_id

    def repository(self, _info: Any, owner: str, name: str, followRenames: bool = True) -> Any:
        repo = self.fake.visible_repo(f"{owner}/{name}", self.installation_id)
        if repo is None:
            raise _TypedError("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")

        def pull_request(_info: Any, number: int) -> Any:
            if number not in repo.pulls:
                raise _TypedError("NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}.")
            threads = [t for t in self.fake.world.threads.values() if t.repo == repo.full_name and t.pr == number]
            return {
                "id": f"PR_{repo.id}_{number}",
                "number": number,
                "reviewThreads": _paged(lambda: [self._thread(t) for t in threads], "reviewThreads"),
            }

        return {"id": f"R_{repo.id}", "name": repo.name, "nameWithOwner": repo.full_name, "pullRequest": pull_request}

    def node(self, _info: Any, id: str) -> Any:
        thread = self.fake.world.threads.get(id)
        if thread is None or self.fake.visible_repo(thread.repo, self.installation_id) is None:
            raise _TypedError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
        return self._thread(thread)

    def resolveReviewThread(self, _info: Any, input: dict[str, Any]) -> Any:
        return self._set_resolved(input, True)

    def unresolveReviewThread(self, _info: Any, input: dict[str, Any]) -> Any:
        return self._set_resolved(input, False)

    def _set_resolved(self, payload: dict[str, Any], resolved: bool) -> Any:
        thread = self.fake.world.threads.get(payload["threadId"])
        if thread is None or self.fake.visible_repo(thread.repo, self.installation_id) is None:
            raise _TypedError("NOT_FOUND", f"Could not resolve to a node with the global id of '{payload['threadId']}'")
        thread.resolved = resolved
        thread.resolved_by = self.fake.bot_login if resolved else None
        return {"clientMutationId": payload.get("clientMutationId"), "thread": self._thread(thread)}

    def _thread(self, thread: Thread) -> dict[str, Any]:
        comments = [self.fake.world.review_comments[i] for i in thread.comment_ids]
        first = comments[0]
        return {
            "__typename": "PullRequestReviewThread",
            "id": thread.node_id,
            "isResolved": thread.resolved,
            "isOutdated": thread.outdated,
            "isCollapsed": thread.resolved,
            "path": first.path,
            "line": None if thread.outdated else first.line,
            "startLine": first.start_line,
            "diffSide": first.side,
            "resolvedBy": self._user(thread.resolved_by) if thread.resolved_by else None,
            "viewerCanResolve": not thread.resolved,
            "viewerCanUnresolve": thread.resolved,
            "comments": _paged(lambda: [self._comment(c) for c in comments], "comments"),
        }

    def _comment(self, comment: ReviewComment) -> dict[str, Any]:
        return {
            "id": f"PRRC_{comment.id}",
            "databaseId": comment.id,
            "body": comment.body,
            "path": comment.path,
            "line": comment.line,
            "author": self._user(comment.user),
            "createdAt": comment.created_at,
            "url": f"{self.fake.html_url}/{comment.repo}/pull/{comment.pr}#discussion_r{comment.id}",
        }

    def _user(self, login: str) -> dict[str, Any]:
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {"__typename": kind, "id": f"U_{login}", "login": login, "url": f"{self.fake.html_url}/{login}"}


def _paged(items: Callable[[], list[Any]], connection: str) -> Callable[..., Any]:
    def resolve(
        _info: Any, first: int | None = None, after: str | None = None, last: int | None = None, **_: Any
    ) -> Any:
        return _page(items(), connection, first, after, last)

    return resolve
