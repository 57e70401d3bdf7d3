"""RO203 against real ``cargo clippy`` 0.1.95 on the two behaviours it used to miss:

- ``pub unsafe fn``s a *binary* exports (``src/main.rs``, ``src/bin/*.rs`` and their ``pub
  mod``s) are linted like a library's;
- an ``unsafe fn`` written in a local ``macro_rules!`` body is reported at its definition
  inside the macro, once, when an invocation puts it where it is exported — not for a
  macro never invoked, invoked in a private module or a function body, defining a trait
  impl's method, ``pub(crate)`` or allowed.

The crate is ``tests/fixtures/clippy-ro203-gaps``, built offline with ``--lib --bins``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import clippy_support as cs

pytestmark = pytest.mark.clippy

FIXTURE = Path(__file__).parent / "fixtures" / "clippy-ro203-gaps"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[cs.ClippyRun, cs.RuvoptRun]:
    crate = cs.copy_fixture_crate(FIXTURE, tmp_path_factory.mktemp("gaps"))
    return cs.run_clippy(crate, "clippy-ro203-gaps", {}, ("--bins",)), cs.ruvopt_run(crate, {})


def test_ro203_matches_clippy_on_binaries_and_local_macros(runs: tuple[cs.ClippyRun, cs.RuvoptRun]) -> None:
    clippy, ruvopt = runs
    assert sorted(ruvopt.missing_doc) == sorted(clippy.missing_doc)


def test_clippy_reports_binaries_and_macro_definitions_in_the_fixture(runs: tuple[cs.ClippyRun, cs.RuvoptRun]) -> None:
    # The comparison above proves something only if both behaviours occur in clippy's answer.
    clippy, _ = runs
    files = {path for path, _, _ in clippy.missing_doc}
    assert {"src/main.rs", "src/tools.rs", "src/bin/extra.rs"} <= files
    macro_lines = {line for path, line, column in clippy.missing_doc if path == "src/lib.rs" and column > 1}
    assert len(macro_lines) == 3  # `reader!`, `method_maker!`, `inner_reader!` definitions
