"""Complete a partial response object so it satisfies its (converted) response schema.

GitHub's response schemas require dozens of fields the bot never reads (a pull request's
``head.repo`` alone needs ~80 URLs). The fake states only the fields that matter and
lets :func:`complete` fill every other *required* field with a placeholder of the right
type. The result is then validated like any other response, so a placeholder that does
not fit the schema fails the test instead of drifting silently.
"""

from __future__ import annotations

from typing import Any

PLACEHOLDER_URL = "https://github.invalid/placeholder"
PLACEHOLDER_TIME = "2024-01-01T00:00:00Z"
_MISSING = object()


def complete(schema: dict[str, Any], value: Any = _MISSING) -> Any:
    """``value`` with every required field the schema demands filled in (recursively)."""
    if "anyOf" in schema or "oneOf" in schema:
        return _complete_choice(schema, value)
    if "allOf" in schema:
        merged = _merge_all(schema["allOf"])
        return complete({**merged, **{k: v for k, v in schema.items() if k != "allOf"}}, value)
    kind = _kind(schema)
    if kind == "object":
        return _complete_object(schema, {} if value is _MISSING else value)
    if kind == "array":
        items = schema.get("items", {})
        return [] if value is _MISSING else [complete(items, v) for v in value]
    if value is not _MISSING:
        return value
    return _placeholder(schema, kind)


def _complete_choice(schema: dict[str, Any], value: Any) -> Any:
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    nullable = any(b.get("type") == "null" for b in branches)
    if value is None or (value is _MISSING and nullable):
        return None
    others = [b for b in branches if b.get("type") != "null"]
    if isinstance(value, dict):  # pick the object branch, the one whose required keys are present if any
        objects = [b for b in others if _kind(b) == "object"] or others
        fitting = [b for b in objects if set(b.get("required", [])) <= set(value)]
        return complete((fitting or objects)[0], value)
    return complete(others[0], value) if others else value


def _complete_object(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    out = dict(value)
    for name in schema.get("required", []):
        if name not in out:
            out[name] = complete(props.get(name, {}))
    for name, sub in list(out.items()):
        if name in props and (isinstance(sub, (dict, list)) or sub is None):
            out[name] = complete(props[name], sub)
    return out


def _merge_all(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in parts:
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        return "object"
    return kind


def _placeholder(schema: dict[str, Any], kind: str | None) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return PLACEHOLDER_TIME
        if fmt in ("uri", "uri-template", "url"):
            return PLACEHOLDER_URL
        if fmt == "email":
            return "placeholder@github.invalid"
        return "" if not schema.get("minLength") else "x" * int(schema["minLength"])
    if kind in ("integer", "number"):
        return int(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    if kind == "object":
        return {}
    return None
