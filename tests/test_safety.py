"""Unit behaviour of the SAFETY verdicts (checks/safety*.py) and rules RO201-RO203.

The expected verdicts here are clippy 0.1.95's, as measured with the placement crate
(tests/test_clippy_agreement.py compares the two directly); each test pins one rule of
that behaviour so a regression names the rule it broke.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ruvopt.checks.config import Config
from ruvopt.checks.context import FileContext
from ruvopt.checks.engine import check
from ruvopt.checks.metrics import file_metrics
from ruvopt.checks.model import Finding
from ruvopt.checks.registry import load_config, wanted_kinds_for
from ruvopt.checks.rules.ro201_undocumented_unsafe_block import UndocumentedUnsafeBlock
from ruvopt.checks.rules.ro203_missing_safety_doc import MissingSafetyDoc
from ruvopt.checks.safety import verdicts as safety
from ruvopt.checks.safety.doc import markdown_has_safety_heading, unindent
from ruvopt.checks.safety.text import (
    comment_above,
    comment_inside,
    has_safety_word,
    is_one_line_attribute,
    trailing_comment_is_safety,
)
from ruvopt.checks.source import DirectoryTree
from tests.plugins.workspaces import make_workspace

CARGO = '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n'


def context(source: str, path: str = "src/lib.rs", **options: bool) -> FileContext:
    config = Config(rules={"RO201": dict(options)} if options else {})
    return FileContext(path, source.encode(), config, wanted_kinds_for(config))


def block_verdicts(source: str, **options: bool) -> list[tuple[int, bool]]:
    """(1-based line of each block's `unsafe`, accepted) for a snippet."""
    return [(node.start_point[0] + 1, ok) for node, ok in safety.unsafe_block_verdicts(context(source, **options))]


def above(*lines: str, attributes: bool = True) -> bool:
    """Whether the lines, then the target line, pass clippy's above-test (window: line 0)."""
    text = ["fn f() {", *lines, "    unsafe { x }"]
    return comment_above(text, len(text) - 1, 0, attributes=attributes)


# The text rules -----------------------------------------------------------------------


def test_safety_word_is_ascii_case_insensitive_and_needs_the_colon() -> None:
    assert has_safety_word("// Safety: fine")
    assert has_safety_word("// sAfEtY: fine")
    assert not has_safety_word("// SAFETY fine")
    assert not has_safety_word("// SAFETY : fine")
    assert not has_safety_word("// ſafety: the long s uppercases to S only outside ASCII")


def test_comment_line_directly_above_is_accepted() -> None:
    assert above("    // SAFETY: x is valid")


def test_blank_lines_between_comment_and_block_are_skipped() -> None:
    assert above("    // SAFETY: x is valid", "", "   ")


def test_word_anywhere_in_a_run_of_line_comments_is_accepted() -> None:
    assert above("    // SAFETY:", "    // x is valid", "    // and aligned")
    assert above("    // Context first. SAFETY: x is valid")


def test_code_between_comment_and_block_is_not_accepted() -> None:
    assert not above("    // SAFETY: x is valid", "    let a = 1;")


def test_one_line_attributes_are_skipped_only_with_the_option() -> None:
    lines = ("    // SAFETY: x is valid", "    #[allow(unused)]", "    #![allow(dead_code)]")
    assert above(*lines)
    assert not above(*lines, attributes=False)


def test_what_counts_as_a_one_line_attribute() -> None:
    assert is_one_line_attribute("#[allow(unused)] #[inline]")
    assert is_one_line_attribute('#[doc = "]"]')
    assert not is_one_line_attribute("# [allow(unused)]")
    assert not is_one_line_attribute("#[allow(unused)] // note")
    assert not is_one_line_attribute("#[allow(")


def test_multiline_attribute_breaks_the_search() -> None:
    assert not above("    // SAFETY: x is valid", "    #[allow(", "        unused)]")


def test_trailing_comment_on_the_nearest_line_is_accepted() -> None:
    assert above("    let a = 1; // SAFETY: x is valid")
    assert above("    let a = 1; /* SAFETY: x is valid */ let b = 2;")
    assert above("    let a = 1; //SAFETY: no space needed")


def test_trailing_comment_uses_the_earliest_opener_even_inside_a_string() -> None:
    assert not trailing_comment_is_safety('let s = "http://x"; // SAFETY: y')
    assert not trailing_comment_is_safety("let a = 1; /* note */ // SAFETY: y")
    assert trailing_comment_is_safety('let s = "// SAFETY: in a string";')
    assert not trailing_comment_is_safety("let a = 1; // note: SAFETY: y")


def test_trailing_comment_two_lines_up_is_not_accepted() -> None:
    assert not above("    let a = 1; // SAFETY: x is valid", "    // more words")


def test_block_comment_above_is_accepted_when_only_whitespace_follows() -> None:
    assert above("    /* A description", "     * SAFETY: x is valid", "     */")
    assert above("    /* SAFETY: x is valid */", "")
    assert not above("    /* SAFETY: x is valid */", "    let a = 1;")
    assert not above("    /* SAFETY: x is valid", "       more */", "    #[allow(unused)]")


def test_line_comment_run_without_the_word_ends_the_search() -> None:
    assert not above("    /* SAFETY: x is valid */", "    // more words")


def test_word_inside_a_doc_code_fence_does_not_count() -> None:
    assert not above("    /// ```", "    /// SAFETY: inside the fence", "    /// ```")
    assert not above("    // SAFETY: x is valid", "    /// ```", "    /// example")
    assert above("    // SAFETY: x is valid", "    /// ```", "    /// example", "    /// ```")
    assert above("    // ```", "    // SAFETY: plain comments have no fences", "    // ```")


def test_window_start_line_is_never_scanned() -> None:
    text = ["fn f() { // SAFETY: on the fn line", "    unsafe { x }"]
    assert not comment_above(text, 1, 0, attributes=True)


def test_comment_inside_must_open_the_block_and_start_with_the_word() -> None:
    assert comment_inside(" // SAFETY: x is valid\n    *x ")
    assert comment_inside("\n\n        /*\n  SAFETY: on the next line */ *x ")
    assert not comment_inside("\n    // A description\n    // SAFETY: second comment\n *x")
    assert not comment_inside("\n    /** SAFETY: a doc comment */ *x")
    assert not comment_inside("\n    let a = 1;\n    // SAFETY: after a statement\n")


# Structure: windows, statements, macros ------------------------------------------------


def test_comment_above_the_function_does_not_count() -> None:
    assert block_verdicts("// SAFETY: above\nfn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n") == [(3, False)]


def test_comment_above_statement_is_accepted_only_with_the_option() -> None:
    source = "fn f(p: *const u8) -> u8 {\n    // SAFETY: ok\n    let v = g(\n        unsafe { *p });\n    v\n}\n"
    assert block_verdicts(source) == [(4, True)]
    assert block_verdicts(source, **{"accept-comment-above-statement": False}) == [(4, False)]


@pytest.mark.parametrize(
    ("statement", "accepted"),
    [
        ("v = g(\n        unsafe { *p });", True),  # assignment
        ("v += g(\n        unsafe { *p });", True),  # compound assignment: outermost expression
        ("return g(\n        unsafe { *p });", True),
        ("let w = 0..=\n        unsafe { *p };", True),  # `..=` is a call in HIR
        ("let w = 0..\n        unsafe { *p };", False),  # `..` is a struct literal
        ("let h = S {\n        f: unsafe { *p } };", False),  # a field ends the walk
        ("let h = {\n        unsafe { *p } };", False),  # a block tail ends the walk
        ("if g(\n        unsafe { *p }) > 0 {}", False),  # `if` is branchy
        ("o(\n        unsafe { *p })?;", False),  # `?` is a match in HIR
        ("let w = o(\n        unsafe { *p })?;", True),
        ("let c = ||\n        unsafe { *p };", True),  # closure whose body is the block
        ("let c = || {\n        unsafe { *p } };", False),
    ],
)
def test_statement_walk_follows_clippys_hir_parents(statement: str, accepted: bool) -> None:
    source = (
        f"fn f(p: *const u8) -> Option<u8> {{\n    let mut v = 0;\n    // SAFETY: ok\n    {statement}\n    None\n}}\n"
    )
    assert [ok for _, ok in block_verdicts(source)] == [accepted]


def test_comment_above_match_does_not_cover_an_arm_but_above_the_arm_does() -> None:
    source = (
        "fn f(p: *const u8, c: u8) -> u8 {\n    // SAFETY: above the match\n    match c {\n"
        "        0 => unsafe { *p },\n        // SAFETY: above the arm\n        _ => unsafe { *p },\n    }\n}\n"
    )
    assert block_verdicts(source) == [(4, False), (6, True)]


def test_inner_nested_block_needs_its_own_comment() -> None:
    source = "fn f(p: *const u8) -> u8 {\n    // SAFETY: ok\n    unsafe {\n        unsafe { *p }\n    }\n}\n"
    assert block_verdicts(source) == [(3, True), (4, False)]


def test_macro_rules_block_is_checked_after_the_definition_line() -> None:
    source = (
        "// SAFETY: above the macro does not count\nmacro_rules! m {\n    ($p:expr) => {\n"
        "        unsafe { *$p }\n    };\n}\nmacro_rules! n {\n    ($p:expr) => {\n"
        "        // SAFETY: inside the body\n        unsafe { *$p }\n    };\n}\n"
    )
    assert block_verdicts(source) == [(4, False), (10, True)]


def test_macro_argument_statement_is_followed_through_vec_but_not_assert() -> None:
    source = (
        "fn f(p: *const u8) -> Vec<u8> {\n    // SAFETY: ok\n    assert!(\n        unsafe { *p } > 0);\n"
        "    // SAFETY: ok\n    let v = vec![\n        unsafe { *p }];\n    v\n}\n"
    )
    assert block_verdicts(source) == [(4, False), (7, True)]


def test_items_passed_to_a_macro_are_checked_like_ordinary_code() -> None:
    source = (
        "cfg_if::cfg_if! {\n    if #[cfg(unix)] {\n        fn f(p: *const u8) -> u8 {\n"
        "            let a = 1; // SAFETY: ok\n            unsafe { *p }\n        }\n"
        "        fn g(p: *const u8) -> u8 {\n            unsafe { *p }\n        }\n    }\n}\n"
    )
    assert block_verdicts(source) == [(5, True), (8, False)]


def test_unsafe_impl_comment_must_follow_the_previous_item() -> None:
    source = (
        "pub struct A; // SAFETY: trailing on the item before\nunsafe impl Send for A {}\n"
        "pub struct B;\n// SAFETY: ok\n#[cfg(all())]\n/// docs\nunsafe impl Send for B {}\n"
    )
    verdicts = [(n.start_point[0] + 1, ok) for n, ok in safety.unsafe_impl_verdicts(context(source))]
    assert verdicts == [(2, False), (7, True)]
    off = context(source, **{"accept-comment-above-attributes": False})
    assert [ok for _, ok in safety.unsafe_impl_verdicts(off)] == [False, False]


def test_first_item_of_crate_root_sees_line_one_but_module_file_gets_no_verdict() -> None:
    source = "// SAFETY: line one\nunsafe impl Send for A {}\n"
    assert [ok for _, ok in safety.unsafe_impl_verdicts(context(source, "src/lib.rs"))] == [True]
    bare = "unsafe impl Send for A {}\n"
    assert [ok for _, ok in safety.unsafe_impl_verdicts(context(bare, "src/lib.rs"))] == [False]
    # clippy's window would start in the parent file: it never reports this impl.
    assert [ok for _, ok in safety.unsafe_impl_verdicts(context(bare, "src/sub.rs"))] == [True]


def test_ten_thousand_deep_nesting_is_walked_without_recursion() -> None:
    depth = 10_000
    source = (
        "#![allow(clippy::undocumented_unsafe_blocks)]\n#[warn(clippy::undocumented_unsafe_blocks)]\n"
        "fn f(p: *const u8) -> u8 {\n"
        + "{" * depth
        + "unsafe { *p }"
        + "}" * depth
        + "\n}\n"
        + "pub mod m {\n" * depth
        + "pub unsafe fn g() {}\n"
        + "}\n" * depth
    )
    assert block_verdicts(source) == [(4, False)]
    ctx = context(source)
    [finding] = UndocumentedUnsafeBlock(ctx.config).run(ctx)  # the `#[warn]` on `f` wins over the crate's allow
    assert finding.start_line == 4
    facts = MissingSafetyDoc(ctx.config).file_facts(ctx)
    assert len(facts["inline_mods"]) == depth
    assert facts["items"][0]["inline"] == ["m"] * depth


# Docs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "found"),
    [
        ("# Safety", True),
        ("## SAFETY", True),
        ("Safety\n======", True),
        ("- # Safety", True),
        ("# *Safety*", True),
        ("# Implementation safety", True),
        ("# Safety <!-- c -->", True),
        ("# safety", False),
        ("# Safety:", False),
        ("#Safety", False),
        ("# Safety section", False),
        ("```\n# Safety\n```", False),
        ("# `Safety`", False),
        ("Intro.\n    # Safety", False),
    ],
)
def test_safety_heading_follows_clippys_markdown_rule(markdown: str, found: bool) -> None:
    assert markdown_has_safety_heading(markdown) is found


