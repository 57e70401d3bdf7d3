"""``ruvopt check``: exit codes under each fail-on, usage errors, formats, output and cache."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ruvopt.cli.main import main
from tests.plugins.workspaces import make_git_repo, make_workspace
from tests.toy_rules import TOY_CONFIG, use_toy_rules

__all__ = ["use_toy_rules"]

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = '[package]\nname = "demo"\nversion = "0.1.0"\n'
CLEAN = "fn a() {}\n"
TODO = 'fn a() {\n    perf_todo!("x");\n}\n'  # RO991: error
HEAVY = MANIFEST + '\n[features]\ndefault = ["gpu"]\ngpu = ["dep:candle-core"]\n'  # RO992: warning

pytestmark = pytest.mark.usefixtures("use_toy_rules")


def ws(tmp_path: Path, lib: str = CLEAN, *, manifest: str = MANIFEST, config: str = TOY_CONFIG) -> Path:
    return make_workspace(tmp_path, {"Cargo.toml": manifest, "ruvopt.toml": config, "src/lib.rs": lib})


def run(*args: str | Path) -> int:
    return main(["check", *(str(a) for a in args), "--no-cache", "--jobs", "1"])


# -- exit codes without a base ----------------------------------------------------------------


def test_clean_workspace_exits_0(tmp_path: Path) -> None:
    assert run(ws(tmp_path)) == 0


def test_without_base_every_error_finding_is_new_and_fails(tmp_path: Path) -> None:
    assert run(ws(tmp_path, TODO)) == 1


def test_warning_fails_only_under_fail_on_any(tmp_path: Path) -> None:
    root = ws(tmp_path, manifest=HEAVY)
    assert run(root) == 0
    assert run(root, "--fail-on", "any") == 1
    assert run(ws(tmp_path, TODO), "--fail-on", "never") == 0


def test_fail_on_comes_from_config_unless_given(tmp_path: Path) -> None:
    root = ws(tmp_path, TODO, config=TOY_CONFIG + 'fail-on = "never"\n')
    assert run(root) == 0
    assert run(root, "--fail-on", "new") == 1


# -- exit codes in diff mode --------------------------------------------------------------------


def test_new_error_finding_in_the_diff_fails(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": MANIFEST, "ruvopt.toml": TOY_CONFIG, "src/lib.rs": CLEAN},
            {"src/lib.rs": TODO},
        ],
    )
    assert run(repo, "--base", base, "--head", head) == 1


def test_existing_error_finding_does_not_fail_under_new(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": MANIFEST, "ruvopt.toml": TOY_CONFIG, "src/lib.rs": TODO},
            {"src/lib.rs": TODO + "fn b() {}\n"},
        ],
    )
    assert run(repo, "--base", base, "--head", head) == 0
    assert run(repo, "--base", base, "--head", head, "--filter-mode", "file", "--fail-on", "any") == 1


def test_metric_that_got_worse_past_its_limit_fails(tmp_path: Path) -> None:
    config = 'select = ["RO99", "RO101"]\n[rules.RO101]\nmax-lines = 3\n'
    five = "".join(f"fn f{n}() {{}}\n" for n in range(5))
    repo, (base, worse, better) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": MANIFEST, "ruvopt.toml": config, "src/lib.rs": five},
            {"src/lib.rs": five + "fn g() {}\n"},
            {"src/lib.rs": five},
        ],
    )
    assert run(repo, "--base", base, "--head", worse) == 1  # max_file_lines 5 -> 6, limit 3
    assert run(repo, "--base", worse, "--head", better) == 0  # still past the limit, but better


def test_head_defaults_to_HEAD(tmp_path: Path) -> None:
    repo, (base, _) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": MANIFEST, "ruvopt.toml": TOY_CONFIG, "src/lib.rs": CLEAN},
            {"src/lib.rs": TODO},
        ],
    )
    assert run(repo, "--base", base) == 1


# -- usage and configuration errors exit 2 ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "yaml"],
        ["--head", "HEAD"],
        ["--filter-mode", "added"],
        ["--jobs", "0"],
        ["--no-cache", "--cache-dir", "x"],
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert main(["check", str(ws(tmp_path)), *args]) == 2


def test_bad_ref_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = make_git_repo(tmp_path, [{"Cargo.toml": MANIFEST, "src/lib.rs": CLEAN}])
    assert run(repo, "--base", "no-such-branch") == 2
    assert "no-such-branch" in capsys.readouterr().err


def test_not_a_git_repository_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws(tmp_path), "--base", "HEAD~1") == 2
    assert "not a git repository" in capsys.readouterr().err


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws(tmp_path, config='selekt = ["RO"]\n')) == 2
    assert "Did you mean `select`?" in capsys.readouterr().err


def test_missing_directory_and_no_manifest_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path / "nowhere") == 2
    empty = make_workspace(tmp_path, {"README.md": "hi\n"})
    assert run(empty) == 2


# -- formats and output ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown"])
def test_every_format_prints_a_parsable_report(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": MANIFEST, "ruvopt.toml": TOY_CONFIG, "src/lib.rs": CLEAN},
            {"src/lib.rs": TODO},
        ],
    )
    assert run(repo, "--base", base, "--head", head, "--format", fmt) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["findings"][0]["new"] is True
    elif fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"][0]["baselineState"] == "new"
    elif fmt == "github":
        lines = out.splitlines()
        assert lines[0].startswith("::error file=src/lib.rs,line=2,")
        assert all(line.startswith("::") for line in lines)
    elif fmt == "markdown":
        assert out.startswith("<!-- ruvopt:summary -->")
    else:
        assert "src/lib.rs" in out
        assert "RO991" in out
        assert "failed" in out


def test_a_folder_inside_a_repository_is_named_from_the_root_in_github_and_sarif(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GitHub resolves annotation and SARIF paths from the repository's root, not from the
    # folder the Action's `path` input (or `ruvopt check SUBDIR`) pointed at.
    files = {"Cargo.toml": MANIFEST, "ruvopt.toml": TOY_CONFIG, "src/lib.rs": TODO}
    repo, _ = make_git_repo(tmp_path, [{f"crates/ws/{name}": text for name, text in files.items()}])
    run(repo / "crates/ws", "--format", "github")
    assert "::error file=crates/ws/src/lib.rs,line=2" in capsys.readouterr().out
    run(repo / "crates/ws", "--format", "sarif")
    (found,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "crates/ws/src/lib.rs"
    run(repo / "crates/ws", "--format", "json")  # the report itself stays relative to the folder
    assert json.loads(capsys.readouterr().out)["findings"][0]["path"] == "src/lib.rs"
    outside = ws(tmp_path / "plain", TODO)
    run(outside, "--format", "github")
    assert "::error file=src/lib.rs,line=2" in capsys.readouterr().out


def test_diff_mode_on_a_folder_checks_that_folder_with_its_own_base_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The folder's ruvopt.toml (at base) ignores RO991; a crate outside the folder gets the
    # same new problem and must not be reported at all.
    files = {"Cargo.toml": MANIFEST, "src/lib.rs": CLEAN}
    repo, _ = make_git_repo(
        tmp_path,
        [
            {
                **{f"rust/{n}": t for n, t in files.items()},
                "rust/ruvopt.toml": TOY_CONFIG + 'ignore = ["RO991"]\n',
                **{f"other/{n}": t for n, t in files.items()},
            },
            {"rust/src/lib.rs": TODO, "rust/src/new.rs": TODO, "other/src/lib.rs": TODO},
        ],
    )
    assert run(repo / "rust", "--base", "HEAD~1", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    config = TOY_CONFIG + 'ignore = ["RO992"]\n'
    repo2, _ = make_git_repo(
        tmp_path,
        [
            {**{f"rust/{n}": t for n, t in files.items()}, "rust/ruvopt.toml": config},
            {"rust/src/lib.rs": TODO, "other.rs": TODO},
        ],
        name="second",
    )
    assert run(repo2 / "rust", "--base", "HEAD~1", "--format", "github") == 1
    out = capsys.readouterr().out
    assert "::error file=rust/src/lib.rs,line=2" in out  # named from the repository's root
    assert "other.rs" not in out


def test_a_negative_rule_limit_is_a_configuration_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = TOY_CONFIG + "\n[rules.RO101]\nmax-lines = -5\n"
    assert run(ws(tmp_path, config=config)) == 2
    line = config.splitlines().index("max-lines = -5") + 1
    err = capsys.readouterr().err
    assert f"ruvopt.toml, line {line}: `rules.RO101.max-lines` must be an integer ≥ 0 (default: 600)" in err


def test_an_internal_error_exits_70_naming_it_a_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ruvopt.cli import check as cli_check

    def broken(*_args: object, **_kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(cli_check, "check", broken)
    assert run(ws(tmp_path)) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert (
        err.rstrip().splitlines()[-1].startswith("ruvopt check: internal error (IndexError: list index out of range)")
    )


def test_output_file_gets_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.sarif"
    assert run(ws(tmp_path, TODO), "--format", "sarif", "--output", target) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_help_documents_fail_on_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "every finding counts as new" in out
    assert "got worse than at base and is past its limit" in out
    assert "2 usage or configuration error" in out


# -- cache --------------------------------------------------------------------------------------------


def test_default_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["check", str(ws(tmp_path)), "--jobs", "1"]) == 0
    assert (tmp_path / "xdg" / "ruvopt" / "results.sqlite3").is_file()


def test_cache_dir_and_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = ws(tmp_path)
    assert main(["check", str(root), "--cache-dir", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / "results.sqlite3").is_file()
    assert main(["check", str(root), "--no-cache"]) == 0
    assert not (tmp_path / "xdg").exists()


# -- the bundled demo ------------------------------------------------------------------------------


def test_demo_change_applies_to_the_sample_workspace(tmp_path: Path) -> None:
    copy = tmp_path / "sample"
    shutil.copytree(ROOT / "examples" / "sample-workspace", copy)
    proc = subprocess.run(
        ["git", "apply", "--check", "-p1", str(ROOT / "examples" / "sample-change.patch")],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
