from __future__ import annotations

import re
from collections.abc import Iterator

from ruvopt.checks.base import WorkspaceRule
from ruvopt.checks.config import CONFIG_FILE, ConfigError
from ruvopt.checks.context import WorkspaceContext, manifest_finding
from ruvopt.checks.manifest.toml_lines import TomlLines
from ruvopt.checks.manifest.workspace import Manifest
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.registry import load_config
from ruvopt.checks.source import SourceTree

ALREADY_PRESENT = re.compile(r'Key "(?P<key>[^"]*)" already exists')
CONFIG_SOURCE = re.compile(r"^(?P<path>\S+?)(?: \[(?P<table>[^\]]+)\])?$")


class InvalidManifest(WorkspaceRule):
    """## What it does
    Reports a `Cargo.toml` that is not valid TOML — the root manifest, or the manifest
    of a checked crate — at the line of the mistake: where the parser stopped, the
    second definition of a duplicated key or table, or where a string, array or inline
    table that never closes begins.

    It also reports a ruvopt configuration (`ruvopt.toml`, or the
    `[workspace.metadata.ruvopt]` / `[package.metadata.ruvopt]` table) that ruvopt
    would reject — an unknown key, a value of the wrong type — at the offending key, so a
    pull request that breaks the configuration is told where before it is merged.

    Manifests outside the checked crates (test fixtures, vendored sources) are not
    reported: Cargo never reads them for this workspace.

    ## Why is this bad?
    Cargo refuses to build anything in a workspace whose manifest does not parse, and
    every manifest rule goes blind. A configuration ruvopt rejects stops ruvopt from
    checking the next pull request at all.

    ## Example
    ```toml
    [dependencies]
    tokenizers = { version = "0.20", optional = true
    ```

    Use instead:
    ```toml
    [dependencies]
    tokenizers = { version = "0.20", optional = true }
    ```
    """

    code = "RO001"
    name = "invalid-manifest"
    severity = Severity.ERROR
    checklist_item = ""

    def run(self, ctx: WorkspaceContext) -> Iterator[Finding]:
        manifests = [ctx.root_manifest] if ctx.root_manifest is not None else []
        manifests += [c.manifest for c in ctx.crates]
        for manifest in {m.path: m for m in manifests}.values():
            # A manifest that parsed is checked by the other rules.
            if manifest.error is None:
                continue
            line, message = _locate(manifest)
            yield manifest_finding(
                self,
                manifest,
                line,
                f"Fix this TOML: {message}",
                key="toml-parse-error",
                fix_title="Correct the syntax so Cargo (and ruvopt) can read this manifest",
            )
        finding = config_error_finding(self, ctx.workspace.tree)
        if finding is not None:
            yield finding


def _locate(manifest: Manifest) -> tuple[int, str]:
    """The line a reader must change, and tomlkit's message made readable."""
    assert manifest.error is not None
    if manifest.error.over_limits:  # too large to scan either: the finding stays on line 1
        return 1, manifest.error.message
    index = TomlLines(manifest.text)
    line, message = manifest.error.line, manifest.error.message.replace("'\\x00'", "end of file")
    duplicate = ALREADY_PRESENT.search(message)
    if duplicate and index.duplicates:
        line = index.duplicates[0][1]  # tomlkit names the key but not (or not exactly) the line
        message = f"`{duplicate.group('key')}` is already defined above; keep one of the two definitions"
    elif _unclosed_header(index.text_line(line)):
        message = f"the table header on this line has no closing `]` ({message})"
    elif index.unterminated is not None and index.unterminated <= line:
        # The parser trips where the file ends or the next key starts; the mistake is
        # the bracket or quote that never closed.
        message = f"the {index.unterminated_kind} that starts on this line is never closed ({message} at line {line})"
        line = index.unterminated
    last = max(manifest.text.count("\n"), 1)
    return min(max(line, 1), last), message


def config_error_finding(rule: WorkspaceRule, tree: SourceTree) -> Finding | None:
    """The ruvopt configuration's error as a finding at the offending key, or None."""
    try:
        load_config(tree)
    except ConfigError as error:
        return _config_finding(rule, tree, error)
    return None


def _config_finding(rule: WorkspaceRule, tree: SourceTree, error: ConfigError) -> Finding:
    match = CONFIG_SOURCE.match(error.source)
    path = match.group("path") if match else CONFIG_FILE
    table = tuple(match.group("table").split(".")) if match and match.group("table") else ()
    text = tree.read_text(path) if tree.exists(path) else ""
    line = error.line or TomlLines(text).line(*table, *error.key)
    return manifest_finding(
        rule,
        Manifest(path, text, None),
        line,
        f"Fix the ruvopt configuration: {error.message}",
        key="ruvopt-config." + ".".join(error.key),
        fix_title="Correct the ruvopt configuration; see docs/configuration.md",
    )


def _unclosed_header(text: str) -> bool:
    """`[dependencies` or `[[bin]`: a header line whose brackets do not close."""
    stripped = text.split("#", 1)[0].strip()
    if not stripped.startswith("["):
        return False
    depth = 2 if stripped.startswith("[[") else 1
    return not stripped.endswith("]" * depth)
