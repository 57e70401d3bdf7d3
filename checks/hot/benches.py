"""What a bench measures: the calls written inside criterion's ``b.iter(…)`` closures (the
routine of ``iter_batched`` and its kin) and inside libtest ``#[bench]`` functions.

A bench file is recognised by where it is (``benches/``, Cargo's bench target directory)
or what it uses (``criterion_group!``, ``#[bench]``). Each call is recorded as
``[kind, qualifier, name, label, line]``: ``("method", "", "select_top_k")`` for
``router.select_top_k(…)``, ``("fn", "", "dot")`` for ``dot(…)``, ``("path", "Router",
"new")`` for ``Router::new(…)``; ``label`` is the criterion id (``"moe/select_top_k"``,
from ``bench_function`` or ``BenchmarkId::new``) or the bench function's name. The crates
the file names (``use ruv_router::…``, ``ruv_router::f(…)``) say where to look the callees
up (:func:`hot_targets`).
"""

from __future__ import annotations

import re
from typing import Any

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.manifest.workspace import Crate
from ruvopt.checks.syntax import rust

# Bencher methods -> the argument that is measured (the others are setup).
ITER_ROUTINES = {
    "iter": 0,
    "iter_with_large_drop": 0,
    "iter_custom": 0,
    "iter_batched": 1,
    "iter_batched_ref": 1,
    "iter_with_setup": 1,
}
BENCH_CALLS = frozenset({"bench_function", "bench_with_input"})
NODE_KINDS: tuple[str, ...] = ("call_expression", "function_item", "use_declaration", "scoped_identifier")
FN_NAME = re.compile(rb"\bfn\s+(?:r#)?([A-Za-z_][A-Za-z0-9_]*)")


def defined_names(data: bytes) -> list[str]:
    """Every name written after ``fn`` (a superset of the file's functions: the index a
    bench call is looked up in; the tree decides later)."""
    return sorted({m.group(1).decode() for m in FN_NAME.finditer(data)})


def is_bench_file(path: str, data: bytes) -> bool:
    if b"iter" not in data:
        return False
    return "/benches/" in f"/{path}" or b"criterion_group!" in data or b"#[bench]" in data


def bench_calls(ctx: FileContext) -> dict[str, Any]:
    calls = ctx.nodes("call_expression")
    measured: list[tuple[int, int, str]] = []  # byte range, label
    found: list[list[Any]] = []
    for call in calls:
        routine = _routine(call)
        if routine is None:
            continue
        label = _label(ctx, call, calls)
        if routine.type == "closure_expression":
            body = routine.child_by_field_name("body")
            if body is not None:
                measured.append((body.start_byte, body.end_byte, label))
        else:  # `b.iter(step)`: the function itself is the routine
            target = _callee(routine)
            if target is not None:
                found.append([*target, label, routine.start_point[0] + 1])
    for function in ctx.nodes("function_item"):
        body = function.child_by_field_name("body")
        if body is not None and any(rust.attribute_name(a) == "bench" for a in rust.preceding_attributes(function)):
            measured.append((body.start_byte, body.end_byte, rust.text_of(function.child_by_field_name("name"))))
    for call in calls:
        inside = next((lab for start, end, lab in measured if start <= call.start_byte and call.end_byte <= end), None)
        target = _callee(call.child_by_field_name("function")) if inside is not None else None
        if target is not None and not (target[0] == "method" and target[2] in ITER_ROUTINES):
            found.append([*target, inside, call.start_point[0] + 1])
    unique = {tuple(f[:4]): f for f in reversed(found)}  # the first line of each
    return {"calls": sorted(unique.values(), key=lambda f: (f[4], f[2])), "crates": _named_crates(ctx)}


def _routine(call: tree_sitter.Node) -> tree_sitter.Node | None:
    """The measured argument of ``b.iter(…)``-style calls, else None."""
    index = ITER_ROUTINES.get(rust.method_name(call) or "")
    arguments = rust.call_arguments(call) if index is not None else []
    return arguments[index] if index is not None and index < len(arguments) else None


def _callee(function: tree_sitter.Node | None) -> tuple[str, str, str] | None:
    if function is None:
        return None
    if function.type == "generic_function":
        return _callee(function.child_by_field_name("function"))
    if function.type == "identifier":
        return ("fn", "", rust.text_of(function))
    if function.type == "field_expression":
        return ("method", "", rust.text_of(function.child_by_field_name("field")))
    if function.type == "scoped_identifier":
        path = rust.path_segments(function)
        if path and len(path) >= 2:
            return ("path", path[-2], path[-1])
    return None