def test_common_doc_indentation_is_removed_like_rustdoc() -> None:
    assert unindent(["    # Safety", "    text"]) == "# Safety\ntext"


def test_unsafe_fn_metrics_count_every_unsafe_fn_but_trait_impl_methods() -> None:
    source = (
        "/// # Safety\npub unsafe fn a() {}\nunsafe fn b() {}\npub trait T { unsafe fn c(); }\n"
        "impl T for S { unsafe fn c() {} }\nimpl S { pub unsafe fn d() {} }\nfn safe() {}\n"
    )
    metrics = file_metrics(context(source))
    assert metrics["unsafe_fns"] == 4
    assert metrics["unsafe_fns_with_safety_doc"] == 1


def test_block_and_impl_metrics_count_verdicts() -> None:
    source = (
        "fn f(p: *const u8) -> u8 {\n    // SAFETY: ok\n    let a = unsafe { *p };\n    a + unsafe { *p }\n}\n"
        "struct S;\nunsafe impl Send for S {}\n"
    )
    metrics = file_metrics(context(source))
    assert (metrics["unsafe_blocks"], metrics["unsafe_blocks_documented"]) == (2, 1)
    assert (metrics["unsafe_impls"], metrics["unsafe_impls_documented"]) == (1, 0)


# The rules through the engine ----------------------------------------------------------


