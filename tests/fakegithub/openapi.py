"""GitHub's own OpenAPI description (npm ``@octokit/openapi``), indexed for the FakeGitHub.

The non-dereferenced ``api.github.com.json`` (13 MB) is parsed once per process with
orjson (about 0.1 s). Nothing else is done up front: an operation's parameters and
schemas are resolved the first time a request reaches it, converted from OpenAPI 3.0 to
JSON Schema 2020-12 (``nullable: true`` becomes ``anyOf [null, …]``) and compiled into a
validator that is cached for the rest of the session.

Request bodies are checked *more* strictly than GitHub does: an object schema that
lists its ``properties`` rejects any other key. GitHub ignores unknown keys, which is
exactly how a misspelt ``commit_sha`` would slip through unnoticed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / ".cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_FORMATS = FormatChecker(["date-time"])  # the one format GitHub rejects requests over
_COMPOSITION = ("allOf", "oneOf", "anyOf", "not")


class SpecMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    spec: Spec
    method: str
    template: str
    raw: dict[str, Any]
    path_params: dict[str, Param] = field(default_factory=dict)
    query_params: dict[str, Param] = field(default_factory=dict)
    _validators: dict[str, Draft202012Validator | None] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return str(self.raw["operationId"])

    def request_validator(self) -> Draft202012Validator | None:
        """None when the operation takes no JSON body."""
        if "request" not in self._validators:
            schema = _json_schema(self.raw.get("requestBody"), self.spec)
            self._validators["request"] = (
                Draft202012Validator(_strict(self.spec.convert(schema)), format_checker=_FORMATS)
                if schema is not None
                else None
            )
        return self._validators["request"]

    def body_required(self) -> bool:
        body = self.spec.resolve(self.raw.get("requestBody") or {})
        return bool(body.get("required"))

    def documented_statuses(self) -> set[str]:
        return set(self.raw.get("responses", {}))

    def response_validator(self, status: int) -> Draft202012Validator | None:
        """The validator of the documented response for ``status`` (None: no JSON body)."""
        key = str(status)
        if key not in self._validators:
            response = self.raw.get("responses", {}).get(key)
            schema = _json_schema(response, self.spec) if response is not None else None
            self._validators[key] = (
                Draft202012Validator(self.spec.convert(schema), format_checker=_FORMATS) if schema is not None else None
            )
        return self._validators[key]

    def response_schema(self, status: int) -> dict[str, Any] | None:
        response = self.raw.get("responses", {}).get(str(status))
        schema = _json_schema(response, self.spec) if response is not None else None
        return self.spec.convert(schema) if schema is not None else None


def _json_schema(container: Any, spec: Spec) -> dict[str, Any] | None:
    """The ``application/json`` schema of a requestBody or response object."""
    if container is None:
        return None
    resolved = spec.resolve(container)
    content = resolved.get("content", {})
    media = content.get("application/json")
    if media is None:
        # e.g. application/vnd.github.v3.star+json; GitHub answers plain JSON for them too
        media = next((m for t, m in content.items() if t.endswith("json")), None)
    return media.get("schema") if media else None


def _strict(schema: Any) -> Any:
    """A copy whose plain object schemas reject keys they do not list (see module doc)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if any(k in schema for k in ("allOf", "oneOf", "not")):
        return schema  # merging branches would need all their keys; leave compositions as GitHub has them
    out = {k: _strict(v) if k in ("properties", "items", "anyOf") else v for k, v in schema.items()}
    if "properties" in schema:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        out.setdefault("additionalProperties", False)
    return out


