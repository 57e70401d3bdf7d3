"""Hypothesis strategies for the fuzz targets: grammar-aware Rust, mutations of real crate
files from the Debian corpus (``/usr/share/cargo/registry``, installed by
``scripts/install-test-deps.sh``), manifests, diffs, commands and webhook deliveries.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests import payloads

CORPUS = Path("/usr/share/cargo/registry")
MAX_CORPUS_FILE = 64 * 1024

# --- Rust, grammar-aware ----------------------------------------------------------------------

IDENT = st.sampled_from(["a", "b", "buf", "self", "x", "S", "T", "new", "take", "unsafe_fn", "r#type", "é"])
COMMENT = st.sampled_from(
    [
        "// SAFETY: fine",
        "/* SAFETY: */",
        "// safety:",
        "/// # Safety",
        "//! Doc.",
        "//",
        "/* unterminated",
        "// ruvopt: allow(RO201) ok",
        "#[allow(clippy::undocumented_unsafe_blocks)]",
    ]
)
EXPR_LEAF = st.one_of(
    IDENT,
    st.sampled_from(
        [
            "1",
            "0u8",
            '"s"',
            "b'x'",
            "vec![]",
            "Vec::new()",
            "String::new()",
            "std::mem::take(&mut self.buf)",
            "Instant::now()",
            "x.clone()",
            "it.collect::<Vec<_>>()",
            'format!("{}", x)',
            "Box::new(1)",
        ]
    ),
)


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda c: f"unsafe {{ {c} }}", children),
        st.builds(lambda a, b: f"{a} + {b}", children, children),
        st.builds(lambda a, b: f"{a}({b})", IDENT, children),
        st.builds(lambda a, b: f"{a}.{b}()", children, IDENT),
        st.builds(lambda a, b, c: f"if {a} {{ {b} }} else {{ {c} }}", children, children, children),
        st.builds(lambda a, b: f"match {a} {{ _ => {b}, }}", children, children),
        st.builds(lambda a: f"|x| {a}", children),
        st.builds(lambda a: f"{{ {a} }}", children),
    )


EXPR = st.recursive(EXPR_LEAF, _expr, max_leaves=12)
STMT = st.one_of(
    st.builds(lambda n, e: f"let {n} = {e};", IDENT, EXPR),
    st.builds(lambda e: f"{e};", EXPR),
    st.builds(lambda c, e: f"{c}\n{e};", COMMENT, EXPR),
)
FN = st.builds(
    lambda vis, unsafe_, name, body, doc: f"{doc}\n{vis}{unsafe_}fn {name}(&mut self) {{\n" + "\n".join(body) + "\n}",
    st.sampled_from(["", "pub ", "pub(crate) "]),
    st.sampled_from(["", "unsafe ", "const "]),
    IDENT,
    st.lists(STMT, max_size=6),
    st.sampled_from(["", "/// Docs.", "/// # Safety\n/// Caller checks.", "#[inline]"]),
)
ITEM = st.one_of(
    FN,
    st.builds(lambda n, body: f"impl {n} {{\n" + "\n".join(body) + "\n}", IDENT, st.lists(FN, max_size=3)),
    st.builds(lambda n: f"unsafe impl Send for {n} {{}}", IDENT),
    st.builds(lambda n: f"pub use crate::{n}::*;", IDENT),
    st.builds(lambda n, f: f"pub struct {n} {{ {f}: Vec<u8> }}", IDENT, IDENT),
    st.builds(lambda ls: "#![allow(" + ", ".join(ls) + ")]", st.lists(IDENT, min_size=1, max_size=14)),
    st.builds(lambda n, body: f"macro_rules! {n} {{ () => {{ {body} }}; }}", IDENT, EXPR),
    st.builds(lambda f, body: f'#[cfg(feature = "{f}")]\n{body}', IDENT, FN),
    st.builds(lambda n, items: f"mod {n} {{\n" + "\n".join(items) + "\n}", IDENT, st.lists(FN, max_size=2)),
    COMMENT,
)
RUST = st.lists(ITEM, max_size=12).map(lambda items: "\n\n".join(items) + "\n")


# --- Rust, mutated real files -------------------------------------------------------------------


@cache
def corpus_files() -> list[Path]:
    """``.rs`` files of the Debian crate sources, small enough to fuzz quickly."""
    files = sorted(p for p in CORPUS.glob("*/src/**/*.rs") if p.stat().st_size <= MAX_CORPUS_FILE)
    if not files:
        raise RuntimeError(f"no Rust sources under {CORPUS}: run scripts/install-test-deps.sh")
    return files


INSERTIONS = [
    b"unsafe {",
    b"}",
    b"{",
    b"/*",
    b"*/",
    b'"',
    b'r#"',
    b"'",
    b"\xff\xfe",
    b"\r\n",
    b"#![allow(x)]",
    b"// SAFETY:",
    b"\x00",
]


@st.composite
def mutated_corpus_file(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(corpus_files())).read_bytes())
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        span = draw(st.integers(1, 64))
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "flip"]))
        if kind == "delete":
            del data[at : at + span]
        elif kind == "duplicate":
            data[at:at] = data[at : at + span]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(INSERTIONS))
        else:
            data[at] ^= draw(st.integers(1, 255))
    return bytes(data)


# --- manifests, configs, diffs, commands -------------------------------------------------------------

TOML_KEY = st.text("abcdefghij-_", min_size=1, max_size=8)
TOML_VALUE = st.recursive(
    st.one_of(st.integers(), st.booleans(), st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False)),
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(TOML_KEY, c, max_size=4)),
    max_leaves=10,
)
CONFIG_KEYS = st.sampled_from(
    [
        "select",
        "ignore",
        "fail-on",
        "crates",
        "rules",
        "bench",
        "max-file-bytes",
        "filter-mode",
        "profiles",
        "runs",
        "max-regression",
        "RO101",
        "max-lines",
    ]
)


def _toml(value: Any) -> str:
    return (
        json.dumps(value)
        if not isinstance(value, dict)
        else "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    )


ASSIGNMENT = st.builds(lambda k, v: f"{k} = {_toml(v)}", CONFIG_KEYS, TOML_VALUE)
TABLE_NAME = st.sampled_from(["rules.RO101", "bench", "rules", "bench.budgets"])
CONFIG_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(ASSIGNMENT, max_size=8).map("\n".join),
    st.builds(lambda k, body: f"[{k}]\n" + "\n".join(body), TABLE_NAME, st.lists(ASSIGNMENT, max_size=4)),
)

HUNK_LINE = st.one_of(st.builds(lambda c, t: c + t, st.sampled_from(["+", "-", " ", "\\", ""]), st.text(max_size=10)))
DIFF_TEXT = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda old, new, a, b, c, d, lines: f"--- {old}\n+++ {new}\n@@ -{a},{b} +{c},{d} @@\n" + "\n".join(lines),
        st.sampled_from(["a/x.rs", "/dev/null", "a/../../x.rs"]),
        st.sampled_from(["b/x.rs", "/dev/null", "b/../../x.rs"]),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 5),
        st.lists(HUNK_LINE, max_size=8),
    ),
)

COMMAND_WORD = st.one_of(
    st.sampled_from(["bench", "recheck", "help", "profile=release", "bench=x", "=", "profile=", "profile=a=b", "--x"]),
    st.text(max_size=12),
)
COMMAND_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda pre, words, post: f"{pre}/ruvopt {' '.join(words)}{post}",
        st.text(max_size=20),
        st.lists(COMMAND_WORD, max_size=4),
        st.text(max_size=20),
    ),
)


# --- webhook deliveries ----------------------------------------------------------------------------

EVENTS = ["pull_request", "issue_comment", "check_run", "check_suite", "ping", "push", "", "pull_request\x00"]


def _example(event: str) -> dict[str, Any]:
    try:
        return (
            payloads.example(event)
            if event in ("pull_request", "issue_comment", "check_suite")
            else payloads.check_run()
            if event == "check_run"
            else {"zen": "z", "hook_id": 1}
        )
    except payloads.MissingTestMaterial:
        raise
    except Exception:
        return {}


@st.composite
def mutated_payload(draw: st.DrawFn, event: str) -> bytes:
    """A real example payload with fields dropped, retyped or replaced."""
    payload = _example(event)
    for _ in range(draw(st.integers(0, 6))):
        node: Any = payload
        path = []
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            path.append(key)
            if not isinstance(node[key], dict):
                break
            node = node[key]
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["drop", "null", "string", "number", "list", "huge"]))
        if action == "drop":
            del node[key]
        else:
            node[key] = {
                "null": None,
                "string": draw(st.text(max_size=20)),
                "number": draw(st.integers()),
                "list": [],
                "huge": 10**30,
            }[action]
    return json.dumps(payload).encode()


@st.composite
def delivery(draw: st.DrawFn) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(ASGI headers, body): signed or not, real or mutated payloads, odd headers."""
    event = draw(st.sampled_from(EVENTS))
    body = draw(
        st.one_of(
            mutated_payload(event if event in EVENTS[:5] else "ping"),
            st.binary(max_size=512),
            st.just(b""),
            st.just(b"[]"),
            st.just(b"null"),
            st.just(b'{"action": 5}'),
        )
    )
    signature = payloads.sign(body) if draw(st.integers(0, 9)) else draw(st.sampled_from(["", "sha256=00", "md5=x"]))
    guid = draw(st.one_of(st.uuids().map(str), st.sampled_from(["", "../x", "a" * 101, "ok-guid"])))
    headers = [
        (b"x-github-event", event.encode("utf-8", "replace")),
        (b"x-github-delivery", guid.encode()),
        (b"content-type", b"application/json"),
    ]
    if signature:
        headers.append((b"x-hub-signature-256", signature.encode()))
    length = draw(
        st.sampled_from([str(len(body)), "abc", "-1", str(10**12)])
        if draw(st.integers(0, 9)) == 0
        else st.just(str(len(body)))
    )
    headers.append((b"content-length", length.encode()))
    return headers, body