def run_rules(tmp_path: Path, files: dict[str, str], config: str = "") -> list[Finding]:
    root = make_workspace(tmp_path, {"Cargo.toml": CARGO, "ruvopt.toml": config, **files})
    base = load_config(DirectoryTree(root))
    selected = Config(select=("RO201", "RO202", "RO203"), rules=base.rules)
    return check(DirectoryTree(root), selected, jobs=1).findings


def test_ro201_suggests_a_stub_above_the_unsafe_line_keeping_its_indentation(tmp_path: Path) -> None:
    source = "pub fn f(p: *const u8) -> u8 {\n    let v = unsafe {\n        *p\n    };\n    v\n}\n"
    [finding] = run_rules(tmp_path, {"src/lib.rs": source})
    assert (finding.code, finding.start_line, finding.end_line) == ("RO201", 2, 2)
    assert finding.suggestion is not None
    assert (finding.suggestion.start_line, finding.suggestion.end_line) == (2, 2)
    replacement = finding.suggestion.replacement
    assert replacement.startswith("    // SAFETY: <")
    assert replacement.endswith("\n    let v = unsafe {")
    fixed = source.replace("    let v = unsafe {", replacement)
    assert [ok for _, ok in safety.unsafe_block_verdicts(context(fixed))] == [True]


