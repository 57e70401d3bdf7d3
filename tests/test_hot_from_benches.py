"""RO501/RO502 on a repository that configured nothing: the functions its criterion benches
call are hot (``tests/fixtures/moe-router-bench``, shaped like the seed's MoE router)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ruvopt.checks.config import Config
from ruvopt.checks.engine import check
from ruvopt.checks.model import Finding
from ruvopt.checks.source import DirectoryTree, GitTree
from tests.plugins.workspaces import make_git_repo

FIXTURE = Path(__file__).parent / "fixtures" / "moe-router-bench"
ROUTER = "crates/ruvllm/src/moe/router.rs"
BENCH = "crates/ruvllm/benches/moe_routing.rs"
HOT = Config(select=("RO501", "RO502"))


def marked_lines(path: Path) -> set[tuple[str, int]]:
    """(code, line) of every `// RO50x` marker in the fixture file."""
    found = set()
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        match = re.search(r"//\s*(RO50[12])\b", line)
        if match:
            found.add((match.group(1), number))
    return found


def hot_findings(root: Path, config: Config = HOT) -> list[Finding]:
    report = check(DirectoryTree(root), config, jobs=1)
    return [f for f in report.findings if f.code in ("RO501", "RO502")]


def test_the_functions_a_criterion_bench_calls_are_hot_without_configuration() -> None:
    found = hot_findings(FIXTURE)
    assert {(f.code, f.start_line) for f in found} == marked_lines(FIXTURE / ROUTER)
    assert {f.path for f in found} == {ROUTER}  # not the bench's own setup (`logits.clone()`)


def test_each_finding_names_the_bench_that_made_its_function_hot() -> None:
    by_line = {f.start_line: f.message for f in hot_findings(FIXTURE)}
    select = f"(benchmarked by `moe/select_top_k_buffered` in `{BENCH}`)"
    route = f"(benchmarked by `moe/route` in `{BENCH}`)"
    assert all(select in message for line, message in by_line.items() if line < 33)
    assert [message for line, message in by_line.items() if line >= 33] == [
        f"Avoid `.to_vec()` in hot function `MemoryAwareRouter::route` {route}: it allocates on every call"
    ]


def test_hot_from_benches_off_in_ro501_silences_both_rules_and_in_ro502_only_ro502() -> None:
    def codes(rules: dict[str, dict[str, bool]]) -> set[str]:
        return {f.code for f in hot_findings(FIXTURE, Config(select=HOT.select, rules=rules))}

    assert codes({"RO501": {"hot-from-benches": False}}) == set()  # RO502 follows RO501 unless set
    assert codes({"RO502": {"hot-from-benches": False}}) == {"RO501"}


def test_a_function_hot_by_configuration_is_reported_once_without_the_bench(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE, root)
    config = Config(select=HOT.select, rules={"RO501": {"functions": ["MemoryAwareRouter::route"]}})
    route = [f for f in hot_findings(root, config) if f.start_line >= 33]
    assert [f.message for f in route] == [
        "Avoid `.to_vec()` in hot function `MemoryAwareRouter::route`: it allocates on every call"
    ]


def test_editing_the_bench_moves_the_hot_set_on_a_warm_cache(tmp_path: Path) -> None:
    files = {str(p.relative_to(FIXTURE)): p.read_text() for p in FIXTURE.rglob("*") if p.is_file()}
    without_route = files[BENCH].replace("router.route(&l)", "l.len()")
    repo, (base, head) = make_git_repo(tmp_path, [files, {BENCH: without_route}])
    cache = tmp_path / "cache"
    before = check(GitTree(repo, base), HOT, cache_dir=cache, jobs=1).findings
    after = check(GitTree(repo, head), HOT, cache_dir=cache, jobs=1).findings
    assert any("MemoryAwareRouter::route" in f.message for f in before)
    assert not any("MemoryAwareRouter::route" in f.message for f in after)
    fresh = check(GitTree(repo, head), HOT, cache_dir=None, jobs=1).findings
    assert [(f.code, f.path, f.start_line, f.fingerprint) for f in after] == [
        (f.code, f.path, f.start_line, f.fingerprint) for f in fresh
    ]


LIB = '[package]\nname = "kern"\nversion = "0.1.0"\nedition = "2021"\n'


def test_a_libtest_bench_body_and_type_paths_are_resolved_to_the_right_functions(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": LIB,
        "src/lib.rs": (
            "pub struct Router;\n"
            "impl Router {\n    pub fn new() -> Self {\n        let _v: Vec<u8> = Vec::new();\n"
            "        Router\n    }\n}\n"
            "pub mod other {\n    pub fn new() -> Vec<u8> {\n        vec![1]\n    }\n}\n"
            "pub fn step(x: &[u8]) -> Vec<u8> {\n    x.to_vec()\n}\n"
            "pub fn untouched(x: &[u8]) -> Vec<u8> {\n    x.to_vec()\n}\n"
        ),
        "benches/libtest.rs": (
            "#![feature(test)]\nextern crate test;\nuse test::Bencher;\n\n"
            "#[bench]\nfn bench_step(b: &mut Bencher) {\n    let r = kern::Router::new();\n"
            "    b.iter(|| kern::step(&[1, 2]));\n}\n"
        ),
    }
    root = tmp_path / "ws"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    found = {(f.start_line, f.message.split("): ")[0] + ")") for f in hot_findings(root)}
    # A `#[bench]` body is measured whole; `other::new` is a free function, not `Router::new`;
    # `untouched` is never benchmarked.
    assert found == {
        (4, "Avoid `Vec::new()` in hot function `Router::new` (benchmarked by `bench_step` in `benches/libtest.rs`)"),
        (14, "Avoid `.to_vec()` in hot function `step` (benchmarked by `bench_step` in `benches/libtest.rs`)"),
    }
