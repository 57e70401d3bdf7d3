"""Diff mode in the clones CI really makes — shallow, blobless, incomplete — over real
git smart HTTP (``git http-backend`` with ``uploadpack.allowFilter``), with the objects
each run fetched counted on the server side.

The answer on every clone is the answer on a full clone: the one new finding is the PR's
undocumented unsafe block in src/a.rs, and main's own (src/b.rs, after the fork) is
neither new nor fixed — which needs the true merge base. What cannot be had is one
sentence on stderr (exit 2) that names what is missing and the fix, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ruvopt.bot.git.mirror import fetch
from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.source import MissingBlobError
from ruvopt.cli.clone import DEEPEN_STEPS, MAX_DEEPEN
from tests.ci_clones import (
    ASSETS,
    TOKEN,
    History,
    blob_of,
    blobless,
    build_history,
    checkout_like,
    client_env,
    delete_loose_object,
    full_clone,
    missing_objects,
    ruvopt,
)
from tests.githttp import GitHttpServer
from tests.plugins.workspaces import git

RULE_FILES = ("Cargo.toml", "ruvopt.toml", "README.md", ".rs")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitHttpServer]:
    served = GitHttpServer(tmp_path / "served", token_ok=lambda token: token == TOKEN).start()
    yield served
    served.stop()


@pytest.fixture
def history(tmp_path: Path, server: GitHttpServer) -> History:
    return build_history(tmp_path, server)


def check_json(clone: Path, base: str, head: str, *extra: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    run = ruvopt(clone, "check", ".", "--base", base, "--head", head, "--format", "json", "--no-cache", *extra, env=env)
    assert run.returncode == 1, run.stderr  # fail-on = "any" and the PR adds a finding
    assert "Traceback" not in run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def assert_pr_result(report: dict) -> None:  # type: ignore[type-arg]
    """The PR's one finding, nothing of main's: the merge base was the true one."""
    reported = [(f["code"], f["path"], f["line"], f["new"]) for f in report["findings"]]
    assert reported == [("RO201", "src/a.rs", 3, True)]


def rule_blobs(repo: Path, *commits: str) -> set[str]:
    """Blob ids of the files the rules read, in these commits (worked out with git alone)."""
    blobs = set()
    for commit in commits:
        for line in git(repo, "ls-tree", "-r", commit).splitlines():
            meta, path = line.split("\t", 1)
            if path.endswith(RULE_FILES):
                blobs.add(meta.split()[2])
    return blobs


def asset_blobs(repo: Path, *commits: str) -> set[str]:
    return {blob_of(repo, c, f"assets/data{n:02}.bin") for c in commits for n in range(ASSETS)}


def single_sentence_error(stderr: str) -> str:
    """The one error line (``ruvopt check: …``); the rest may only be ``ruvopt:`` progress notes."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    errors = [line for line in lines if not line.startswith("ruvopt: ")]
    assert len(errors) == 1, stderr
    assert errors[0].startswith(("ruvopt check: ", "ruvopt review: ")), stderr
    assert errors[0].count("; ") == 1, errors[0]
    assert not errors[0].rstrip("`").endswith("."), errors[0]  # one sentence
    return errors[0]


def test_full_clone_gives_the_reference_answer(tmp_path: Path, history: History) -> None:
    clone = full_clone(tmp_path, history)
    since = len(history.server.requests)
    assert_pr_result(check_json(clone, history.m2, history.p2))
    assert history.server.objects_sent(since) == 0  # a full clone fetches nothing


def test_shallow_checkout_fetches_the_base_and_deepens_to_the_merge_base(tmp_path: Path, history: History) -> None:
    clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    since = len(history.server.requests)
    run = ruvopt(clone, "check", ".", "--base", history.m2, "--head", "HEAD", "--format", "json", "--no-cache")
    assert run.returncode == 1, run.stderr
    assert_pr_result(json.loads(run.stdout))
    assert f"fetching base commit {history.m2[:12]}" in run.stderr
    assert "deepening the shallow clone" in run.stderr
    # What came: the commits back to the fork with their trees (4 directories, so 4 trees
    # each at most) and the rule files of fork and base the checkout lacked; never an
    # asset the base or the fork changed.
    commits = len(git(history.source, "rev-list", history.m2, history.p2).split())  # the fork is the root
    assert commits == 5
    lacked = rule_blobs(history.source, history.fork, history.m2) - rule_blobs(history.source, history.p2)
    assert history.server.objects_sent(since) <= commits * 4 + len(lacked)
    untouched = asset_blobs(history.source, history.m2, history.fork) - asset_blobs(history.source, history.p2)
    assert untouched
    assert untouched <= missing_objects(clone, history.m2, history.fork)