def test_ro201_gives_no_suggestion_where_no_line_above_would_count(tmp_path: Path) -> None:
    [finding] = run_rules(tmp_path, {"src/lib.rs": "pub fn f(p: *const u8) -> u8 { unsafe { *p } }\n"})
    assert finding.suggestion is None


def test_ro201_honours_allow_attributes_like_clippy(tmp_path: Path) -> None:
    source = (
        "#[allow(clippy::undocumented_unsafe_blocks)]\npub mod quiet {\n"
        "    pub fn f(p: *const u8) -> u8 { unsafe { *p } }\n"
        "    #[warn(clippy::undocumented_unsafe_blocks)]\n"
        "    pub fn g(p: *const u8) -> u8 {\n        unsafe { *p }\n    }\n}\n"
    )
    assert [(f.code, f.start_line) for f in run_rules(tmp_path, {"src/lib.rs": source})] == [("RO201", 6)]


def test_ro201_options_come_from_ruvopt_toml(tmp_path: Path) -> None:
    source = "pub fn f(p: *const u8) -> u8 {\n    // SAFETY: ok\n    let v = g(\n        unsafe { *p });\n    v\n}\n"
    assert run_rules(tmp_path, {"src/lib.rs": source}) == []
    config = "[rules.RO201]\naccept-comment-above-statement = false\n"
    assert [f.start_line for f in run_rules(tmp_path, {"src/lib.rs": source}, config)] == [4]


