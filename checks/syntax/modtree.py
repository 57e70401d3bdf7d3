"""Which ``.rs`` files a crate root reaches through ``mod x;`` declarations, and under
which ``#[cfg]`` gates.

Each file reports its own ``mod`` declarations as per-file facts (name, enclosing inline
modules, ``#[path]``, gate clauses); this module joins them into the module tree the way
rustc resolves it: a ``mod x;`` in a ``mod.rs``/crate-root file looks for ``x.rs`` or
``x/mod.rs`` beside it, in any other file ``foo.rs`` under ``foo/``; inline modules add
directories; ``#[path]`` is taken relative to the declaring file's directory.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterable
from typing import Any

MAX_ROUTES_PER_FILE = 8  # a file reachable many ways: keep a few gate chains, not all

Gate = frozenset[frozenset[str]]  # clauses that all hold on one route to a file


def _base_dir(path: str, roots: set[str]) -> str:
    directory, name = posixpath.split(path)
    if path in roots or name == "mod.rs":
        return directory
    return posixpath.join(directory, name[: -len(".rs")] if name.endswith(".rs") else name)


def child_file(path: str, decl: dict[str, Any], roots: set[str], existing: set[str]) -> str | None:
    """The file a ``mod`` declaration in ``path`` loads, if it exists in the crate."""
    inline = [str(n) for n in decl.get("inline", [])]
    explicit = decl.get("path")
    if explicit:
        directory = posixpath.dirname(path) if not inline else posixpath.join(_base_dir(path, roots), *inline)
        candidate = posixpath.normpath(posixpath.join(directory, str(explicit)))
        return candidate if candidate in existing else None
    directory = posixpath.join(_base_dir(path, roots), *inline)
    name = str(decl["name"])
    for candidate in (posixpath.join(directory, f"{name}.rs"), posixpath.join(directory, name, "mod.rs")):
        if candidate in existing:
            return candidate
    return None


def reachable(
    roots: dict[str, Gate], mods: dict[str, list[dict[str, Any]]], existing: Iterable[str]
) -> dict[str, list[Gate]]:
    """Every file reachable from ``roots`` (root → its own gate) → the gates of its routes."""
    files = set(existing)
    root_set = set(roots)
    routes: dict[str, list[Gate]] = {}
    queue = deque(roots.items())
    while queue:
        path, gate = queue.popleft()
        known = routes.setdefault(path, [])
        # A route whose gate includes another's is redundant: the weaker gate decides.
        if any(g <= gate for g in known) or len(known) >= MAX_ROUTES_PER_FILE:
            continue
        known.append(gate)
        for decl in mods.get(path, []):
            child = child_file(path, decl, root_set, files)
            if child is not None:
                clauses = frozenset(frozenset(c) for c in decl.get("clauses", []))
                queue.append((child, gate | clauses))
    return routes
