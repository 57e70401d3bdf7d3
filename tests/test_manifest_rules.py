"""The Cargo-manifest rules beyond their fixtures: options, suggestions that really fix the
manifest, workspace inheritance, module-tree gating, and broken input."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import tomlkit

from ruvopt.checks.config import Config
from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.engine import check
from ruvopt.checks.manifest import cargo
from ruvopt.checks.manifest.toml_lines import Span, TomlLines
from ruvopt.checks.manifest.workspace import parse_manifest
from ruvopt.checks.model import Edit, Finding
from ruvopt.checks.render.view import View
from ruvopt.checks.source import DirectoryTree
from tests.plugins.workspaces import make_git_repo, make_workspace

PACKAGE = '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n'


def findings(tmp_path: Path, files: dict[str, str], code: str, rules: dict | None = None) -> list[Finding]:
    root = make_workspace(tmp_path, files)
    report = check(DirectoryTree(root), Config(select=(code,), rules=rules or {}), jobs=1)
    return [f for f in report.findings if f.code == code]


def apply(text: str, edit: Edit) -> str:
    lines = text.split("\n")
    return "\n".join(lines[: edit.start_line - 1] + edit.replacement.split("\n") + lines[edit.end_line :])


def lib(manifest: str, **sources: str) -> dict[str, str]:
    return {"Cargo.toml": manifest, "src/lib.rs": "", **{k.replace("__", "/") + ".rs": v for k, v in sources.items()}}


# --- TOML line index ---------------------------------------------------------------------


def test_toml_lines_finds_keys_in_every_form() -> None:
    text = (
        '[package]\nname = "x"\ndescription = """\n[not.a.header]\n"""\n'
        "[dependencies]\n"
        'a = { version = "1", features = [\n  "x",\n  "y",\n] }\n'
        'b.version = "1"\n'
        "[dependencies.c]\nversion = '1'\n"
        '[target.\'cfg(unix)\'.dependencies]\n"d-e" = "1"\n'
        '[[bin]]\nname = "one"\n[[bin]]\nname = "two"\n'
    )
    index = TomlLines(text)
    assert index.line("package", "description") == 3
    assert index.find("not") is None
    assert index.line("dependencies", "a") == 7
    assert index.line("dependencies", "a", "features", 1) == 9
    assert index.find("dependencies", "a", "features") == Span(7, 10)
    assert index.line("dependencies", "b") == 11
    assert index.line("dependencies", "c") == 12
    assert index.line("dependencies", "c", "version") == 13
    assert index.line("target", "cfg(unix)", "dependencies", "d-e") == 15
    assert index.line("bin", 1, "name") == 19
    assert index.duplicates == []
    assert index.unterminated is None


def test_toml_lines_reports_duplicates_and_unclosed_values() -> None:
    assert TomlLines("[a]\nx = 1\ny = 2\nx = 3\n").duplicates == [(("a", "x"), 4)]
    assert TomlLines("[a.b]\nx = 1\n[a]\ny = 2\n").duplicates == []  # defining a parent later is valid
    unclosed = TomlLines('[a]\nx = [\n  "y",\nz = 1\n')
    assert unclosed.unterminated == 2
    assert unclosed.unterminated_kind == "array"


# --- RO001 -------------------------------------------------------------------------------


def test_broken_root_manifest_is_reported_and_does_not_stop_the_other_rules(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\n[features\ndefault = []\n',
        "src/lib.rs": "\n" * 700,
    }
    report = check(DirectoryTree(make_workspace(tmp_path, files)), jobs=1)
    codes = {(f.code, f.path, f.start_line) for f in report.findings}
    assert ("RO001", "Cargo.toml", 4) in codes
    assert ("RO101", "src/lib.rs", 601) in codes  # the .rs rules still ran
    assert [c.path for c in report.crates] == ["."]


@pytest.mark.parametrize(
    ("tail", "line", "what"),
    [
        ("[features\ndefault = []\n", 4, "the table header on this line has no closing `]`"),
        ('[[bin]\nname = "x"\n', 4, "the table header on this line has no closing `]`"),
        ('[features]\ndefault = ["a",\n', 5, "the array that starts on this line is never closed"),
        ("[features]\nx = [\n  [1, 2\n]\n", 5, "the array that starts on this line is never closed"),
    ],
)
def test_an_unclosed_bracket_is_named_for_what_it_opens(tmp_path: Path, tail: str, line: int, what: str) -> None:
    manifest = '[package]\nname = "demo"\nversion = "0.1.0"\n' + tail
    (found,) = findings(tmp_path, {"Cargo.toml": manifest, "src/lib.rs": ""}, "RO001")
    assert found.start_line == line
    assert found.message.startswith(f"Fix this TOML: {what}")


def test_ruvopt_config_error_is_reported_at_the_offending_key(tmp_path: Path) -> None:
    files = {"Cargo.toml": PACKAGE, "ruvopt.toml": 'select = ["RO"]\n\n[rules.RO101]\nmax-line = 10\n'}
    found = findings(tmp_path, files, "RO001")
    assert [(f.path, f.start_line) for f in found] == [("ruvopt.toml", 4)]
    assert "Did you mean `max-lines`?" in found[0].message
    assert found[0].message.startswith("Fix the ruvopt configuration: unknown key")


def test_config_error_in_cargo_metadata_is_reported_in_the_manifest(tmp_path: Path) -> None:
    manifest = PACKAGE + '\n[package.metadata.ruvopt]\nfail-on = "always"\n'
    found = findings(tmp_path, {"Cargo.toml": manifest, "src/lib.rs": ""}, "RO001")
    assert [(f.path, f.start_line) for f in found] == [("Cargo.toml", 7)]


def test_invalid_toml_in_ruvopt_toml_is_reported(tmp_path: Path) -> None:
    found = findings(tmp_path, {"Cargo.toml": PACKAGE, "ruvopt.toml": 'ignore = ["RO601"\n'}, "RO001")
    assert [f.path for f in found] == ["ruvopt.toml"]
    assert "not valid TOML" in found[0].message


def test_a_valid_workspace_has_no_ro001_finding(tmp_path: Path) -> None:
    assert findings(tmp_path, {"Cargo.toml": PACKAGE, "ruvopt.toml": 'ignore = ["RO6"]\n'}, "RO001") == []


# --- RO301 -------------------------------------------------------------------------------

HEAVY = PACKAGE + (
    '\n[dependencies]\ncandle-core = { version = "0.8", optional = true }\n'
    'tokio = { version = "1", optional = true }\nserde = { version = "1", optional = true }\n'
    '\n[features]\ndefault = ["candle", "dep:serde", "tokio/rt"]\ncandle = ["dep:candle-core"]\n'
)


def _gate_of_change(tmp_path: Path, base_default: str, head_default: str) -> tuple[list[str], int, int]:
    """Diff mode on a lib whose `default` goes from ``base_default`` to ``head_default``:
    (the verdict's reasons, new RO301 findings, the head's heavy_default_dependencies)."""
    before = HEAVY.replace('["candle", "dep:serde", "tokio/rt"]', base_default)
    after = HEAVY.replace('["candle", "dep:serde", "tokio/rt"]', head_default)
    repo, (base, head) = make_git_repo(tmp_path, [lib(before), {"Cargo.toml": after}])
    result = check_diff(repo, base, head, config=Config(select=("RO301",)), jobs=1)
    view = View.of_diff(result).judged("new")
    assert view.verdict is not None
    new = [f for f in result.findings if f.code == "RO301" and f.new]
    (crate,) = result.report.crates
    return list(view.verdict.reasons), len(new), crate.metrics.to_dict()["heavy_default_dependencies"]


def test_a_heavy_default_added_next_to_another_fails_the_gate(tmp_path: Path) -> None:
    # The crate's one RO301 finding stays (not new); the count of heavy defaults rises.
    reasons, new, heavy = _gate_of_change(tmp_path, '["candle"]', '["candle", "tokio/rt"]')
    assert (new, heavy) == (0, 2)
    assert reasons == ["`demo`: `heavy_default_dependencies` got worse past its limit (1 → 2, limit ≤ 0)"]


def test_a_heavy_default_removed_while_another_stays_passes_the_gate(tmp_path: Path) -> None:
    reasons, new, heavy = _gate_of_change(tmp_path, '["candle", "tokio/rt"]', '["candle"]')
    assert (reasons, new, heavy) == ([], 0, 1)


def test_ro301_suggestion_makes_defaults_empty_and_keeps_them_in_full(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, lib(HEAVY), "RO301")
    assert finding.suggestion is not None
    fixed = apply(HEAVY, finding.suggestion)
    features = tomlkit.parse(fixed)["features"]
    assert features["default"] == []
    assert features["full"] == ["candle", "dep:serde", "tokio/rt"]
    assert findings(tmp_path, lib(fixed), "RO301") == []


def test_ro301_names_the_route_to_each_heavy_dependency(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, lib(HEAVY), "RO301")
    assert "`candle-core` (default → candle → candle-core)" in finding.message
    assert "`tokio` (default → tokio/rt → tokio)" in finding.message
    assert "serde" not in finding.message


def test_ro301_does_not_clobber_an_existing_full_feature(tmp_path: Path) -> None:
    manifest = HEAVY + 'full = ["candle"]\n'
    [finding] = findings(tmp_path, lib(manifest), "RO301")
    assert finding.suggestion is not None
    fixed = tomlkit.parse(apply(manifest, finding.suggestion))["features"]
    assert fixed["full"] == ["candle"]
    assert fixed["full-default"] == ["candle", "dep:serde", "tokio/rt"]


def test_ro301_replaces_every_line_of_a_multi_line_default(tmp_path: Path) -> None:
    manifest = HEAVY.replace('default = ["candle", "dep:serde", "tokio/rt"]', 'default = [\n  "candle",\n]')
    [finding] = findings(tmp_path, lib(manifest), "RO301")
    assert finding.suggestion is not None
    assert finding.suggestion.end_line - finding.suggestion.start_line == 2
    assert tomlkit.parse(apply(manifest, finding.suggestion))["features"]["default"] == []


def test_ro301_heavy_option_replaces_the_default_list(tmp_path: Path) -> None:
    assert findings(tmp_path, lib(HEAVY), "RO301", {"RO301": {"heavy": ["serde"]}})[0].message.count("`serde`") == 1
    assert findings(tmp_path, lib(HEAVY), "RO301", {"RO301": {"heavy": ["polars"]}}) == []


def test_ro301_resolves_workspace_inherited_dependencies(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": (
            '[workspace]\nmembers = ["a"]\n'
            '[workspace.dependencies]\nml = { package = "candle-core", version = "0.8" }\n'
        ),
        "a/Cargo.toml": PACKAGE
        + ('[dependencies]\nml = { workspace = true, optional = true }\n[features]\ndefault = ["ml"]\n'),
        "a/src/lib.rs": "",
    }
    [finding] = findings(tmp_path, files, "RO301")
    assert finding.path == "a/Cargo.toml"
    assert "crate `candle-core`" in finding.message


def test_ro301_finding_is_silenced_by_a_toml_suppression_comment(tmp_path: Path) -> None:
    line = 'default = ["candle", "dep:serde", "tokio/rt"]'
    silenced = HEAVY.replace(line, line + "  # ruvopt: allow(RO301) this crate is the app's engine")
    assert findings(tmp_path, lib(silenced), "RO301") == []
    above = HEAVY.replace(line, "# ruvopt: allow(RO3) the line above works too\n" + line)
    assert findings(tmp_path, lib(above), "RO301") == []


def test_ro301_ignores_a_non_optional_heavy_dependency(tmp_path: Path) -> None:
    manifest = PACKAGE + '[dependencies]\ntokio = "1"\n[features]\ndefault = ["rt"]\nrt = ["tokio/rt"]\n'
    assert findings(tmp_path, lib(manifest), "RO301") == []


# --- RO302 -------------------------------------------------------------------------------


def test_ro302_finds_renamed_dependencies_in_target_tables(tmp_path: Path) -> None:
    manifest = PACKAGE + (
        "[target.'cfg(unix)'.dependencies]\n"
        'tk = { package = "tokenizers", version = "0.20", default-features = false, features = ["onig"] }\n'
    )
    [finding] = findings(tmp_path, lib(manifest), "RO302")
    assert finding.start_line == 6
    assert "`onig`" in finding.message


def test_ro302_reports_a_workspace_dependency_once_however_many_members_inherit_it(tmp_path: Path) -> None:
    member = PACKAGE + "[dependencies]\ntokenizers.workspace = true\n"
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\n[workspace.dependencies]\ntokenizers = "0.20"\n',
        "a/Cargo.toml": member,
        "a/src/lib.rs": "",
        "b/Cargo.toml": member.replace("demo", "b"),
        "b/src/lib.rs": "",
    }
    [finding] = findings(tmp_path, files, "RO302")
    assert (finding.path, finding.start_line) == ("Cargo.toml", 4)
    assert "default-features = false" in finding.message


def test_ro302_heavy_features_option(tmp_path: Path) -> None:
    manifest = PACKAGE + '[dependencies]\ntokio = { version = "1", features = ["full"] }\n'
    assert findings(tmp_path, lib(manifest), "RO302") == []
    [finding] = findings(tmp_path, lib(manifest), "RO302", {"RO302": {"heavy-features": ["tokio/full"]}})
    assert finding.start_line == 6


def test_ro302_accepts_default_features_false(tmp_path: Path) -> None:
    manifest = PACKAGE + '[dependencies]\ntokenizers = { version = "0.20", default-features = false }\n'
    assert findings(tmp_path, lib(manifest), "RO302") == []


# --- RO303 -------------------------------------------------------------------------------

OPTIONAL = PACKAGE + (
    '[dependencies]\ntokenizers = { version = "0.20", optional = true }\n'
    '[features]\ntext = ["dep:tokenizers"]\nweak = ["tokenizers?/http"]\nstrong = ["tokenizers/http"]\nother = []\n'
)


def ro303(tmp_path: Path, **sources: str) -> list[str]:
    return [f.message for f in findings(tmp_path, lib(OPTIONAL, **sources), "RO303")]


def test_ro303_suggests_the_most_specific_enabling_feature(tmp_path: Path) -> None:
    manifest = OPTIONAL.replace("[features]\n", '[features]\neverything = ["text", "other", "strong"]\n')
    [finding] = findings(tmp_path, lib(manifest, src__lib="use tokenizers::A;\n"), "RO303")
    assert finding.fix_title is not None
    assert '#[cfg(feature = "text")]' in finding.fix_title


def test_ro303_inner_cfg_gates_the_whole_file(tmp_path: Path) -> None:
    assert ro303(tmp_path, src__lib='#![cfg(feature = "text")]\nuse tokenizers::Tokenizer;\n') == []


def test_ro303_follows_inline_modules_and_path_attributes(tmp_path: Path) -> None:
    lib_rs = 'mod outer { mod inner; }\n#[path = "gen/x.rs"]\nmod x;\n'
    messages = ro303(tmp_path, src__lib=lib_rs, src__outer__inner="use tokenizers::A;\n", src__gen__x="")
    assert len(messages) == 1
    assert "`src/outer/inner.rs:1`" in messages[0]
    messages = ro303(tmp_path, src__lib=lib_rs, src__outer__inner="", src__gen__x="fn f() { tokenizers::f(); }\n")
    assert len(messages) == 1
    assert "`src/gen/x.rs:1`" in messages[0]


def test_ro303_file_reachable_through_an_ungated_route_is_ungated(tmp_path: Path) -> None:
    lib_rs = '#[cfg(feature = "text")]\nmod a;\n#[path = "a.rs"]\nmod b;\n'
    assert len(ro303(tmp_path, src__lib=lib_rs, src__a="use tokenizers::A;\n")) == 1


def test_ro303_weak_dependency_feature_does_not_enable_the_dependency(tmp_path: Path) -> None:
    assert len(ro303(tmp_path, src__lib='#[cfg(feature = "weak")]\nuse tokenizers::A;\n')) == 1
    assert ro303(tmp_path, src__lib='#[cfg(feature = "strong")]\nuse tokenizers::A;\n') == []


def test_ro303_all_needs_one_enabling_feature_any_needs_all(tmp_path: Path) -> None:
    assert ro303(tmp_path, src__lib='#[cfg(all(unix, feature = "text"))]\nuse tokenizers::A;\n') == []
    assert len(ro303(tmp_path, src__lib='#[cfg(any(feature = "text", unix))]\nuse tokenizers::A;\n')) == 1
    assert len(ro303(tmp_path, src__lib='#[cfg(not(feature = "text"))]\nuse tokenizers::A;\n')) == 1


def test_ro303_gates_on_arms_fields_and_sibling_attributes(tmp_path: Path) -> None:
    arm = 'fn f(k: u8) -> u8 {\n    match k {\n        #[cfg(feature = "text")]\n        1 => tokenizers::f(),\n'
    arm += "        _ => 0,\n    }\n}\n"
    assert ro303(tmp_path, src__lib=arm) == []
    field = 'fn f() -> S {\n    S {\n        #[cfg(feature = "text")]\n        t: tokenizers::T::new(),\n    }\n}\n'
    assert ro303(tmp_path, src__lib=field) == []
    derive_first = '#[derive(tokenizers::Derive)]\n#[cfg(feature = "text")]\nstruct S;\n'
    assert ro303(tmp_path, src__lib=derive_first) == []
    assert len(ro303(tmp_path, src__lib="#[derive(tokenizers::Derive)]\nstruct S;\n")) == 1


def test_ro303_cfg_if_branches_are_gated_by_their_own_cfg(tmp_path: Path) -> None:
    gated = 'cfg_if::cfg_if! {\n    if #[cfg(feature = "text")] {\n        use tokenizers::A;\n    }\n}\n'
    assert ro303(tmp_path, src__lib=gated) == []
    other = gated.replace("use tokenizers::A;", "use std::fmt;") + "\n"
    in_else = other.replace("    }\n}", "    } else {\n        use tokenizers::B;\n    }\n}")
    assert len(ro303(tmp_path, src__lib=in_else)) == 1


def test_ro303_a_dependency_required_for_another_target_is_not_optional(tmp_path: Path) -> None:
    manifest = OPTIONAL + "[target.'cfg(unix)'.dependencies]\ntokenizers = \"0.20\"\n"
    assert findings(tmp_path, lib(manifest, src__lib="use tokenizers::A;\n"), "RO303") == []


def test_ro303_a_custom_cfg_set_by_a_build_script_gates(tmp_path: Path) -> None:
    assert ro303(tmp_path, src__lib="#[cfg(demo_has_tokenizers)]\nuse tokenizers::A;\n") == []
    assert len(ro303(tmp_path, src__lib='#[cfg(target_os = "linux")]\nuse tokenizers::A;\n')) == 1


def test_ro303_code_behind_an_undefined_feature_never_compiles(tmp_path: Path) -> None:
    assert ro303(tmp_path, src__lib='#[cfg(feature = "no-such-feature")]\nuse tokenizers::A;\n') == []


def test_ro303_counts_extern_crate_absolute_paths_and_macro_arguments(tmp_path: Path) -> None:
    assert len(ro303(tmp_path, src__lib="extern crate tokenizers;\n")) == 1
    assert len(ro303(tmp_path, src__lib="fn f() { let _ = ::tokenizers::X; }\n")) == 1
    assert len(ro303(tmp_path, src__lib='fn f() { println!("{}", tokenizers::VERSION); }\n')) == 1


def test_ro303_ignores_macro_rules_bodies_and_other_crates_paths(tmp_path: Path) -> None:
    lib_rs = "macro_rules! m { () => { tokenizers::x() } }\nuse crate::tokenizers::X;\nfn f() { x.tokenizers(); }\n"
    assert ro303(tmp_path, src__lib=lib_rs) == []


def test_ro303_a_feature_reaching_the_dependency_through_others_gates(tmp_path: Path) -> None:
    manifest = OPTIONAL + 'full = ["other", "text"]\n'
    files = lib(manifest, src__lib='#[cfg(feature = "full")]\nuse tokenizers::A;\n')
    assert findings(tmp_path, files, "RO303") == []


def test_ro303_uses_only_normal_dependencies(tmp_path: Path) -> None:
    manifest = PACKAGE + '[build-dependencies]\ncc = { version = "1", optional = true }\n'
    assert findings(tmp_path, lib(manifest, src__lib="use cc::Build;\n"), "RO303") == []


# --- RO401 -------------------------------------------------------------------------------

SLOW = '[profile.release]\nlto = "fat"\ncodegen-units = 1\n'


def ro401(tmp_path: Path, manifest: str, **extra: str) -> list[Finding]:
    files = {"Cargo.toml": PACKAGE + manifest, "src/lib.rs": "", **{k.replace("__", "/"): v for k, v in extra.items()}}
    return findings(tmp_path, files, "RO401")


def test_ro401_no_release_profile_is_fast_already(tmp_path: Path) -> None:
    assert ro401(tmp_path, "") == []
    assert ro401(tmp_path, '[profile.release]\nlto = "thin"\nopt-level = 3\n') == []


def test_ro401_a_fast_profile_through_an_inherits_chain_satisfies_it(tmp_path: Path) -> None:
    chain = (
        '[profile.base]\ninherits = "release"\nlto = "thin"\n'
        '[profile.release-fast]\ninherits = "base"\ncodegen-units = 8\n'
    )
    assert ro401(tmp_path, SLOW + chain) == []
    assert ro401(tmp_path, SLOW + '[profile.quick]\ninherits = "bench"\nlto = false\ncodegen-units = 16\n') == []


def test_ro401_settings_inherited_from_release_count(tmp_path: Path) -> None:
    only_lto = '[profile.release-fast]\ninherits = "release"\nlto = "thin"\n'  # still one codegen unit
    assert len(ro401(tmp_path, SLOW + only_lto)) == 1


def test_ro401_suggestion_adds_a_profile_that_satisfies_the_rule(tmp_path: Path) -> None:
    [finding] = ro401(tmp_path, SLOW)
    assert finding.start_line == 5
    assert finding.suggestion is not None
    manifest = apply(PACKAGE + SLOW, finding.suggestion)
    fast = tomlkit.parse(manifest)["profile"]["release-fast"]
    assert fast == {"inherits": "release", "lto": "thin", "codegen-units": 16}
    assert ro401(tmp_path, apply(SLOW, Edit("Cargo.toml", 1, 1, finding.suggestion.replacement))) == []


def test_ro401_suggests_only_the_settings_that_differ(tmp_path: Path) -> None:
    [finding] = ro401(tmp_path, "[profile.release]\ncodegen-units = 1\n")
    assert finding.suggestion is not None
    assert "lto" not in finding.suggestion.replacement
    assert "codegen-units = 16" in finding.suggestion.replacement
    assert "one codegen unit" in finding.message
    assert "fat LTO" not in finding.message


def test_ro401_profiles_in_cargo_config_count(tmp_path: Path) -> None:
    config = '[profile.release-fast]\ninherits = "release"\nlto = "thin"\ncodegen-units = 16\n'
    assert ro401(tmp_path, SLOW, **{".cargo__config.toml": config}) == []


def test_ro401_a_slow_release_in_cargo_config_is_reported_there(tmp_path: Path) -> None:
    [finding] = ro401(tmp_path, "", **{".cargo__config.toml": "[build]\njobs = 2\n\n" + SLOW})
    assert (finding.path, finding.start_line) == (".cargo/config.toml", 4)
    assert finding.suggestion is not None
    assert finding.suggestion.path == ".cargo/config.toml"


def test_ro401_an_inherits_cycle_does_not_hang(tmp_path: Path) -> None:
    cycle = '[profile.a]\ninherits = "b"\n[profile.b]\ninherits = "a"\n'
    assert len(ro401(tmp_path, SLOW + cycle)) == 1


def test_ro401_an_existing_slow_release_fast_gets_no_duplicate_suggestion(tmp_path: Path) -> None:
    [finding] = ro401(tmp_path, SLOW + '[profile.release-fast]\ninherits = "release"\n')
    assert finding.suggestion is None


# --- RO601 -------------------------------------------------------------------------------


def test_ro601_reads_the_workspace_readme_and_package_readme(tmp_path: Path) -> None:
    member = PACKAGE + 'readme = "docs/GUIDE.md"\n[features]\nalpha = []\nbeta = []\ngamma = []\n'
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["a"]\n',
        "Readme.md": "Enable `alpha` for speed.\n",
        "a/Cargo.toml": member,
        "a/docs/GUIDE.md": "Use --features beta,other\n",
        "a/src/lib.rs": "",
    }
    assert [f.message.split("`")[1] for f in findings(tmp_path, files, "RO601")] == ["gamma"]


def test_ro601_readme_inherited_from_the_workspace(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["a"]\n[workspace.package]\nreadme = "docs/FEATURES.md"\n',
        "docs/FEATURES.md": "- `alpha`\n",
        "a/Cargo.toml": PACKAGE + "readme.workspace = true\n[features]\nalpha = []\n",
        "a/src/lib.rs": "",
    }
    assert findings(tmp_path, files, "RO601") == []


def test_ro601_a_mention_inside_a_longer_name_does_not_count(tmp_path: Path) -> None:
    files = lib(PACKAGE + "[features]\ngpu = []\n")
    files["README.md"] = "The gpu-kernels crate and gpus in general.\n"
    assert len(findings(tmp_path, files, "RO601")) == 1


def test_ro601_many_undocumented_features_are_one_finding(tmp_path: Path) -> None:
    names = [f"api{i}" for i in range(30)]
    manifest = PACKAGE + "[features]\n" + "".join(f"{name} = []\n" for name in names)
    [finding] = findings(tmp_path, lib(manifest), "RO601")
    assert finding.start_line == 5
    assert "the 30 features" in finding.message
    assert "`api0`" in finding.message


# --- RO303 against rustc ---------------------------------------------------------------
# The verdict of RO303 must be rustc's: a dependency is flagged exactly when building
# with every feature that does not turn it on fails to resolve it. Dependencies come from
# Debian's directory registry, offline.

REGISTRY = Path("/usr/share/cargo/registry")
TARGET = Path(__file__).resolve().parent.parent / ".cache" / "ro303-target"
RUSTC_CRATE = {
    "Cargo.toml": PACKAGE
    + """
