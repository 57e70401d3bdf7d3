"""The plan of what the App posts, built from real ``check_diff`` results on real git
repositories (real rules), and ``ruvopt review``, which prints it."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from ruvopt.bot.report.check_run import MAX_ANNOTATIONS_PER_RUN
from ruvopt.bot.report.plan import Plan, build_plan
from ruvopt.bot.report.review import ALREADY_REVIEWED, OUTSIDE, OVER_CAP, Posted, github_diff
from ruvopt.bot.report.summary import MARKER
from ruvopt.checks.diff.mode import DiffReport, check_diff
from ruvopt.checks.model import Edit, Severity
from ruvopt.cli.main import main
from tests.fakegithub import git_diff
from tests.fakegithub.state import files_from_diff
from tests.plugins.workspaces import Files, make_git_repo
from tests.review_support import CRATE, unsafe_reads

LEVEL_RANK = {"failure": 3, "warning": 2, "notice": 1}
LIB_TOP = "//! Engine.\n\n"


def analyse(tmp_path: Path, base: Files, head: Files, **kwargs: object) -> DiffReport:
    repo, (first, second) = make_git_repo(tmp_path, [base, head])
    return check_diff(repo, first, second, jobs=1, **kwargs)  # type: ignore[arg-type]


def hot(name: str, clones: int) -> str:
    """A `// ruvopt: hot` function with ``clones`` `.clone()` calls: one RO501 each."""
    body = "".join(f"    n += v.clone().len() + {i};\n" for i in range(clones))
    return f"// ruvopt: hot\npub fn {name}(v: &Vec<u32>) -> usize {{\n    let mut n = 0;\n{body}    n\n}}\n"


def two_crates() -> tuple[Files, Files]:
    """Head adds 60 undocumented unsafe reads (warnings), breaks `b/Cargo.toml` (an error)
    and adds an undocumented feature (a notice)."""
    base = {
        "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n',
        "README.md": "# ws\n",
        "a/Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n',
        "a/src/lib.rs": "pub fn f() {}\n",
        "b/Cargo.toml": '[package]\nname = "b"\nversion = "0.1.0"\nedition = "2021"\n',
        "b/src/lib.rs": "pub fn g() {}\n",
    }
    head = {
        "a/src/lib.rs": "pub fn f() {}\n" + unsafe_reads("read", 60),
        "a/Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n\n[features]\nextra = []\n',
        "b/Cargo.toml": '[package]\nname = "b"\nversion = "0.1.0\nedition = "2021"\n',
    }
    return base, head


def listed_findings(markdown: str) -> Counter[str]:
    """Rules of the items of the report's "Findings" list (not "Fixed", not the review section)."""
    section = markdown.split("\n### Findings\n", 1)[1].split("\n### ", 1)[0]
    return Counter(re.findall(r"^- \S+ (?:\*\*new\*\* )?`(RO\d+)` `", section, flags=re.M))


def overflow_counts(line: str) -> Counter[str]:
    return Counter({code: int(n) for code, n in re.findall(r"`(RO\d+)` ×(\d+)", line)})


# --- check run -------------------------------------------------------------------------------


def test_annotations_go_out_50_per_request_most_severe_first(tmp_path: Path):
    plan = build_plan(analyse(tmp_path, *two_crates()))
    batches = plan.check_run.batches()
    assert [len(b) for b in batches] == [50, 12]
    flat = [a for b in batches for a in b]
    assert flat == plan.check_run.annotations
    assert Counter(a["annotation_level"] for a in flat) == {"failure": 1, "warning": 60, "notice": 1}
    ranks = [LEVEL_RANK[a["annotation_level"]] for a in flat]
    assert ranks == sorted(ranks, reverse=True)
    assert flat[0]["path"] == "b/Cargo.toml"
    assert flat[0]["start_line"] == 3


def test_a_resumed_run_sends_only_the_annotations_after_those_already_posted(tmp_path: Path):
    plan = build_plan(analyse(tmp_path, *two_crates()))
    rest = plan.check_run.batches(start=55)
    assert [a for b in rest for a in b] == plan.check_run.annotations[55:]


