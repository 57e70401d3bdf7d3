"""FakeGitHub: request pipeline (validate → authenticate → faults → handler → check reply).

Every request is checked against GitHub's OpenAPI description before anything else: an
unknown path, a method the path lacks, a query parameter the operation does not declare
or of the wrong type, or a body the operation's schema rejects is answered as GitHub
would (404/400/422) **and** recorded as a contract violation, which fails the test at
teardown unless the test declared it with :meth:`FakeCore.expect_violation`. The
fake's own replies are completed and validated against the documented response schema
(a drift there is recorded too).
"""

from __future__ import annotations

import contextlib
import fnmatch
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from tests.fakegithub import faults, graphql
from tests.fakegithub.auth import AppKey, Caller, authenticate
from tests.fakegithub.openapi import Operation, coerce_query, errors, load_spec
from tests.fakegithub.skeleton import complete
from tests.fakegithub.state import BOT_LOGIN, Repo, World

DOCS = "https://docs.github.com/rest"


@dataclass
class Violation:
    kind: str  # request | graphql | response | unimplemented
    method: str
    path: str
    detail: str
    expected: bool = False

    def __str__(self) -> str:
        return f"[{self.kind}] {self.method} {self.path}: {self.detail}"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    operation_id: str | None = None
    auth: str = "none"  # none | app | installation:<id> | invalid
    at: float = 0.0
    injected: str | None = None  # the chaos fault this request met (faults.Fate.kind)


@dataclass
class Fault:
    method: str
    pattern: str  # fnmatch pattern over the request path
    status: int
    remaining: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    validate: bool = True


class ApiError(Exception):
    """A GitHub error reply raised by a handler (404, 422 …)."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status, self.message, self.errors, self.headers = status, message, errors, headers


@dataclass
class Call:
    fake: FakeCore
    op: Operation
    method: str
    path: str
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    caller: Caller

    def repo(self) -> Repo:
        """The repository in the path, 404 unless the caller's installation covers it."""
        full = f"{self.params['owner']}/{self.params['repo']}"
        repo = self.fake.visible_repo(full, self.caller.installation_id)
        if repo is None:
            raise ApiError(404, "Not Found")
        return repo


Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation_id] = fn
        return fn

    return register


