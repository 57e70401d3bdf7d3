from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from ruvopt.checks.base import WorkspaceRule
from ruvopt.checks.context import WorkspaceContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.manifest.workspace import Manifest, parse_manifest
from ruvopt.checks.model import Edit, Finding, Severity

BUILT_IN = ("dev", "release", "test", "bench")
BUILT_IN_PARENT = {"bench": "release", "test": "dev"}
RELEASE_DEFAULTS: dict[str, Any] = {"lto": False, "codegen-units": 16}  # Cargo's release profile
FAT_LTO = (True, "fat", "true")
FAST_NAME = "release-fast"


class MissingFastReleaseProfile(WorkspaceRule):
    """## What it does
    Flags a workspace whose `release` profile is slow to build — fat LTO (`lto = true`
    or `"fat"`) or `codegen-units = 1` — when no custom profile inherits `release`
    (directly or through other profiles, `bench` counts as `release`) and builds fast:
    LTO thin or off (`"thin"`, `false`, `"off"`, or unset, which is Cargo's thin-local)
    and `codegen-units` above 1 (unset is Cargo's 16), each setting resolved through the
    `inherits` chain.

    Only the root manifest's profiles count, as for Cargo (a member's `[profile]` is
    ignored with a warning); `[profile]` tables in the root's `.cargo/config.toml` count
    too and override the manifest's (a `[profile.release]` written only there is
    reported there). A `release` profile that is already fast (no fat LTO, several
    codegen units) needs no second profile and is not flagged.
    `opt-level` is not judged: it trades run time, not just build time.

    The suggestion inserts the checklist's table above `[profile.release]`, with only
    the settings that differ: `lto = "thin"` when release uses fat LTO,
    `codegen-units = 16` when it uses one unit.

    ## Why is this bad?
    Fat LTO with one codegen unit makes the final build single-threaded and several times
    slower; the checklist's item 3 measured 180 s for `release` and 40 s for
    `release-fast` at 97 % of the run-time speed. Without such a profile, everyone who
    needs an optimised build for profiling or testing pays the full price every time.

    ## Example
    ```toml
    [profile.release]
    lto = "fat"
    codegen-units = 1
    ```

    Use instead:
    ```toml
    [profile.release-fast]
    inherits = "release"
    lto = "thin"
    codegen-units = 16

    [profile.release]
    lto = "fat"
    codegen-units = 1
    ```
    """

    code = "RO401"
    name = "missing-fast-release-profile"
    severity = Severity.WARNING
    checklist_item = "3"

    def run(self, ctx: WorkspaceContext) -> Iterator[Finding]:
        for manifest in _profile_manifests(ctx):
            finding = self._check(ctx, manifest)
            if finding is not None:
                yield finding

    def _check(self, ctx: WorkspaceContext, manifest: Manifest) -> Finding | None:
        config = _cargo_config(ctx, posixpath.join(posixpath.dirname(manifest.path), ".cargo", "config.toml"))
        profiles = _merged_profiles(manifest, config.table("profile") if config is not None else {})
        # `release` builds fast already: a second profile would be the same build.
        if _fast(profiles, "release"):
            return None
        # Some custom profile inherits release and builds fast: the checklist is met.
        custom = [name for name in profiles if name not in BUILT_IN]
        if any(_inherits_release(profiles, name) and _fast(profiles, name) for name in custom):
            return None
        # Point at the `[profile.release]` that is written: the manifest's, else .cargo/config.toml's.
        written = [m for m in (manifest, config) if m is not None and cargo.index(m).find("profile", "release")]
        target = written[0] if written else manifest
        line = cargo.index(target).line("profile", "release")
        units = _setting(profiles, "release", "codegen-units")
        slow = " and ".join(
            reason
            for reason, applies in (
                ("fat LTO", _setting(profiles, "release", "lto") in FAT_LTO),
                ("one codegen unit", isinstance(units, int) and units <= 1),
            )
            if applies
        )
        return ctx.report_manifest(
            self,
            target,
            line,
            f"Add a `[profile.{FAST_NAME}]` that inherits `release` with thin LTO and several codegen units: "
            f"`release` builds with {slow}, and no profile inheriting it builds faster",
            key="profile.release",
            fix_title=f'Add `[profile.{FAST_NAME}]` (`inherits = "release"`) for day-to-day optimised builds',
            suggestion=_suggestion(target, line, profiles),
        )


def _profile_manifests(ctx: WorkspaceContext) -> list[Manifest]:
    """The manifests whose profiles Cargo uses: the root, else each stand-alone crate."""
    root = ctx.root_manifest
    if root is not None:
        # A broken root manifest is RO001's finding.
        return [root] if root.doc is not None else []
    return [c.manifest for c in ctx.crates if c.manifest.doc is not None]


def _cargo_config(ctx: WorkspaceContext, path: str) -> Manifest | None:
    """The root's `.cargo/config.toml`, whose `[profile]` tables Cargo merges over the manifest's."""
    tree = ctx.workspace.tree
    if not tree.exists(path):
        return None
    config = parse_manifest(path, tree.read(path))
    return config if config.doc is not None else None  # broken: cargo itself stops there


def _merged_profiles(manifest: Manifest, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for source in (manifest.table("profile"), config):
        for name, table in source.items():
            if isinstance(table, dict):
                merged.setdefault(str(name), {}).update(table)
    return merged


def _parent(profiles: dict[str, dict[str, Any]], name: str) -> str | None:
    if name in BUILT_IN:
        return BUILT_IN_PARENT.get(name)
    inherits = profiles.get(name, {}).get("inherits")
    return str(inherits) if isinstance(inherits, str) else None


def _chain(profiles: dict[str, dict[str, Any]], name: str) -> list[str]:
    chain: list[str] = []
    current: str | None = name
    while current is not None and current not in chain:  # `a` inherits `b` inherits `a`: stop
        chain.append(current)
        current = _parent(profiles, current)
    return chain


def _inherits_release(profiles: dict[str, dict[str, Any]], name: str) -> bool:
    return "release" in _chain(profiles, name)[1:]


def _setting(profiles: dict[str, dict[str, Any]], name: str, key: str) -> Any:
    for profile in _chain(profiles, name):
        if key in profiles.get(profile, {}):
            return profiles[profile][key]
    return RELEASE_DEFAULTS.get(key)


def _fast(profiles: dict[str, dict[str, Any]], name: str) -> bool:
    lto = _setting(profiles, name, "lto")
    units = _setting(profiles, name, "codegen-units")
    return lto not in FAT_LTO and not (isinstance(units, int) and units <= 1)


def _suggestion(manifest: Manifest, line: int, profiles: dict[str, dict[str, Any]]) -> Edit | None:
    header = cargo.index(manifest).text_line(line)
    # Only a plain `[profile.release]` header can take the table above it, and the
    # name must be free: an existing `release-fast` needs fixing, not a duplicate.
    if header.split("#", 1)[0].strip() != "[profile.release]" or FAST_NAME in profiles:
        return None
    table = [f"[profile.{FAST_NAME}]", 'inherits = "release"']
    if _setting(profiles, "release", "lto") in FAT_LTO:
        table.append('lto = "thin"')
    units = _setting(profiles, "release", "codegen-units")
    if isinstance(units, int) and units <= 1:
        table.append("codegen-units = 16")
    return Edit(manifest.path, line, line, "\n".join([*table, "", header]))