def test_output_over_65535_characters_is_summarised_per_rule_never_dropped(tmp_path: Path):
    head = {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 1500) + hot("hot", 300)}
    result = analyse(tmp_path, CRATE, head)
    reported = Counter(f.code for f in result.report.findings)
    assert reported["RO201"] == 1500
    assert reported["RO501"] == 300
    plan = build_plan(result)
    run = plan.check_run
    assert len(run.text) <= 65_535
    assert len(run.summary) <= 65_535
    assert len(plan.summary) <= 65_536
    for body in (run.text, plan.summary):
        more = next(line for line in body.splitlines() if re.match(r"- … \d+ more findings", line))
        assert listed_findings(body) + overflow_counts(more) == reported
    # Annotations stop at ruvopt's cap; the rest are counted per rule in the summary.
    assert len(run.annotations) == MAX_ANNOTATIONS_PER_RUN
    annotated = Counter(a["title"].split()[0] for a in run.annotations)
    not_annotated = Counter({c: int(n) for n, c in re.findall(r"(\d+) more (RO\d+)", run.summary)})
    assert annotated + not_annotated == reported


def test_conclusion_follows_fail_on(tmp_path: Path):
    feature = {"Cargo.toml": CRATE["Cargo.toml"] + "\n[features]\nextra = []\n"}
    assert build_plan(analyse(tmp_path, CRATE, feature)).check_run.conclusion == "neutral"  # a new notice
    broken = {"Cargo.toml": CRATE["Cargo.toml"].replace('"0.1.0"', '"0.1.0')}
    failing = build_plan(analyse(tmp_path, CRATE, broken)).check_run
    assert failing.conclusion == "failure"
    assert failing.title.startswith("Failing: Cargo.toml:3: Fix this TOML")
    assert build_plan(analyse(tmp_path, CRATE, broken), fail_on="never").check_run.conclusion == "neutral"
    readme = {"README.md": "# engine\n\nMore words.\n"}
    assert build_plan(analyse(tmp_path, CRATE, readme)).check_run.conclusion == "success"


def test_invalid_base_configuration_is_an_error_the_caller_turns_into_action_required(tmp_path: Path):
    from ruvopt.bot.report.plan import config_error_plan
    from ruvopt.checks.config import ConfigError

    base = {**CRATE, "ruvopt.toml": 'fail-of = "new"\n'}
    with pytest.raises(ConfigError) as caught:
        analyse(tmp_path, base, {"README.md": "x\n"})
    plan = config_error_plan(caught.value, "f" * 40)
    assert plan.check_run.conclusion == "action_required"
    assert "fail-of" in plan.check_run.summary
    assert "base branch" in plan.check_run.summary
    assert plan.summary.startswith(MARKER)
    assert plan.review is None


# --- review ----------------------------------------------------------------------------------


def test_at_most_30_inline_comments_the_rest_listed_in_the_summary(tmp_path: Path):
    plan = build_plan(analyse(tmp_path, CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 45)}))
    assert plan.review is not None
    assert len(plan.review.comments) == 30
    assert [why for _, why in plan.selection.summary_only] == [OVER_CAP] * 15
    for finding, _ in plan.selection.summary_only:
        assert f"`src/lib.rs:{finding.start_line}` **RO201**" in plan.summary
    commented = {c.line for c in plan.review.comments}
    assert commented.isdisjoint(f.start_line for f, _ in plan.selection.summary_only)


def test_inline_comments_sit_only_on_right_side_lines_inside_the_hunks(tmp_path: Path):
    # 20 lines on top of a 591-line file: RO101 (at line 601) is new but outside the hunk.
    base = {"Cargo.toml": CRATE["Cargo.toml"], "src/lib.rs": "pub fn a() {}\n" + "// filler\n" * 590}
    head = {"src/lib.rs": unsafe_reads("read", 5) + "// top\n" * 11 + "pub fn a() {}\n" + "// filler\n" * 590}
    result = analyse(tmp_path, base, head, filter_mode="file")
    plan = build_plan(result)
    assert plan.review is not None
    commentable = result.diff.files["src/lib.rs"].commentable
    for comment in plan.review.comments:
        api = comment.to_api()
        assert api["side"] == "RIGHT"
        assert api["line"] in commentable
        assert api.get("start_line", api["line"]) in commentable
    outside = [(f.code, f.start_line, why) for f, why in plan.selection.summary_only]
    assert outside == [("RO101", 601, OUTSIDE)]


def test_mechanical_fixes_become_suggestion_blocks_over_exactly_the_edited_lines(tmp_path: Path):
    plan = build_plan(analyse(tmp_path, CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 2)}))
    assert plan.review is not None
    for comment in plan.review.comments:
        edit = comment.finding.suggestion
        assert edit is not None
        assert comment.suggestion
        assert (comment.start_line or comment.line, comment.line) == (edit.start_line, edit.end_line)
        assert f"```suggestion\n{edit.replacement}\n```" in comment.body
        assert "// SAFETY:" in edit.replacement
        assert comment.body.endswith(f"<!-- ruvopt:fp={comment.finding.fingerprint} -->")