def _label(ctx: FileContext, call: tree_sitter.Node, calls: list[tree_sitter.Node]) -> str:
    """The criterion id of the innermost ``bench_function``/``bench_with_input`` around
    ``call``, else the name of the function it is in."""
    around = [
        c
        for c in calls
        if c.start_byte <= call.start_byte and call.end_byte <= c.end_byte and rust.method_name(c) in BENCH_CALLS
    ]
    if around:
        first = next(iter(rust.call_arguments(around[-1])), None)
        literal = _first_string(first)
        if literal is not None:
            return literal
    functions = [f for f in ctx.nodes("function_item") if f.start_byte <= call.start_byte < f.end_byte]
    return rust.text_of(functions[-1].child_by_field_name("name")) if functions else ""


def _first_string(node: tree_sitter.Node | None) -> str | None:
    """``"id"`` or the first string of ``BenchmarkId::new("id", n)``."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop(0)
        if current.type == "string_literal":
            return rust.text_of(current)[1:-1]
        stack.extend(current.named_children)
    return None


def _named_crates(ctx: FileContext) -> list[str]:
    names = {path[0] for d in ctx.nodes("use_declaration") for path, _ in rust.use_paths(d) if path}
    for node in ctx.nodes("scoped_identifier"):
        path = rust.path_segments(node)
        if path:
            names.add(path[0])
    return sorted(names - {"crate", "self", "super", "std", "core", "alloc"})


# -- resolution: which functions of the workspace the benches call -----------------------

Target = tuple[str, str, str, str]  # kind, qualifier, name, why it is hot


def hot_targets(crates: list[Crate], indexes: dict[str, dict[str, Any]]) -> dict[str, list[Target]]:
    """Path -> the bench calls that may name a function written in that file.

    ``indexes[crate.dir]`` holds the crate's ``fns`` (name -> files that define it, bench
    files excluded) and ``bench`` (bench file -> :func:`bench_calls`). A call is looked up
    in the bench's own crate and in the workspace crates the bench file names.
    """
    by_ident = {c.name.replace("-", "_"): c.dir for c in crates}
    targets: dict[str, set[Target]] = {}
    for crate in crates:
        for bench_path, facts in sorted(indexes[crate.dir]["bench"].items()):
            scope = sorted({crate.dir} | {by_ident[n] for n in facts["crates"] if n in by_ident})
            for kind, qualifier, name, label, _line in facts["calls"]:
                why = f"benchmarked by `{label}` in `{bench_path}`" if label else f"benchmarked in `{bench_path}`"
                for directory in scope:
                    for path in indexes[directory]["fns"].get(name, ()):
                        targets.setdefault(path, set()).add((kind, qualifier, name, why))
    return {path: sorted(found) for path, found in sorted(targets.items())}


def index_of(files: dict[str, tuple[list[str], dict[str, Any] | None]]) -> dict[str, Any]:
    """A crate's index from its files' (defined names, bench facts)."""
    fns: dict[str, list[str]] = {}
    bench: dict[str, Any] = {}
    for path, (names, facts) in files.items():
        if facts is not None:
            bench[path] = facts
            continue  # a bench's own helpers are not the code it measures
        for name in names:
            fns.setdefault(name, []).append(path)
    return {"fns": fns, "bench": bench}


def bench_reason(function: tree_sitter.Node, targets: tuple[Target, ...]) -> str | None:
    """Why a bench makes ``function`` hot (the first matching call), or None."""
    name = rust.text_of(function.child_by_field_name("name"))
    owner = _owner(function)
    for kind, qualifier, target, why in targets:
        if target != name:
            continue
        if kind == "method" and owner is not None:
            return why
        if kind == "fn" and owner is None:
            return why
        if kind == "path":
            type_like = qualifier[:1].isupper()  # `Router::new` names a type; `kernels::dot` a module
            if (type_like and owner is not None and qualifier in (owner, "Self")) or (not type_like and owner is None):
                return why
    return None


def _owner(function: tree_sitter.Node) -> str | None:
    """The type of the impl (or the trait) a method belongs to; None for a free function."""
    parent = function.parent
    holder = parent.parent if parent is not None and parent.type == "declaration_list" else None
    if holder is not None and holder.type == "impl_item":
        return rust.impl_type_name(holder)
    if holder is not None and holder.type == "trait_item":
        return rust.text_of(holder.child_by_field_name("name"))
    return None