class Spec:
    """The parsed description plus a path index; schemas converted lazily, memoised."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._converted: dict[str, dict[str, Any]] = {}
        self._operations: dict[tuple[str, str], Operation] = {}
        # Index templates by segment count; literal segments beat parameters on a tie.
        self._index: dict[int, list[tuple[tuple[str | None, ...], str]]] = {}
        for template in doc["paths"]:
            segments = tuple(None if s.startswith("{") else s for s in template.strip("/").split("/"))
            self._index.setdefault(len(segments), []).append((segments, template))
        for candidates in self._index.values():
            candidates.sort(key=lambda c: [s is None for s in c[0]])

    # -- paths ---------------------------------------------------------------------------

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """(template, path parameters) of the most specific template matching ``path``."""
        parts = path.strip("/").split("/")
        for segments, template in self._index.get(len(parts), []):
            if all(s is None or s == p for s, p in zip(segments, parts, strict=True)):
                names = re.findall(r"\{([^}]+)\}", template)
                values = [p for s, p in zip(segments, parts, strict=True) if s is None]
                return template, dict(zip(names, values, strict=True))
        return None

    def operation(self, template: str, method: str) -> Operation | None:
        key = (template, method.lower())
        if key not in self._operations:
            item = self.doc["paths"][template]
            raw = item.get(method.lower())
            if raw is None:
                return None
            op = Operation(self, method.lower(), template, raw)
            for p in [*item.get("parameters", []), *raw.get("parameters", [])]:
                p = self.resolve(p)
                param = Param(p["name"], p["in"], bool(p.get("required")), self.convert(p.get("schema", {})))
                if param.location == "path":
                    op.path_params[param.name] = param
                elif param.location == "query":
                    op.query_params[param.name] = param
            self._operations[key] = op
        return self._operations[key]

    def methods(self, template: str) -> list[str]:
        return [m for m in METHODS if m in self.doc["paths"][template]]

    # -- schemas -------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self._lookup(node["$ref"])
        return node

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        node: Any = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def convert(self, schema: Any) -> Any:
        """OpenAPI 3.0 schema → self-contained JSON Schema 2020-12 (shared, memoised)."""
        if isinstance(schema, list):
            return [self.convert(s) for s in schema]
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self._converted:
                placeholder: dict[str, Any] = {}
                self._converted[ref] = placeholder  # a recursive schema meets itself here
                placeholder.update(self.convert(self._lookup(ref)))
            return self._converted[ref]
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("nullable", "example", "examples", "discriminator", "x-github-breaking-changes"):
                continue
            if key == "properties":
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not") or key in _COMPOSITION:
                out[key] = self.convert(value)
            else:
                out[key] = value
        if schema.get("nullable"):
            return {"anyOf": [{"type": "null"}, out]}
        return out


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """The description, parsed once per process (see module doc for the cost)."""
    if not path.is_file():
        raise SpecMissing(f"{path} is missing: run scripts/install-test-deps.sh")
    return Spec(orjson.loads(path.read_bytes()))


def errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    """Readable messages (location: problem) for every validation error, deepest first."""
    found: list[ValidationError] = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    return [f"{_where(e)}: {e.message}" for e in _leaves(found)]


def _leaves(found: list[ValidationError]) -> Iterator[ValidationError]:
    for error in found:
        branches = [e for e in error.context or [] if e.validator_value != "null"]
        if branches:  # anyOf/oneOf: the most relevant branch error says what was wrong
            yield from _leaves([best_match(branches)])
        else:
            yield error


def _where(error: ValidationError) -> str:
    return "body" + "".join(f"[{p!r}]" for p in error.absolute_path)


def coerce_query(param: Param, values: list[str]) -> Any:
    """A query string value typed the way its schema says (ValueError when it cannot be)."""
    schema = param.schema
    types = _types(schema)
    if "array" in types:
        item = schema.get("items", {})
        return [coerce_query(Param(param.name, "query", False, item), [v]) for v in values]
    raw = values[-1]
    if "integer" in types:
        if not re.fullmatch(r"-?\d+", raw):
            raise ValueError(f"{param.name}={raw!r} is not an integer")
        return int(raw)
    if "number" in types:
        return float(raw)
    if "boolean" in types:
        if raw not in ("true", "false"):
            raise ValueError(f"{param.name}={raw!r} is not true/false")
        return raw == "true"
    return raw


def _types(schema: Mapping[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return set().union(*(_types(s) for s in schema["anyOf"]))
    t = schema.get("type")
    return {t} if isinstance(t, str) else set(t or [])