def test_a_suggestion_reaching_outside_the_hunk_is_posted_without_the_block(tmp_path: Path):
    result = analyse(tmp_path, CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 1)})
    finding = result.report.findings[0]
    # An edit that starts on line 1 (far above the added lines) cannot be a suggestion.
    wide = replace(finding, suggestion=Edit(finding.path, 1, finding.start_line, "// rewritten"))
    result.report.findings[0] = wide
    result.findings[result.findings.index(finding)] = wide
    plan = build_plan(result)
    assert plan.review is not None
    (comment,) = plan.review.comments
    assert not comment.suggestion
    assert comment.start_line is None
    assert comment.line == finding.start_line
    assert "```suggestion" not in comment.body
    assert f"Suggested replacement for lines 1–{finding.start_line}" in comment.body


def test_only_new_findings_are_commented_inline(tmp_path: Path):
    # The unsafe reads only move within the file: reported (file mode) but not new.
    base = {**CRATE, "src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 3)}
    moved = "//! Engine.\n\n" + unsafe_reads("read", 3) + "\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n"
    head = {"src/lib.rs": moved}
    plan = build_plan(analyse(tmp_path, base, head, filter_mode="file"))
    assert plan.counts.reported == 3
    assert plan.counts.new == 0
    assert plan.review is None
    assert plan.check_run.conclusion == "success"


def test_findings_already_commented_on_are_not_commented_again(tmp_path: Path):
    result = analyse(tmp_path, CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 4)})
    first = build_plan(result)
    assert first.review is not None
    posted = Posted(threads={i: c.finding.fingerprint for i, c in enumerate(first.review.comments[:3])})
    again = build_plan(result, posted=posted)
    assert again.review is not None
    assert [c.finding.fingerprint for c in again.review.comments] == [first.review.comments[3].finding.fingerprint]
    assert again.counts == first.counts  # commented earlier still counts as commented inline


def test_a_head_that_already_has_a_review_gets_no_second_one(tmp_path: Path):
    result = analyse(tmp_path, CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 2)})
    plan = build_plan(result, posted=Posted(reviewed_commits=frozenset({result.head_commit})))
    assert plan.review is None
    assert [why for _, why in plan.selection.summary_only] == [ALREADY_REVIEWED] * 2


# --- one set of numbers ------------------------------------------------------------------------


def stated(plan: Plan) -> dict[str, str]:
    sentence = plan.counts.sentence()
    texts = {
        "check run summary": plan.check_run.summary,
        "check run text": plan.check_run.text,
        "summary comment": plan.summary,
        "review": plan.review.body if plan.review else "",
    }
    return {where: sentence for where, text in texts.items() if sentence in text}


def test_counts_agree_across_check_run_review_and_summary(tmp_path: Path):
    head = {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("read", 34) + hot("hot", 3)}
    gone = "pub fn gone(p: *const u8) -> (u8, u8) {\n    (unsafe { *p.offset(1) },\n     unsafe { *p.offset(2) })\n}\n"
    base = {**CRATE, "src/lib.rs": CRATE["src/lib.rs"] + gone}
    plan = build_plan(analyse(tmp_path, base, head))
    assert set(stated(plan)) == {"check run summary", "check run text", "summary comment", "review"}
    counts = plan.counts
    assert plan.review is not None
    assert counts.reported == len(plan.check_run.annotations) == 37
    assert counts.inline == len(plan.review.comments) == 30
    assert counts.summary_only == len(plan.selection.summary_only) == 7
    assert counts.new == 37
    assert counts.fixed == 2
    assert sum(listed_findings(plan.summary).values()) == counts.reported
    assert f"**{counts.new} new**" in plan.summary
    assert f"{counts.fixed} fixed" in plan.summary
    assert re.search(rf"{counts.summary_only} new finding\(s\) not commented inline", plan.summary)


# --- ruvopt review -----------------------------------------------------------------------------


def review_cli(repo: Path, base: str, head: str, *extra: str) -> list[str]:
    return ["review", str(repo), "--base", base, "--head", head, "--no-cache", "--jobs", "1", *extra]