class FakeCore:
    """The request pipeline, violations and faults; :class:`.fake.FakeGitHub` adds the test API."""

    def __init__(self, key: AppKey, app_id: int = 424242, app_slug: str = "ruvopt") -> None:
        self.spec = load_spec()
        self.key, self.app_id, self.app_slug = key, app_id, app_slug
        self.lock = threading.RLock()
        self.url = "http://127.0.0.1:0"  # set by the server once it listens
        self.html_url = "https://github.invalid"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clone_base_url = "https://github.invalid"  # tests point it at a git_http_server
            self.clock: Callable[[], float] = time.time
            self.world = World()
            self.violations: list[Violation] = []
            self.requests: list[Recorded] = []
            self.faults: list[Fault] = []
            self.chaos: faults.Chaos | None = None  # seeded faults for the whole run (tests/fakegithub/faults.py)
            self.token_lifetime = 3600.0
            self.redelivery_status = 200
            self.on_redeliver: Callable[[Any], None] | None = None

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]" if self.app_slug != "ruvopt" else BOT_LOGIN

    # -- the pipeline ----------------------------------------------------------------------

    def handle(self, method: str, path: str, query_string: str, headers: dict[str, str], raw: bytes) -> Reply:
        with self.lock:
            query = dict(parse_qsl(query_string, keep_blank_values=True))
            record = Recorded(method, path, query, _decode(raw), at=self.clock())
            self.requests.append(record)
            reply = self._pipeline(record, method, path, query_string, headers, raw)
            record.status = reply.status
            return reply

    def _pipeline(
        self, record: Recorded, method: str, path: str, query_string: str, headers: dict[str, str], raw: bytes
    ) -> Reply:
        if path == "/graphql" and method == "POST":
            return self._graphql(record, headers, raw)
        matched = self.spec.match(path)
        if matched is None:
            return self._violation("request", method, path, "no operation in GitHub's description", 404)
        template, path_values = matched
        op = self.spec.operation(template, method)
        if op is None:
            allowed = ", ".join(m.upper() for m in self.spec.methods(template))
            return self._violation("request", method, path, f"{template} has no {method} (only {allowed})", 404)
        record.operation_id = op.operation_id
        try:
            params, query, body = self._check_request(op, path_values, query_string, raw)
        except _Rejected as exc:
            return self._violation("request", method, path, f"{op.operation_id}: {exc.detail}", exc.status)
        caller = authenticate(self, headers, op)
        record.auth = caller.label
        if caller.error is not None:
            return _error_reply(401, caller.error)
        fault = self._take_fault(method, path)
        if fault is not None:
            return Reply(fault.status, fault.body, dict(fault.headers), validate=False)
        fate = self._chaos_fate(record, method, path)
        if fate is not None and fate.kind != "502-after":
            return _fate_reply(fate)
        handler = HANDLERS.get(op.operation_id)
        if handler is None:
            return self._violation("unimplemented", method, path, f"the fake lacks {op.operation_id}", 501)
        try:
            reply = handler(Call(self, op, method, path, params, query, body, caller))
        except ApiError as exc:
            reply = _error_reply(exc.status, exc.message, exc.errors, exc.headers)
        reply = self._checked_reply(op, method, path, reply)
        return _fate_reply(fate) if fate is not None else reply  # applied, but the reply is lost

    def _check_request(
        self, op: Operation, path_values: dict[str, str], query_string: str, raw: bytes
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        params: dict[str, Any] = {}
        for name, value in path_values.items():
            param = op.path_params.get(name)
            try:
                params[name] = coerce_query(param, [value]) if param else value
            except ValueError as exc:
                raise _Rejected(404, f"path parameter {exc}") from exc
        pairs = parse_qsl(query_string, keep_blank_values=True)
        query: dict[str, Any] = {}
        for name in dict(pairs):
            param = op.query_params.get(name)
            if param is None:
                raise _Rejected(422, f"unknown query parameter {name!r}")
            try:
                query[name] = coerce_query(param, [v for k, v in pairs if k == name])
            except ValueError as exc:
                raise _Rejected(422, f"query parameter {exc}") from exc
            problems = _schema_errors(param.schema, query[name])
            if problems:
                raise _Rejected(422, f"query parameter {name}: {problems}")
        return params, query, self._check_body(op, raw)

    def _check_body(self, op: Operation, raw: bytes) -> Any:
        validator = op.request_validator()
        if not raw.strip():
            if validator is not None and op.body_required():
                raise _Rejected(422, "a JSON body is required")
            return None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _Rejected(400, f"Problems parsing JSON: {exc}") from exc
        if validator is None:
            raise _Rejected(422, "this operation takes no request body")
        problems = errors(validator, body)
        if problems:
            raise _Rejected(422, "; ".join(problems))
        return body

    def _checked_reply(self, op: Operation, method: str, path: str, reply: Reply) -> Reply:
        if not reply.validate:
            return reply
        documented = str(reply.status) in op.documented_statuses()
        if not documented:
            if reply.status < 400:
                self._record("response", method, path, f"{op.operation_id} does not document {reply.status}")
            return reply
        schema = op.response_schema(reply.status)
        if schema is None:
            return reply
        reply.body = complete(schema, reply.body)
        validator = op.response_validator(reply.status)
        problems = errors(validator, reply.body) if validator is not None else []
        if problems and reply.status >= 400 and isinstance(reply.body, dict) and reply.body.get("errors"):
            # validation-error wants objects where validation-error-simple wants strings
            reply.body["errors"] = [{"code": "custom", "message": e} for e in reply.body["errors"]]
            problems = errors(validator, reply.body) if validator is not None else []
        if problems:
            self._record("response", method, path, f"{op.operation_id} {reply.status}: " + "; ".join(problems[:5]))
        return reply

    def _graphql(self, record: Recorded, headers: dict[str, str], raw: bytes) -> Reply:
        caller = authenticate(self, headers, None)
        record.auth = caller.label
        if caller.error is not None:
            return _error_reply(401, caller.error)
        fault = self._take_fault("POST", "/graphql")
        if fault is not None:
            return Reply(fault.status, fault.body, dict(fault.headers), validate=False)
        fate = self._chaos_fate(record, "POST", "/graphql")
        if fate is not None and fate.kind != "502-after":
            return _fate_reply(fate)
        try:
            result = graphql.execute(self, caller.installation_id or 0, _decode(raw))
        except graphql.GraphQLContractError as exc:
            self._record("graphql", "POST", "/graphql", str(exc))
            return Reply(200, {"errors": [{"message": str(exc)}]}, validate=False)
        return _fate_reply(fate) if fate is not None else Reply(200, result, validate=False)

    # -- violations --------------------------------------------------------------------------

    def _record(self, kind: str, method: str, path: str, detail: str) -> None:
        self.violations.append(Violation(kind, method, path, detail))

    def _violation(self, kind: str, method: str, path: str, detail: str, status: int) -> Reply:
        self._record(kind, method, path, detail)
        messages = {404: "Not Found", 400: "Problems parsing JSON", 501: "Not Implemented"}
        message = messages.get(status, "Invalid request")
        return _error_reply(status, message + (f".\n\n{detail}" if status == 422 else ""))

    @contextlib.contextmanager
    def expect_violation(self, match: str = "") -> Iterator[list[Violation]]:
        """Declare that the block causes ≥ 1 violation whose text contains ``match``."""
        with self.lock:
            start = len(self.violations)
        seen: list[Violation] = []
        yield seen
        with self.lock:
            new = self.violations[start:]
        seen.extend(v for v in new if match in str(v))
        if not seen:
            raise AssertionError(f"expected a contract violation matching {match!r}; got {[str(v) for v in new]}")
        for v in seen:
            v.expected = True

    def unexpected_violations(self) -> list[Violation]:
        with self.lock:
            return [v for v in self.violations if not v.expected]

    # -- faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        pattern: str,
        status: int = 502,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` valid requests ``method pattern`` get ``status`` instead."""
        if body is None and status >= 500:
            body = {"message": "Server Error"}
        with self.lock:
            self.faults.append(Fault(method.upper(), pattern, status, times, dict(headers or {}), body))

    def secondary_rate_limit(self, method: str, pattern: str, *, retry_after: int | None = 1, times: int = 1) -> None:
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }
        self.fail_next(method, pattern, 403, times=times, headers=headers, body=body)

    def primary_rate_limit(
        self, method: str, pattern: str, *, reset_in: float = 1, status: int = 429, times: int = 1
    ) -> None:
        reset = int(self.clock() + reset_in + 0.999)
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": str(reset)}
        body = {"message": "API rate limit exceeded for installation.", "documentation_url": DOCS}
        self.fail_next(method, pattern, status, times=times, headers=headers, body=body)

    def _chaos_fate(self, record: Recorded, method: str, path: str) -> faults.Fate | None:
        if self.chaos is None:
            return None
        fate = self.chaos.decide(method, path, self.clock())
        record.injected = fate.kind if fate is not None else None
        return fate

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fnmatch.fnmatchcase(path, fault.pattern):
                fault.remaining -= 1
                return fault
        return None

    # -- lookups shared by handlers ------------------------------------------------------------

    def visible_repo(self, full_name: str, installation_id: int | None) -> Repo | None:
        repo = self.world.repos.get(full_name)
        if repo is None or installation_id is None:
            return None
        installation = self.world.installations.get(installation_id)
        return repo if installation is not None and installation.account == repo.owner else None

    def calls(self, method: str | None = None, pattern: str = "*") -> list[Recorded]:
        """Recorded requests, optionally filtered by method and fnmatch path pattern."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and fnmatch.fnmatchcase(r.path, pattern)
            ]


class _Rejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _schema_errors(schema: dict[str, Any], value: Any) -> str:
    from jsonschema import Draft202012Validator

    return "; ".join(e.message for e in Draft202012Validator(schema).iter_errors(value))


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def _fate_reply(fate: faults.Fate) -> Reply:
    if fate.kind == "403-secondary":
        return Reply(403, faults.secondary_body(), {"retry-after": str(fate.retry_after)}, validate=False)
    return Reply(502, faults.error_body(), validate=False)


def _error_reply(
    status: int, message: str, errors: list[str] | None = None, headers: dict[str, str] | None = None
) -> Reply:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return Reply(status, body, dict(headers or {}))
