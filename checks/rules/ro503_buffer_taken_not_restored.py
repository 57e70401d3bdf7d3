from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from ruvopt.checks.base import FileRule
from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import paths as hotpath
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import rust

# Method names that say the contents are handed out for good (`take_events`, `finish`).
HANDOFF_PREFIXES = ("take", "into", "finish", "build", "drain")
# Declared field types that hold no heap buffer: taking them costs nothing later.
NO_BUFFER_TYPES = frozenset({"Option", "Duration", "Instant", "SystemTime", "PhantomData", "Cell", "Wrapping"})
NO_BUFFER_KINDS = frozenset(
    {"primitive_type", "reference_type", "pointer_type", "array_type", "unit_type", "function_type"}
)
FRESH_CONSTRUCTORS = frozenset({"new", "default", "with_capacity"})


@dataclass(frozen=True, slots=True)
class Take:
    call: tree_sitter.Node
    place: str  # `result_buffer` for `&mut self.result_buffer`
    how: str  # `mem::take` / `mem::replace`


class BufferTakenNotRestored(FileRule):
    """## What it does
    Flags `std::mem::take(&mut self.f)` (also `mem::take`, `core::mem::take`, a
    `take` imported from `std::mem`) and `std::mem::replace(&mut self.f, <new empty
    value>)` in a `&mut self` method that never puts a buffer back into `self.f`. Any
    of these in the same method counts as putting it back: `self.f = …` (typically
    `self.f = buf;` with the variable that received the taken buffer),
    `self.f.clone_from(…)`, `std::mem::swap(&mut self.f, …)` and
    `std::mem::replace(&mut self.f, buf)`.

    Not flagged: `self.f.take()` (that is `Option::take`); methods taking `self` by
    value (`fn into_inner(self)`: the struct is consumed, there is nothing to reuse);
    `Drop::drop`; methods whose name says they hand the contents out (`take*`, `into*`,
    `finish*`, `build*`, `drain*`); one element of a collection
    (`mem::take(&mut self.slots[i])` removes it); fields whose type, declared in the
    same file, holds no buffer (integers, `bool`, references, arrays, `Option`,
    `Duration`…);
    `mem::replace` with a value that is not a fresh empty one (`State::Idle`: a state
    machine step). A buffer given back by *another* method (`fn recycle(&mut self, buf)`)
    is not seen: silence the finding with `// ruvopt: allow(RO503) recycled by …`.

    ## Why is this bad?
    `mem::take` leaves `Vec::new()` behind: the next call starts from an empty,
    capacity-less buffer and allocates again, so the "reused" buffer saves nothing.
    This is the checklist seed's P0 change: `select_top_k_buffered()` filled
    `result_buffer` and returned `std::mem::take(&mut self.result_buffer)`, which
    allocates a fresh buffer on every routing call, exactly like the `collect()` it
    replaced.

    ## Example
    ```rust
    fn select_top_k_buffered(&mut self, k: usize) -> Vec<ExpertId> {
        self.result_buffer.clear();
        self.result_buffer.extend(self.index_buffer.iter().take(k).map(|(id, _)| *id));
        std::mem::take(&mut self.result_buffer)
    }
    ```

    Use instead:
    ```rust
    fn select_top_k_buffered(&mut self, k: usize) -> &[ExpertId] {
        self.result_buffer.clear();
        self.result_buffer.extend(self.index_buffer.iter().take(k).map(|(id, _)| *id));
        &self.result_buffer
    }
    ```
    or, when the buffer must leave for a while, put it back afterwards:
    ```rust
    let mut buf = std::mem::take(&mut self.result_buffer);
    self.fill(&mut buf);
    self.result_buffer = buf;
    ```

    ## Options
    None. The rule runs in every `&mut self` method, not only in configured hot
    functions: a buffer that is reallocated on each call defeats its own purpose
    wherever it is.
    """

    code = "RO503"
    name = "buffer-taken-not-restored"
    severity = Severity.WARNING
    checklist_item = "seed P0"
    node_kinds = ("call_expression", "assignment_expression", "use_declaration", "struct_item", *hotpath.NODE_KINDS)

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        # Cheap text test first: most files never call `take`/`replace`.
        if b"take" not in ctx.data and b"replace" not in ctx.data:
            return
        names = mem_imports(ctx)
        fields = struct_fields(ctx)
        for function in ctx.nodes("function_item"):
            # `&self` cannot take a field; `self` by value is consumed: nothing to reuse.
            if rust.self_receiver_kind(function) != "&mut":
                continue
            calls = hotpath.body_nodes(ctx, function, ("call_expression",))
            taken = list(takes(calls, names))
            # Most methods take nothing (tested first: the checks below climb the tree).
            if not taken:
                continue
            # Dropping or handing out (`take_all`, `finish`): losing the buffer is the point.
            if is_drop(function) or rust.text_of(function.child_by_field_name("name")).startswith(HANDOFF_PREFIXES):
                continue
            owner = owning_type(function)
            for take in taken:
                # A field declared right here as a number, `Option`, reference…: no buffer.
                if not holds_buffer(fields.get(owner or "", {}).get(take.place)):
                    continue
                # Put back somewhere in the method (after use, in a closure, on a branch).
                if restored(ctx, function, calls, take, names):
                    continue
                yield ctx.report(
                    self,
                    take.call,
                    f"Put `self.{take.place}` back after `{take.how}`: as written the reused buffer is "
                    "reallocated on every call",
                    fix_title=f"Return `&self.{take.place}` instead, or assign the buffer back "
                    f"(`self.{take.place} = buf;`) before returning",
                )