def test_blobless_clone_fetches_only_rule_blobs_in_batches(tmp_path: Path, history: History) -> None:
    clone = blobless(tmp_path, history)
    assert missing_objects(clone, history.p2) >= asset_blobs(history.source, history.p2)
    since = len(history.server.requests)
    assert_pr_result(check_json(clone, history.m2, "origin/pr"))
    needed = rule_blobs(history.source, history.m2, history.fork, history.p2)
    assert history.server.objects_sent(since) <= len(needed)
    packs = [r for r in history.server.requests[since:] if r.objects]
    assert 1 <= len(packs) <= 4 < len(needed)  # batches per tree, not one request per blob
    every_asset = asset_blobs(history.source, history.m2, history.fork, history.p2)
    assert every_asset <= missing_objects(clone, history.m2, history.p2)


def test_treeless_clone_fetches_the_trees_then_only_rule_blobs(tmp_path: Path, history: History) -> None:
    clone = blobless(tmp_path, history, spec="tree:0")
    since = len(history.server.requests)
    assert_pr_result(check_json(clone, history.m2, "origin/pr"))
    trees = len(git(history.source, "ls-tree", "-r", "-d", history.fork).split("\n")) + 1  # + the root
    commits = 3  # base, fork and head: their trees, each fetched once by its root
    needed = rule_blobs(history.source, history.m2, history.fork, history.p2)
    assert history.server.objects_sent(since) <= commits * trees + len(needed)
    assert asset_blobs(history.source, history.m2, history.fork, history.p2) <= missing_objects(
        clone, history.m2, history.p2
    )


def test_a_missing_blob_no_rule_reads_is_ignored(tmp_path: Path, history: History) -> None:
    clone = full_clone(tmp_path, history, loose=True)
    for oid in asset_blobs(history.source, history.fork, history.m2, history.p2):
        delete_loose_object(clone, oid)
    assert_pr_result(check_json(clone, history.m2, "origin/pr"))
    review = ruvopt(clone, "review", ".", "--base", history.m2, "--head", "origin/pr", "--no-cache")
    assert review.returncode == 1, review.stderr
    assert "src/a.rs line 3 (RIGHT)" in review.stdout


def test_a_missing_rust_blob_without_a_promisor_is_one_sentence(tmp_path: Path, history: History) -> None:
    clone = full_clone(tmp_path, history, loose=True)
    lost = blob_of(history.source, history.p2, "src/m3.rs")
    delete_loose_object(clone, lost)
    for command in ("check", "review"):
        run = ruvopt(clone, command, ".", "--base", history.m2, "--head", "origin/pr", "--no-cache")
        assert run.returncode == 2
        line = single_sentence_error(run.stderr)
        assert f"`src/m3.rs` (blob {lost[:12]}) is not in the clone's object store" in line
        assert "no promisor remote" in line
        assert "git fetch --refetch origin" in line


def test_a_blobless_clone_with_no_fetch_names_the_first_missing_file(tmp_path: Path, history: History) -> None:
    clone = blobless(tmp_path, history)
    since = len(history.server.requests)
    run = ruvopt(clone, "check", ".", "--base", history.m2, "--head", "origin/pr", "--no-fetch", "--no-cache")
    assert run.returncode == 2
    line = single_sentence_error(run.stderr)
    assert "is not in the clone's object store and fetching is turned off" in line
    assert "--no-fetch" in line
    assert history.server.objects_sent(since) == 0


@pytest.mark.parametrize("how", ["no-fetch", "no-remote", "full-clone"])
def test_a_base_the_clone_lacks_and_may_not_fetch_is_one_sentence(tmp_path: Path, history: History, how: str) -> None:
    if how == "full-clone":
        clone = full_clone(tmp_path, history)
        git(clone, "update-ref", "-d", "refs/remotes/origin/main")  # the clone is older than the base
        git(clone, "reset", "-q", "--hard", history.p2)
        git(clone, "reflog", "expire", "--expire=now", "--all")
        git(clone, "gc", "-q", "--prune=now")
    else:
        clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr")
        if how == "no-remote":
            git(clone, "remote", "remove", "origin")
    extra = ["--no-fetch"] if how == "no-fetch" else []
    run = ruvopt(clone, "check", ".", "--base", history.m2, "--head", "HEAD", *extra)
    assert run.returncode == 2
    line = single_sentence_error(run.stderr)
    assert f"base commit {history.m2} is not in this" in line
    expected_fix = {
        "no-fetch": "drop --no-fetch",
        "no-remote": "no remote to fetch it from",
        "full-clone": f"`git fetch origin {history.m2}`",
    }[how]
    assert expected_fix in line


