"""The configuration: where it is read from, how strictly, and what each key does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ruvopt.checks.config import BENCH_KEYS, TOP_LEVEL_KEYS, Config, ConfigError, _check_type
from ruvopt.checks.engine import selected_crates
from ruvopt.checks.manifest.workspace import load_workspace
from ruvopt.checks.registry import all_rules, load_config, parse_config
from ruvopt.checks.source import DEFAULT_MAX_FILE_BYTES, DirectoryTree
from tests.plugins.workspaces import make_workspace

CONFIG_DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
PACKAGE = '[package]\nname = "demo"\nversion = "0.1.0"\n'


def config_of(tmp_path: Path, files: dict[str, str]) -> Config:
    return load_config(DirectoryTree(make_workspace(tmp_path, files)))


def error_of(tmp_path: Path, files: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        config_of(tmp_path, files)
    return caught.value


# --- where the configuration comes from ----------------------------------------------


def test_no_configuration_gives_the_defaults(tmp_path: Path) -> None:
    config = config_of(tmp_path, {"Cargo.toml": PACKAGE})
    assert config == Config()
    assert config.select == ("RO",)
    assert config.ignore == ()
    assert config.fail_on == "new"
    assert config.max_file_bytes == DEFAULT_MAX_FILE_BYTES
    assert config.source == "defaults"


def test_ruvopt_toml_is_read(tmp_path: Path) -> None:
    config = config_of(
        tmp_path,
        {
            "Cargo.toml": PACKAGE,
            "ruvopt.toml": 'ignore = ["RO601"]\nfail-on = "any"\n[rules.RO101]\nmax-lines = 800\n',
        },
    )
    assert config.source == "ruvopt.toml"
    assert config.ignore == ("RO601",)
    assert config.fail_on == "any"
    assert config.rule_option("RO101", "max-lines", 600) == 800


def test_workspace_metadata_table_is_read(tmp_path: Path) -> None:
    manifest = (
        '[workspace]\nmembers = ["crates/*"]\n\n[workspace.metadata.ruvopt]\nselect = ["RO1"]\n'
        "[workspace.metadata.ruvopt.rules.RO102]\nmax-lines = 400\n"
    )
    config = config_of(tmp_path, {"Cargo.toml": manifest})
    assert config.source == "Cargo.toml [workspace.metadata.ruvopt]"
    assert config.select == ("RO1",)
    assert config.rule_option("RO102", "max-lines", 300) == 400


def test_package_metadata_table_is_read(tmp_path: Path) -> None:
    config = config_of(tmp_path, {"Cargo.toml": PACKAGE + '\n[package.metadata.ruvopt]\nfail-on = "never"\n'})
    assert config.source == "Cargo.toml [package.metadata.ruvopt]"
    assert config.fail_on == "never"


def test_ruvopt_toml_hides_the_cargo_metadata_table(tmp_path: Path) -> None:
    config = config_of(
        tmp_path,
        {
            "Cargo.toml": PACKAGE + '\n[package.metadata.ruvopt]\nfail-on = "never"\n',
            "ruvopt.toml": 'ignore = ["RO601"]\n',
        },
    )
    assert config.source == "ruvopt.toml"
    assert config.fail_on == "new"  # not merged with the metadata table


def test_workspace_metadata_wins_over_package_metadata(tmp_path: Path) -> None:
    manifest = (
        PACKAGE + '\n[package.metadata.ruvopt]\nfail-on = "never"\n'
        '\n[workspace]\n\n[workspace.metadata.ruvopt]\nfail-on = "any"\n'
    )
    assert config_of(tmp_path, {"Cargo.toml": manifest}).fail_on == "any"


def test_member_package_metadata_is_not_read(tmp_path: Path) -> None:
    config = config_of(
        tmp_path,
        {
            "Cargo.toml": '[workspace]\nmembers = ["a"]\n',
            "a/Cargo.toml": PACKAGE + '\n[package.metadata.ruvopt]\nfail-on = "never"\n',
        },
    )
    assert config == Config()


def test_broken_root_manifest_gives_the_defaults(tmp_path: Path) -> None:
    config = config_of(tmp_path, {"Cargo.toml": '[package\nname = "x"\n'})
    assert config == Config()


@pytest.mark.parametrize("manifest", ["workspace = 1\n", '[package]\nname = "x"\nmetadata = "text"\n'])
def test_metadata_that_is_not_a_table_gives_the_defaults(tmp_path: Path, manifest: str) -> None:
    assert config_of(tmp_path, {"Cargo.toml": manifest}) == Config()


# --- strictness ------------------------------------------------------------------------


def test_unknown_key_names_key_file_valid_keys_and_the_closest_one(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": 'fail_on = "any"\n'})
    assert error.source == "ruvopt.toml"
    assert error.key == ("fail_on",)
    assert "unknown key `fail_on`" in error.message
    assert "Did you mean `fail-on`?" in error.message
    assert f"Valid keys here: {', '.join(TOP_LEVEL_KEYS)}" in error.message
    assert str(error).startswith("ruvopt.toml, line 1: ")  # the file and the line of the key


def test_unknown_key_in_a_metadata_table_names_that_table(tmp_path: Path) -> None:
    manifest = '[workspace]\n\n[workspace.metadata.ruvopt]\nselcet = ["RO1"]\n'
    error = error_of(tmp_path, {"Cargo.toml": manifest})
    assert error.source == "Cargo.toml [workspace.metadata.ruvopt]"
    assert "Did you mean `select`?" in error.message


def test_unknown_bench_key_lists_the_bench_keys(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": "[bench]\nrun = 3\n"})
    assert error.key == ("bench", "run")
    assert "`bench.run`" in error.message
    assert "Did you mean `runs`?" in error.message
    assert f"Valid keys here: {', '.join(BENCH_KEYS)}" in error.message


def test_unknown_rule_code_is_rejected_with_the_closest_code(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": "[rules.RO1O1]\nmax-lines = 10\n"})
    assert error.key == ("rules", "RO1O1")
    assert "unknown key `rules.RO1O1`" in error.message
    assert "Did you mean `RO101`?" in error.message


def test_unknown_rule_option_is_rejected_with_the_rules_options(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": "[rules.RO101]\nmax-line = 10\n"})
    assert error.key == ("rules", "RO101", "max-line")
    assert "Did you mean `max-lines`?" in error.message
    assert "Valid keys here: max-lines" in error.message


def test_option_of_a_rule_without_options_is_rejected(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": "[rules.RO401]\nlto = true\n"})
    assert "unknown key `rules.RO401.lto`" in error.message
    assert "(none)" in error.message


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('select = "RO"\n', ("select",), "must be a list of strings"),
        ("ignore = [1]\n", ("ignore",), "must be a list of strings"),
        ('crates = "crates/*"\n', ("crates",), "must be a list of strings"),
        ('fail-on = "always"\n', ("fail-on",), "use one of new, any, never"),
        ("max-file-bytes = 0\n", ("max-file-bytes",), "positive integer"),
        ("max-file-bytes = true\n", ("max-file-bytes",), "positive integer"),
        ("rules = 1\n", ("rules",), "[rules.<CODE>] tables"),
        ("[rules]\nRO101 = 5\n", ("rules", "RO101"), "must be a table"),
        ("bench = 1\n", ("bench",), "must be a table"),
        ("[bench]\nruns = 0\n", ("bench", "runs"), "from 1 to 50"),
        ("[bench]\nruns = true\n", ("bench", "runs"), "from 1 to 50"),
        ('[bench]\nprofiles = "release"\n', ("bench", "profiles"), "`bench.profiles` must be a list of strings"),
        ("[bench]\nmax-regression = 2\n", ("bench", "max-regression"), "must be a string"),
        ("[bench.budgets]\nx = 10\n", ("bench", "budgets"), "maps benchmark ids to limits"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_key(
    tmp_path: Path, text: str, key: tuple[str, ...], fragment: str
) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": text})
    assert error.key == key
    assert fragment in error.message


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("RO101.max-lines", '"600"', "an integer ≥ 0"),
        ("RO101.max-lines", "true", "an integer ≥ 0"),
        ("RO101.max-lines", "6.5", "an integer ≥ 0"),
        ("RO101.max-lines", "-1", "an integer ≥ 0"),
        ("RO301.heavy", '"tokio"', "a list of strings"),
        ("RO301.heavy", "[1, 2]", "a list of strings"),
    ],
)
def test_rule_options_are_type_checked_against_their_defaults(
    tmp_path: Path, option: str, value: str, shown: str
) -> None:
    code, name = option.split(".")
    error = error_of(tmp_path, {"ruvopt.toml": f"[rules.{code}]\n{name} = {value}\n"})
    assert error.key == ("rules", code, name)
    assert f"`rules.{code}.{name}` must be {shown} (default: " in error.message


def test_rule_options_of_the_right_type_are_kept(tmp_path: Path) -> None:
    config = config_of(tmp_path, {"ruvopt.toml": '[rules.RO301]\nheavy = ["my-ml-*"]\n[rules.RO101]\nmax-lines = 1\n'})
    assert config.rules == {"RO301": {"heavy": ["my-ml-*"]}, "RO101": {"max-lines": 1}}


def test_a_float_option_accepts_an_integer() -> None:
    _check_type(1, 0.5, "ruvopt.toml", "rules.RO999.ratio")  # no error
    with pytest.raises(ConfigError):
        _check_type(True, 0.5, "ruvopt.toml", "rules.RO999.ratio")


def test_select_entry_matching_no_rule_is_rejected(tmp_path: Path) -> None:
    error = error_of(tmp_path, {"ruvopt.toml": 'select = ["RX"]\n'})
    assert error.key == ("select",)
    assert "`select` entry 'RX' matches no rule" in error.message


def test_invalid_toml_reports_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('select = ["RO"]\nignore = [\n', "ruvopt.toml")
    assert "not valid TOML" in caught.value.message
    assert caught.value.line is not None
    assert caught.value.line >= 2


# --- what the keys do ------------------------------------------------------------------


def test_the_longer_prefix_decides_between_select_and_ignore() -> None:
    config = Config(select=("RO",), ignore=("RO6", "RO501"))
    assert config.enabled("RO101")
    assert config.enabled("RO502")
    assert not config.enabled("RO601")
    assert not config.enabled("RO501")
    narrow = Config(select=("RO2",), ignore=("RO",))
    assert narrow.enabled("RO201")
    assert not narrow.enabled("RO101")


def test_ignore_wins_over_select_for_the_same_prefix() -> None:
    assert not Config(select=("RO101",), ignore=("RO101",)).enabled("RO101")


def test_a_code_no_select_prefix_matches_is_off() -> None:
    assert not Config(select=("RO1",)).enabled("RO301")


WORKSPACE = {
    "Cargo.toml": '[workspace]\nmembers = ["crates/*", "crates/a/nested", "tools/*"]\n\n' + PACKAGE,
    "src/lib.rs": "",
    "crates/a/Cargo.toml": PACKAGE.replace("demo", "a"),
    "crates/b/Cargo.toml": PACKAGE.replace("demo", "b"),
    "crates/a/nested/Cargo.toml": PACKAGE.replace("demo", "nested"),
    "tools/x/Cargo.toml": PACKAGE.replace("demo", "x"),
}


@pytest.mark.parametrize(
    ("patterns", "names"),
    [
        ((), ["a", "b", "demo", "nested", "x"]),
        (("crates/*",), ["a", "b"]),
        (("crates/**",), ["a", "b", "nested"]),
        (("crates/*", "."), ["a", "b", "demo"]),
        (("tools/x", "crates/a/*"), ["nested", "x"]),
        (("*/b",), ["b"]),
    ],
)
def test_crates_globs_pick_crates_by_directory(tmp_path: Path, patterns: tuple[str, ...], names: list[str]) -> None:
    workspace = load_workspace(DirectoryTree(make_workspace(tmp_path, WORKSPACE)))
    chosen = selected_crates(workspace, Config(crates=patterns))
    assert sorted(c.name for c in chosen) == names


def test_config_digest_changes_with_rule_options() -> None:
    assert Config().digest() != Config(rules={"RO101": {"max-lines": 10}}).digest()
    assert Config().digest() == Config(fail_on="any").digest()  # the verdict, not the findings


# --- the reference documentation ---------------------------------------------------------


def doc_rows() -> set[tuple[str, str, str]]:
    """(code, option, default) of each row of the rule-options table in the docs."""
    row = re.compile(r"^\| \[(RO\d{3})\]\(rules/RO\d{3}\.md\) \| `([^`]+)` \| [^|]+ \| `(.*)` \|$", re.MULTILINE)
    return set(row.findall(CONFIG_DOC.read_text()))


@pytest.mark.parametrize(
    ("code", "option", "default"),
    [(r.code, name, json.dumps(value)) for r in all_rules() for name, value in r.options.items()],
)
def test_every_rule_option_is_in_the_configuration_reference(code: str, option: str, default: str) -> None:
    assert (code, option, default) in doc_rows(), "run `python -m ruvopt.checks.render.docs`"


def test_the_reference_lists_no_option_that_does_not_exist() -> None:
    known = {(r.code, name) for r in all_rules() for name in r.options}
    assert {(code, option) for code, option, _ in doc_rows()} <= known


@pytest.mark.parametrize("key", [*TOP_LEVEL_KEYS, *BENCH_KEYS])
def test_every_configuration_key_is_in_the_reference(key: str) -> None:
    assert f"| `{key}` |" in CONFIG_DOC.read_text()