def test_ruvopt_review_prints_what_the_app_would_post(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    repo, (base, head) = make_git_repo(tmp_path, list(two_crates()))
    code = main(review_cli(repo, base, head))
    out = capsys.readouterr().out
    assert code == 1  # the new RO001 error fails the check run
    assert "conclusion: failure" in out
    assert "title: Failing: b/Cargo.toml:3: Fix this TOML" in out
    assert "annotations: 62 in 2 request(s)" in out
    assert "request 1 of 2: 50 annotation(s)" in out
    assert "request 2 of 2: 12 annotation(s)" in out
    assert f"review: COMMENT on {head}, 30 inline comment(s)" in out
    assert "--- b/Cargo.toml line 3 (RIGHT) ---" in out  # the error first, then 29 warnings
    unsafe_lines = [
        n for n, line in enumerate(("pub fn f() {}\n" + unsafe_reads("read", 60)).split("\n"), 1) if "unsafe" in line
    ]
    shown = [int(n) for n in re.findall(r"^--- a/src/lib\.rs line (\d+) \(RIGHT\), with a suggestion ---$", out, re.M)]
    assert shown == unsafe_lines[:29]
    assert out.count("```suggestion") == 29
    assert "summary comment (" in out
    assert MARKER in out


def test_ruvopt_review_json_lists_the_requests_the_app_sends(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    repo, (base, head) = make_git_repo(tmp_path, [CRATE, {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("r", 51)}])
    assert main(review_cli(repo, base, head, "--format", "json")) == 1
    data = json.loads(capsys.readouterr().out)
    assert [len(r["annotations"]) for r in data["check_run"]["requests"]] == [50, 1]
    assert all(r["summary"] == data["check_run"]["summary"] for r in data["check_run"]["requests"])
    review = data["review"]
    assert review["event"] == "COMMENT"
    assert review["commit_id"] == head
    assert len(review["comments"]) == 30
    assert all(c["side"] == "RIGHT" for c in review["comments"])
    assert data["counts"] == {"reported": 51, "new": 51, "inline": 30, "summary_only": 21, "fixed": 0}
    assert data["summary_comment"].startswith(MARKER)


def test_ruvopt_review_prints_the_action_required_run_for_an_invalid_base_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    repo, (base, head) = make_git_repo(tmp_path, [{**CRATE, "ruvopt.toml": "selcet = ['RO']\n"}, {"README.md": "x\n"}])
    assert main(review_cli(repo, base, head)) == 2
    captured = capsys.readouterr()
    assert "conclusion: action_required" in captured.out
    assert "selcet" in captured.out
    assert "selcet" in captured.err


def test_severity_order_puts_errors_before_warnings(tmp_path: Path):
    plan = build_plan(analyse(tmp_path, *two_crates()))
    severities = [c.finding.severity for c in plan.review.comments] if plan.review else []
    assert severities[0] == Severity.ERROR
    assert set(severities[1:]) == {Severity.WARNING}


def github_files(repo: Path, base: str, head: str, hunks: int | None = None) -> list[dict[str, object]]:
    """``GET …/pulls/{n}/files`` for the diff, keeping only the first ``hunks`` of each patch."""
    out: list[dict[str, object]] = []
    for f in files_from_diff(git_diff(repo, base, head)):
        patch = f.patch if hunks is None or f.patch is None else "\n@@".join(f.patch.split("\n@@")[:hunks])
        out.append(
            {"filename": f.filename, "status": f.status, "patch": patch, "previous_filename": f.previous_filename}
        )
    return out


def test_comments_go_only_on_lines_githubs_own_diff_also_holds(tmp_path: Path):
    filler = "".join(f"pub fn filler{i}() {{}}\n" for i in range(30))
    base = {**CRATE, "src/lib.rs": LIB_TOP + filler}
    head = {"src/lib.rs": LIB_TOP + unsafe_reads("early", 2) + filler + unsafe_reads("late", 2)}
    repo, (first, second) = make_git_repo(tmp_path, [base, head])
    result = check_diff(repo, first, second, jobs=1)
    # GitHub diffs against another base and shows only the first hunk.
    plan = build_plan(result, placement=github_diff(github_files(repo, first, second, hunks=1)))
    assert plan.review is not None
    lines = head["src/lib.rs"].split("\n")
    commented = {lines[c.line - 1].strip() for c in plan.review.comments}
    assert commented == {"total += u32::from(unsafe { *p.add(0) });", "total += u32::from(unsafe { *p.add(1) });"}
    assert all(c.line < 20 for c in plan.review.comments)
    assert [(f.start_line > 40, why) for f, why in plan.selection.summary_only] == [(True, OUTSIDE)] * 2
    full = build_plan(result, placement=github_diff(github_files(repo, first, second)))
    assert full.review is not None
    assert len(full.review.comments) == 4