def mem_imports(ctx: FileContext) -> dict[str, tuple[str, ...]]:
    """Names this file binds to paths (``take`` → ``std::mem::take``, ``*`` for globs)."""
    bound: dict[str, tuple[str, ...]] = {}
    for declaration in ctx.nodes("use_declaration"):
        for path, name in rust.use_paths(declaration):
            if name == "*":
                for member in ("take", "replace", "swap"):
                    bound.setdefault(member, (*path, member))
            else:
                bound[name] = path
    return bound


def mem_function(call: tree_sitter.Node, names: dict[str, tuple[str, ...]]) -> str | None:
    """``"take"``/``"replace"``/``"swap"`` when the call is that function of ``std::mem``."""
    path = rust.call_path(call)
    if path is None:
        return None
    if path[0] in names:  # resolve `use std::mem::take as steal;`, `use std::mem as m;`
        path = (*names[path[0]], *path[1:])
    if len(path) >= 2 and path[-2] == "mem" and path[-1] in ("take", "replace", "swap"):
        return path[-1]
    return None


def takes(calls: list[tree_sitter.Node], names: dict[str, tuple[str, ...]]) -> Iterator[Take]:
    for call in calls:
        kind = mem_function(call, names)
        if kind not in ("take", "replace"):
            continue
        arguments = rust.call_arguments(call)
        place = rust.mut_ref_self_place(arguments[0]) if arguments else None
        # `mem::take(&mut local)` or of something not under `self`: not a struct's buffer.
        if place is None:
            continue
        # `mem::take(&mut self.slots[i])`: removing an element, not handing off a buffer.
        if place.endswith("]"):
            continue
        # `mem::replace(&mut self.state, State::Idle)`: a state change, not a buffer swap.
        if kind == "replace" and not (len(arguments) > 1 and is_fresh(arguments[1])):
            continue
        yield Take(call, place, f"mem::{kind}")


def is_fresh(value: tree_sitter.Node) -> bool:
    """A new empty container: `Vec::new()`, `Vec::with_capacity(n)`, `Default::default()`, `vec![]`."""
    if value.type == "macro_invocation":
        return rust.macro_path(value) == ("vec",)
    if value.type != "call_expression":
        return False
    path = rust.call_path(value)
    if path is None or path[-1] not in FRESH_CONSTRUCTORS:
        return False
    # `Null::new(weight)` wraps a value; an empty container's `new()`/`default()` takes none.
    return path[-1] == "with_capacity" or not rust.call_arguments(value)


def restored(
    ctx: FileContext,
    function: tree_sitter.Node,
    calls: list[tree_sitter.Node],
    take: Take,
    names: dict[str, tuple[str, ...]],
) -> bool:
    def covers(place: str | None) -> bool:
        # `self.a = …` also restores `self.a.b` and `self.a[i]`.
        return place is not None and (place == take.place or take.place.startswith((place + ".", place + "[")))

    for assignment in hotpath.body_nodes(ctx, function, ("assignment_expression",)):
        if covers(rust.self_place(assignment.child_by_field_name("left"))):
            return True
    for call in calls:
        if call == take.call:
            continue
        if rust.method_name(call) == "clone_from" and covers(rust.self_place(rust.method_receiver(call))):
            return True
        kind = mem_function(call, names)
        arguments = rust.call_arguments(call)
        if kind == "swap" and any(covers(rust.mut_ref_self_place(a)) for a in arguments):
            return True
        if (
            kind == "replace"
            and arguments
            and covers(rust.mut_ref_self_place(arguments[0]))
            and not (len(arguments) > 1 and is_fresh(arguments[1]))
        ):
            return True
    return False


def owning_type(function: tree_sitter.Node) -> str | None:
    parent = function.parent
    impl = parent.parent if parent is not None and parent.type == "declaration_list" else None
    return rust.impl_type_name(impl) if impl is not None and impl.type == "impl_item" else None


def is_drop(function: tree_sitter.Node) -> bool:
    parent = function.parent
    impl = parent.parent if parent is not None else None
    if impl is None or impl.type != "impl_item":
        return False
    return rust.ends_with(rust.path_segments(impl.child_by_field_name("trait")), ("Drop",))


def struct_fields(ctx: FileContext) -> dict[str, dict[str, tree_sitter.Node]]:
    """Struct name → field name → declared type node, for structs declared in this file."""
    found: dict[str, dict[str, tree_sitter.Node]] = {}
    for struct in ctx.nodes("struct_item"):
        body = struct.child_by_field_name("body")
        if body is None or body.type != "field_declaration_list":
            continue
        fields = found.setdefault(rust.text_of(struct.child_by_field_name("name")), {})
        for declaration in body.named_children:
            kind = declaration.child_by_field_name("type")
            if declaration.type == "field_declaration" and kind is not None:
                fields[rust.text_of(declaration.child_by_field_name("name"))] = kind
    return found


def holds_buffer(kind: tree_sitter.Node | None) -> bool:
    """Unknown types (declared elsewhere) count as buffers: the call says they are one."""
    if kind is None:
        return True
    if kind.type in NO_BUFFER_KINDS:
        return False
    path = rust.path_segments(kind)
    return not (path and path[-1] in NO_BUFFER_TYPES)
