"""Every output format, on reports from real checks (plain and diff mode)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.engine import check
from ruvopt.checks.model import CrateReport, Finding, Metrics, Notice, Report, Severity
from ruvopt.checks.registry import load_config
from ruvopt.checks.render import github, markdown, sarif, text
from ruvopt.checks.render import json_report as json_render
from ruvopt.checks.render.docs import help_uri, rule_markdown
from ruvopt.checks.render.view import View
from ruvopt.checks.source import DirectoryTree
from tests.plugins.workspaces import make_git_repo, make_workspace
from tests.toy_rules import TOY_CONFIG, PerfTodo, use_toy_rules

__all__ = ["use_toy_rules"]

ROOT = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = ROOT / "tests" / "schemas" / "ruvopt-report.schema.json"
SARIF_SCHEMA = ROOT / ".cache" / "sarif" / "sarif-schema-2.1.0.json"
CONTRACT_FINDING_KEYS = {
    "code",
    "rule",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fingerprint",
    "new",
}

WS = '[workspace]\nmembers = ["crates/*"]\n'
LIB = 'fn hot() {\n    perf_todo!("a");\n}\n'


def crate(name: str) -> dict[str, str]:
    return {f"crates/{name}/Cargo.toml": f'[package]\nname = "{name}"\n\n[features]\ndefault = []\n'}


@pytest.fixture
def plain_view(tmp_path: Path, use_toy_rules: None) -> View:
    root = make_workspace(
        tmp_path, {"Cargo.toml": WS, "ruvopt.toml": TOY_CONFIG, **crate("a"), "crates/a/src/lib.rs": LIB}
    )
    tree = DirectoryTree(root)
    config = load_config(tree)
    return View.of_check(check(tree, config, jobs=1), config).judged("new")


@pytest.fixture
def diff_view(tmp_path: Path, use_toy_rules: None) -> View:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"Cargo.toml": WS, "ruvopt.toml": TOY_CONFIG, **crate("a"), "crates/a/src/lib.rs": LIB + "fn b() {}\n"},
            {
                "crates/a/src/lib.rs": LIB + 'fn b() {\n    perf_todo!("b");\n}\n',
                **crate("b"),
                "crates/b/src/lib.rs": "fn c() {}\n",
            },
        ],
    )
    return View.of_diff(check_diff(repo, base, head, filter_mode="nofilter", jobs=1)).judged("new")


# -- JSON -------------------------------------------------------------------------------------


def validate_report(data: dict) -> None:
    schema = json.loads(REPORT_SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


def test_json_report_matches_the_contract_schema(plain_view: View) -> None:
    data = json.loads(json_render.render(plain_view))
    validate_report(data)
    assert data["tool"]["name"] == "ruvopt"
    [found] = data["findings"]
    assert set(found) >= CONTRACT_FINDING_KEYS
    assert (found["path"], found["line"], found["column"]) == ("crates/a/src/lib.rs", 2, 5)
    assert found["new"] is True  # without a base every finding counts as new
    assert [c["path"] for c in data["crates"]] == ["crates/a"]
    assert "base_metrics" not in data["crates"][0]


def test_json_diff_report_has_base_metrics_and_new_flags(diff_view: View) -> None:
    data = json.loads(json_render.render(diff_view))
    validate_report(data)
    crates = {c["name"]: c for c in data["crates"]}
    assert crates["a"]["base_metrics"]["root_lines"] == 4
    assert crates["a"]["metrics"]["root_lines"] == 6
    assert crates["b"]["base_metrics"] is None
    assert sorted((f["line"], f["new"]) for f in data["findings"]) == [(2, False), (5, True)]


def test_report_schema_rejects_a_renamed_contract_field(plain_view: View) -> None:
    data = json.loads(json_render.render(plain_view))
    data["findings"][0]["start_line"] = data["findings"][0].pop("line")
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)


# -- SARIF ------------------------------------------------------------------------------------


def sarif_validator() -> jsonschema.Draft4Validator:
    assert SARIF_SCHEMA.is_file(), f"{SARIF_SCHEMA} is missing: run scripts/install-test-deps.sh"
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_oasis_schema(plain_view: View, diff_view: View) -> None:
    validator = sarif_validator()
    for view in (plain_view, diff_view):
        validator.validate(json.loads(sarif.render(view)))


def test_sarif_schema_catches_a_broken_log(plain_view: View) -> None:
    log = json.loads(sarif.render(plain_view))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(log)


def test_sarif_rules_carry_full_docs_and_results_the_fingerprint(plain_view: View) -> None:
    run = json.loads(sarif.render(plain_view))["runs"][0]
    assert run["tool"]["driver"]["version"] == "0.1.0"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"RO991", "RO992"}  # the enabled rules only
    rule = rules["RO991"]
    assert rule["fullDescription"]["markdown"] == rule_markdown(PerfTodo)
    assert rule["help"]["markdown"] == rule_markdown(PerfTodo)
    assert rule["helpUri"] == help_uri("RO991")
    assert rule["shortDescription"]["text"] == "Flags every `perf_todo!(...)` call."
    [result] = run["results"]
    assert result["ruleId"] == "RO991"
    assert result["level"] == "error"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "RO991"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 5)
    assert result["partialFingerprints"]["ruvopt/v1"] == plain_view.findings[0].fingerprint
    assert "baselineState" not in result


def test_sarif_baseline_state_in_diff_mode(diff_view: View) -> None:
    run = json.loads(sarif.render(diff_view))["runs"][0]
    states = sorted(
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["baselineState"]) for r in run["results"]
    )
    assert states == [(2, "unchanged"), (5, "new")]


# -- GitHub workflow commands ----------------------------------------------------------------


def test_github_escapes_data_and_properties() -> None:
    assert github.escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def make_finding(**changes: object) -> Finding:
    base: dict[str, object] = dict(
        code="RO991",
        rule="perf-todo",
        severity=Severity.ERROR,
        path="src/a,b:c.rs",
        start_line=3,
        start_col=5,
        end_line=3,
        end_col=9,
        message="Finish 50%\nnow",
        fingerprint="fp",
        new=True,
    )
    base.update(changes)
    return Finding(**base)  # type: ignore[arg-type]


def test_github_command_for_a_finding() -> None:
    finding = make_finding()
    line = github.finding_command(finding, diff_mode=True, path=finding.path)
    assert line == (
        "::error file=src/a%2Cb%3Ac.rs,line=3,endLine=3,col=5,endColumn=9,"
        "title=RO991 perf-todo (new)::Finish 50%25%0Anow"
    )
    finding = make_finding(severity=Severity.WARNING, end_line=4, new=False)
    warning = github.finding_command(finding, diff_mode=True, path=finding.path)
    assert warning.startswith("::warning file=src/a%2Cb%3Ac.rs,line=3,endLine=4,title=RO991 perf-todo::")


def test_github_render_lists_every_finding(diff_view: View) -> None:
    lines = github.render(diff_view).splitlines()
    assert sum(1 for line in lines if line.startswith("::error file=crates/a/src/lib.rs")) == 2


# -- markdown summary ------------------------------------------------------------------------------


def test_markdown_summary_has_marker_checklist_and_before_after(diff_view: View) -> None:
    body = markdown.render(diff_view)
    assert body.startswith("<!-- ruvopt:summary -->\n")
    assert "| `a` |" in body
    assert "| `b` |" in body
    checklist_head = next(line for line in body.splitlines() if line.startswith("| crate |"))
    assert "seed P0" in checklist_head
    a_row = next(line for line in body.splitlines() if line.startswith("| `a` |"))
    assert "⚠️" in a_row  # crate a has RO991 findings (checklist item seed P0)
    assert "| `root_lines` | 4 → 6 |" in body
    assert "(new crate) → 1" in body
    assert "| `RO991` perf-todo | 1 | 2 | 0 |" in body  # new, reported, fixed
    assert "**1 new**, 1 unchanged, 0 fixed" in body


def many_findings_view(count: int) -> View:
    findings = [make_finding(path=f"src/f{i}.rs", fingerprint=str(i), message="x" * 80) for i in range(count)]
    metrics = Metrics({"root_lines": 1})
    report = Report([CrateReport("a", ".", "src/lib.rs", metrics)], findings, [Notice("src/big.rs", "skipped")])
    return View(report, load_config(DirectoryTree(Path("/nonexistent"))), all_findings=findings)


@pytest.mark.parametrize("limit", [4_000, markdown.MAX_CHARS])
def test_markdown_overflow_is_summarised_within_the_limit(limit: int) -> None:
    body = markdown.render(many_findings_view(2_000), max_chars=limit)
    assert len(body) <= limit
    listed = sum(1 for line in body.splitlines() if line.startswith("- ❌"))
    more = re.search(r"… (\d+) more findings \(`RO991` ×(\d+)\)", body)
    assert more is not None
    assert listed + int(more.group(1)) == 2_000
    assert more.group(1) == more.group(2)


def test_markdown_small_report_lists_everything() -> None:
    body = markdown.render(many_findings_view(3))
    assert "more findings" not in body
    assert sum(1 for line in body.splitlines() if line.startswith("- ❌")) == 3
    assert "- `src/big.rs`: skipped" in body


# -- text ---------------------------------------------------------------------------------------


def test_text_report_shows_tables_findings_by_file_and_verdict(diff_view: View) -> None:
    out = text.render_str(diff_view, width=120)
    assert "before → after" in out
    assert "new crate, no base metrics" in out
    assert "crates/a/src/lib.rs\n" in out
    assert "5:5  error RO991 new Finish this `perf_todo!`" in out
    assert "2:5  error RO991 Finish" in out
    assert "failed (fail-on new)" in out


def test_text_report_shows_notices(plain_view: View) -> None:
    plain_view.report.notices.append(Notice("crates/a/src/huge.rs", "larger than 5 bytes; not checked"))
    assert "notice: crates/a/src/huge.rs: larger than 5 bytes; not checked" in text.render_str(plain_view)


def test_progress_bar_only_on_a_terminal_after_the_delay() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    late = text.ScanProgress(terminal, delay=0.0)
    late(5, 10)
    assert late.progress is not None
    late.close()
    assert "scanning" in terminal.file.getvalue()  # type: ignore[attr-defined]

    quick = text.ScanProgress(Console(file=io.StringIO(), force_terminal=True), delay=60.0)
    quick(5, 10)
    assert quick.progress is None

    piped = text.ScanProgress(Console(file=io.StringIO(), force_terminal=False), delay=0.0)
    piped(5, 10)
    assert piped.progress is None


def test_sample_workspace_reports_with_the_real_rules_validate() -> None:
    tree = DirectoryTree(ROOT / "examples" / "sample-workspace")
    config = load_config(tree)
    view = View.of_check(check(tree, config, jobs=1), config).judged("new")
    assert view.findings, "the sample workspace is meant to have findings"
    validate_report(json.loads(json_render.render(view)))
    sarif_validator().validate(json.loads(sarif.render(view)))