def test_a_base_that_is_not_a_commit_id_is_one_sentence(tmp_path: Path, history: History) -> None:
    clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr")
    run = ruvopt(clone, "check", ".", "--base", "main", "--head", "HEAD")
    assert run.returncode == 2
    assert "base `main` does not name a commit in this clone" in single_sentence_error(run.stderr)


def test_shallow_with_no_fetch_does_not_guess_a_merge_base(tmp_path: Path, history: History) -> None:
    """Both commits present but the history between cut off: an error, not a diff against
    the base tip that would blame the PR for main's commits."""
    clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr")
    git_fetch = ["fetch", "-q", "--depth=1", "origin", history.m2]
    git(clone, *git_fetch)  # with the persisted header
    run = ruvopt(clone, "check", ".", "--base", history.m2, "--head", "HEAD", "--no-fetch")
    assert run.returncode == 2
    assert "have no common ancestor in this shallow clone" in single_sentence_error(run.stderr)


def test_deepening_is_bounded_and_says_when_it_gives_up(tmp_path: Path, history: History) -> None:
    # main gains more commits after the fork than ruvopt will deepen by.
    stream = "".join(
        f"commit refs/heads/main\ncommitter t <t@t> {1_700_100_000 + n} +0000\ndata 3\nc{n % 10}\n"
        + (f"from {history.m2}\n" if n == 0 else "")
        + "\n"
        for n in range(MAX_DEEPEN + 10)
    )
    git_stdin(history.source, stream.encode(), "fast-import", "--quiet")
    history.server.update_repo("octo/demo", history.source)
    tip = git(history.source, "rev-parse", "main")
    clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr")
    run = ruvopt(clone, "check", ".", "--base", tip, "--head", "HEAD")
    assert run.returncode == 2
    line = single_sentence_error(run.stderr)
    assert f"no merge base within the {MAX_DEEPEN} commits ruvopt fetched before giving up" in line
    assert "fetch-depth: 0" in line
    assert run.stderr.count("deepening the shallow clone") == len(DEEPEN_STEPS)


def test_a_token_from_the_environment_fetches_and_stays_out_of_argv_and_config(
    tmp_path: Path, history: History
) -> None:
    clone = checkout_like(tmp_path, history, history.p2, "refs/remotes/origin/pr", persist_credentials=False)
    trace = tmp_path / "git-trace.log"
    denied = ruvopt(clone, "check", ".", "--base", history.m2, "--head", "HEAD", "--no-cache")
    assert denied.returncode == 2
    assert "could not fetch base commit" in single_sentence_error(denied.stderr)
    assert "RUVOPT_FETCH_TOKEN" in denied.stderr
    env = {"RUVOPT_FETCH_TOKEN": TOKEN, "GIT_TRACE": str(trace)}
    assert_pr_result(check_json(clone, history.m2, "HEAD", env=env))
    assert "git fetch" in trace.read_text() or "'fetch'" in trace.read_text()
    for text in (trace.read_text(), (clone / ".git" / "config").read_text()):
        assert TOKEN not in text


async def test_the_apps_mirror_reads_no_blob_the_rules_do_not_need(tmp_path: Path, history: History) -> None:
    """The mirror keeps full objects, but the review reads trees through the same lean path:
    with every asset blob gone from it the review is the same, and a lost `.rs` blob is a
    GitError (the job's retry fetches again), not a crash."""
    mirror = await fetch(tmp_path / "cache", "octo/demo", history.url, TOKEN, [history.m2, history.p2])
    packs = tmp_path / "mirror-packs"
    (mirror / "objects" / "pack").rename(packs)
    (mirror / "objects" / "pack").mkdir()
    for pack in packs.glob("*.pack"):
        git_stdin(mirror, pack.read_bytes(), "unpack-objects", "-q")
    for oid in asset_blobs(history.source, history.fork, history.m2, history.p2):
        (mirror / "objects" / oid[:2] / oid[2:]).unlink()
    result = check_diff(mirror, history.m2, history.p2, cache_dir=tmp_path / "results")
    assert [(f.code, f.path, f.start_line) for f in result.new_findings] == [("RO201", "src/a.rs", 3)]
    assert result.merge_base == history.fork
    lost = blob_of(history.source, history.p2, "src/a.rs")
    (mirror / "objects" / lost[:2] / lost[2:]).unlink()
    with pytest.raises(MissingBlobError, match=r"`src/a\.rs`"):
        check_diff(mirror, history.m2, history.p2, cache_dir=None)


def git_stdin(repo: Path, data: bytes, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], input=data, env=client_env(), check=True, capture_output=True)
