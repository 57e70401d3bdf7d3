"""Hot-function patterns: `[PATH_GLOB::]NAME_GLOB::…` and `// ruvopt: hot` markers."""

from __future__ import annotations

import pytest

from ruvopt.checks.config import Config
from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import paths as hotpath
from ruvopt.checks.registry import wanted_kinds_for

SOURCE = """\
pub struct MemoryAwareRouter;
pub trait Route { fn route(&self) {} fn declared(&self); }

impl MemoryAwareRouter {
    pub fn select_top_k(&self) {}
    pub fn select_top_k_buffered(&mut self) {}
    fn other(&self) {
        fn select_top_k_inner() {}
    }
}

impl<T: Copy> Route for &mut Wrapper<T> {
    fn route(&self) {}
}

mod moe {
    mod deep {
        impl super::MemoryAwareRouter {
            pub fn select_top_k_nested(&self) {}
        }
        pub fn select_top_k() {}
    }
}

// ruvopt: hot
/// Doc comments and attributes may sit between the marker and the `fn`.
#[inline]
pub fn marked() {}

pub fn unmarked() {} // ruvopt: hot
pub fn after_trailing_marker() {}
"""
PATH = "crates/ruvllm/src/moe/router.rs"


def hot(patterns: list[str], path: str = PATH, source: str = SOURCE) -> list[str]:
    ctx = FileContext(path, source.encode(), Config(), wanted_kinds_for(Config()))
    return [f.display for f in hotpath.hot_functions(ctx, patterns)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param(
            "crates/ruvllm/src/moe/router.rs::MemoryAwareRouter::select_top_k*",
            [
                "MemoryAwareRouter::select_top_k",
                "MemoryAwareRouter::select_top_k_buffered",
                "moe::deep::MemoryAwareRouter::select_top_k_nested",
            ],
            id="path-type-fn",
        ),
        pytest.param(
            "select_top_k*",
            [
                "MemoryAwareRouter::select_top_k",
                "MemoryAwareRouter::select_top_k_buffered",
                "MemoryAwareRouter::other::select_top_k_inner",
                "moe::deep::MemoryAwareRouter::select_top_k_nested",
                "moe::deep::select_top_k",
            ],
            id="bare-name-anywhere",
        ),
        pytest.param("Wrapper::route", ["Wrapper::route"], id="impl-trait-for-reference-to-generic-type"),
        pytest.param("Route::*", ["Route::route"], id="trait-default-method-with-a-body-only"),
        pytest.param("deep::select_top_k", ["moe::deep::select_top_k"], id="inline-module"),
        pytest.param("other::*", ["MemoryAwareRouter::other::select_top_k_inner"], id="fn-nested-in-fn"),
        pytest.param("crates/*/src/**/router.rs::other", ["MemoryAwareRouter::other"], id="path-globs"),
        pytest.param("crates/*/src/*.rs::other", [], id="star-stays-in-one-segment"),
        pytest.param("crates/ruvllm/src/lib.rs::select_top_k", [], id="other-file"),
        pytest.param("Router::select_top_k", [], id="segments-match-whole-names"),
    ],
)
def test_patterns_match_qualified_names(pattern: str, expected: list[str]) -> None:
    assert sorted(hot([pattern])) == sorted([*expected, "marked"])


def test_a_path_alone_makes_every_function_of_the_file_hot() -> None:
    assert len(hot(["crates/ruvllm/src/moe/*.rs"])) == 11  # every fn with a body


def test_the_marker_comment_must_be_on_its_own_line_above_the_fn() -> None:
    assert hot([]) == ["marked"]


def test_no_patterns_and_no_marker_means_no_hot_functions() -> None:
    assert hot([], source=SOURCE.replace("// ruvopt: hot", "// not hot")) == []


def test_an_empty_pattern_matches_nothing() -> None:
    assert hot(["", "::", "  "]) == ["marked"]