[dependencies]
cfg-if = "1"
either = { version = "1", optional = true, default-features = false }
fnv = { version = "1", optional = true, default-features = false }
itoa = { version = "1", optional = true }
ryu = { version = "1", optional = true }
memchr = { version = "2", optional = true, default-features = false }
scopeguard = { version = "1", optional = true, default-features = false }
byteorder = { version = "1", optional = true, default-features = false }
lazy_static = { version = "1", optional = true }

[features]
fast = ["dep:fnv"]
a = ["dep:itoa"]
b = ["a"]
c = ["dep:ryu"]
d = []
mem = ["dep:memchr"]
guard = ["dep:scopeguard"]
order = ["byteorder?/std"]
""",
    "src/lib.rs": """pub mod models;
#[cfg(feature = "fast")]
pub mod fastmap;
#[cfg(any(feature = "a", feature = "b"))]
pub fn digits(n: u32) -> usize { itoa::Buffer::new().format(n).len() }
#[cfg(any(feature = "c", feature = "d"))]
pub fn shortest(x: f64) -> usize { ryu::Buffer::new().format(x).len() }
cfg_if::cfg_if! {
    if #[cfg(feature = "mem")] {
        pub fn find(h: &[u8]) -> Option<usize> { memchr::memchr(b'a', h) }
    } else {
        pub fn find(h: &[u8]) -> Option<usize> { h.iter().position(|&b| b == b'a') }
    }
}
pub fn pick(k: u8) -> u8 {
    match k {
        #[cfg(feature = "guard")]
        1 => { let _g = scopeguard::guard((), |_| {}); 1 }
        _ => 0,
    }
}
#[cfg(feature = "order")]
pub fn read(b: &[u8]) -> u16 { <byteorder::LittleEndian as byteorder::ByteOrder>::read_u16(b) }
#[cfg(test)]
mod tests { lazy_static::lazy_static! { static ref X: u8 = 1; } }
""",
    "src/models/mod.rs": "mod tok;\npub use tok::*;\n",
    "src/models/tok.rs": "pub fn left() -> either::Either<u8, u8> { either::Either::Left(1) }\n",
    "src/fastmap/mod.rs": "mod inner;\npub use inner::*;\n",
    "src/fastmap/inner.rs": "pub type Map = fnv::FnvHashMap<u8, u8>;\n",
    ".cargo/config.toml": f"""[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "{REGISTRY}"
[net]
offline = true
""",
}
ALL_FEATURES = ["fast", "a", "b", "c", "d", "mem", "guard", "order", "either", "byteorder", "lazy_static"]
# Written by hand from the manifest above (not computed by the code under test).
ENABLING = {
    "either": {"either"},
    "fnv": {"fast"},
    "itoa": {"a", "b"},
    "ryu": {"c"},
    "memchr": {"mem"},
    "scopeguard": {"guard"},
    "byteorder": {"byteorder"},
    "lazy_static": {"lazy_static"},
}


def unresolved_without(crate: Path, dependency: str) -> bool:
    """Does `cargo check` with every feature that leaves ``dependency`` off fail to find it?"""
    features = [f for f in ALL_FEATURES if f not in ENABLING[dependency]]
    proc = subprocess.run(
        [
            "cargo",
            "check",
            "--offline",
            "--quiet",
            "--no-default-features",
            "--features",
            ",".join(features),
            "--message-format",
            "short",
        ],
        cwd=crate,
        env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return f"`{dependency}`" in proc.stderr and "error[E04" in proc.stderr


def test_ro303_flags_exactly_the_dependencies_rustc_cannot_do_without(tmp_path: Path) -> None:
    assert shutil.which("cargo"), "cargo and Debian's crate registry are test requirements"
    assert REGISTRY.is_dir(), "cargo and Debian's crate registry are test requirements"
    crate = make_workspace(tmp_path, RUSTC_CRATE)
    flagged = {f.message.split("`")[1] for f in findings(tmp_path, RUSTC_CRATE, "RO303")}
    rustc = {dep for dep in ENABLING if unresolved_without(crate, dep)}
    assert rustc == {"either", "ryu", "byteorder"}  # the crate above exercises both verdicts
    assert flagged == rustc


FEATURE_GRAPH_MANIFEST = (
    PACKAGE
    + """
[dependencies]
either = { version = "1", optional = true, default-features = false }
fnv = { version = "1", optional = true, default-features = false }
itoa = { version = "1", optional = true }
ryu = { version = "1", optional = true }
memchr = { version = "2", optional = true, default-features = false }
bo = { package = "byteorder", version = "1", optional = true, default-features = false }
scopeguard = { version = "1", optional = true, default-features = false }

[features]
default = ["x", "memchr/std", "bo?/std", "scopeguard?/use_std"]
x = ["y", "dep:itoa"]
y = ["fnv/std"]
z = ["dep:ryu", "bo/std"]
w = ["either"]
"""
)


def cargo_tree(crate: Path, features: str) -> dict[str, set[str]]:
    """Package name → features Cargo's feature resolver turns on (the root included)."""
    proc = subprocess.run(
        [
            "cargo",
            "tree",
            "--offline",
            "--no-default-features",
            "--features",
            features,
            "-e",
            "features",
            "--prefix",
            "none",
            "-f",
            "{p}|{f}",
        ],
        cwd=crate,
        env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        if "|" in line:
            package, feats = line.split("|", 1)
            found.setdefault(package.split()[0], set()).update(f for f in feats.split(",") if f)
    return found


def test_feature_graph_turns_on_what_cargos_resolver_turns_on(tmp_path: Path) -> None:
    offline = RUSTC_CRATE[".cargo/config.toml"]
    files = {"Cargo.toml": FEATURE_GRAPH_MANIFEST, "src/lib.rs": "", ".cargo/config.toml": offline}
    crate = make_workspace(tmp_path, files)
    manifest = parse_manifest("Cargo.toml", FEATURE_GRAPH_MANIFEST.encode())
    deps = cargo.dependencies(manifest)
    graph = cargo.FeatureGraph(manifest, deps)
    package = {d.name: d.package for d in deps}
    for start in ("default", "z", "w", "z,default"):
        closure = graph.closure(*start.split(","))
        resolved = cargo_tree(crate, start)
        ours_on = {package[name] for kind, name in closure if kind == "dep"}
        assert {p for p in resolved if p != "demo"} == ours_on, start
        assert resolved["demo"] == {name for kind, name in closure if kind == "feature"}, start
        for kind, value in closure:
            written, feature = value.split("/", 1) if kind == "dep-feature" else ("", "")
            if kind == "dep-feature" and package[written.rstrip("?")] in ours_on:
                assert feature in resolved[package[written.rstrip("?")]], (start, value)