def test_ro202_fingerprint_survives_changes_to_the_impl_body(tmp_path: Path) -> None:
    before = "pub struct S;\nunsafe impl Sync for S {\n    fn x() {}\n}\n"
    after = "pub struct S;\n\nunsafe impl Sync for S {\n    fn y() {}\n}\n"
    [old] = run_rules(tmp_path, {"src/lib.rs": before})
    [new] = run_rules(tmp_path, {"src/lib.rs": after})
    assert old.code == new.code == "RO202"
    assert old.fingerprint == new.fingerprint


def test_ro203_checks_exported_fns_only_and_every_unsafe_trait(tmp_path: Path) -> None:
    files = {
        "src/lib.rs": "mod inner;\npub use inner::shown;\npub unsafe fn top() {}\nunsafe trait Private {}\n",
        "src/inner.rs": "pub unsafe fn shown() {}\npub unsafe fn unexported() {}\n",
    }
    found = sorted((f.path, f.start_line) for f in run_rules(tmp_path, files))
    assert found == [("src/inner.rs", 1), ("src/lib.rs", 3), ("src/lib.rs", 4)]


def test_ro203_binaries_export_their_pub_functions_but_not_private_ones(tmp_path: Path) -> None:
    # clippy lints a binary crate's exported items as a library's (tests/test_clippy_ro203_gaps.py).
    files = {"src/main.rs": "pub unsafe fn helper() {}\nunsafe fn private() {}\nfn main() {}\n"}
    assert [(f.path, f.start_line) for f in run_rules(tmp_path, files)] == [("src/main.rs", 1)]


def test_ro203_suggests_a_safety_section_above_the_item(tmp_path: Path) -> None:
    [finding] = run_rules(tmp_path, {"src/lib.rs": "impl S {\n    pub unsafe fn f() {}\n}\npub struct S;\n"})
    assert finding.suggestion is not None
    assert finding.suggestion.replacement == (
        "    /// # Safety\n    ///\n    /// <what the caller must guarantee>\n    pub unsafe fn f() {}"
    )
