"""What a CI checkout lacks, fetched — or one sentence that says what is missing and how to fix it.

``actions/checkout`` clones one commit by default (``fetch-depth: 1``), and large
repositories are cloned blobless (``--filter=blob:none``). Diff mode needs the base
commit, the merge base of base and head, and the blobs the rules read:

- a base (or head) commit id the clone lacks is fetched exactly, when the clone is
  shallow or partial and has a remote: ``git fetch --depth=1 --filter=blob:none origin
  <sha>`` (no ``--depth`` in a full-history partial clone, which must not turn shallow).
  The filter makes the clone partial, so the base's blobs come later, only those read;
- in a shallow clone the merge base may lie beyond the history fetched: the clone is
  deepened step by step (:data:`DEEPEN_STEPS`) and ruvopt gives up, saying so, after
  :data:`MAX_DEEPEN` commits;
- in a partial clone, the blobs the rules read come in one fetch per batch
  (:meth:`Clone.fetch_blobs`, handed to :func:`ruvopt.checks.diff.mode.check_diff`), and
  in a treeless one (``--filter=tree:0``) the trees of each commit read, by its root.

Anything else — no remote, a full clone, ``--no-fetch`` — is a :class:`CloneError`.
A token for the fetch (``RUVOPT_FETCH_TOKEN``) travels as an ``http.<origin>/.extraheader``
set in the environment of the fetch alone, never in argv, a URL or ``.git/config``; it is
not used when the clone already has a header for that remote (``actions/checkout``
persists one).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruvopt.checks.source import GitError, is_partial_clone, is_shallow_clone, run_git

TOKEN_ENV = "RUVOPT_FETCH_TOKEN"
FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
DEEPEN_STEPS = (1, 4, 16, 64, 256, 1024)  # commits added per round trip
MAX_DEEPEN = sum(DEEPEN_STEPS)
FETCH_TIMEOUT_S = 600
FETCH_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}


class CloneError(GitError):
    """The clone lacks something diff mode needs and it cannot (or may not) be fetched."""


def _stderr_note(message: str) -> None:
    print(f"ruvopt: {message}", file=sys.stderr)


@dataclass
class Clone:
    repo: Path
    allow_fetch: bool = True
    note: Callable[[str], None] = _stderr_note
    remote: str | None = None
    remote_url: str = ""
    shallow: bool = False
    partial: bool = False

    @classmethod
    def open(cls, repo: Path, *, allow_fetch: bool = True, note: Callable[[str], None] = _stderr_note) -> Clone:
        clone = cls(repo, allow_fetch, note)
        clone.remote = _fetch_remote(repo)
        if clone.remote is not None:
            clone.remote_url = _config(repo, f"remote.{clone.remote}.url") or ""
        clone.refresh()
        return clone

    def refresh(self) -> None:
        self.shallow, self.partial = is_shallow_clone(self.repo), is_partial_clone(self.repo)

    @property
    def can_fetch(self) -> bool:
        return self.allow_fetch and self.remote is not None and (self.shallow or self.partial)

    def kind(self) -> str:
        return " and ".join(k for k, on in (("shallow", self.shallow), ("partial", self.partial)) if on) or "full"

    # -- commits -------------------------------------------------------------------------

    def resolve(self, rev: str, role: str) -> str:
        """The commit id of ``rev``, fetching a commit id the clone lacks when it may."""
        sha = _rev_parse(self.repo, rev)
        if sha is not None:
            return sha
        if not FULL_SHA.match(rev):
            raise CloneError(
                f"{role} `{rev}` does not name a commit in this clone; pass a full commit id (ruvopt fetches a "
                f"missing one into a shallow or partial clone) or fetch the ref first (`git fetch origin {rev}`)"
            )
        if not self.can_fetch:
            raise CloneError(self._cannot_fetch(f"{role} commit {rev}", rev))
        depth = ["--depth=1"] if self.shallow else []
        self.note(f"fetching {role} commit {rev[:12]} from {self.remote} (the clone is {self.kind()})")
        self._fetch([*depth, "--filter=blob:none"], [rev], f"{role} commit {rev}")
        self.refresh()
        sha = _rev_parse(self.repo, rev)
        if sha is None:
            raise CloneError(f"{self.remote} did not send {role} commit {rev}; check that it still exists there")
        return sha

    def ensure_merge_base(self, base: str, head: str) -> None:
        """Deepen a shallow clone until ``base`` and ``head`` have a merge base (bounded)."""
        if not self.shallow or _has_merge_base(self.repo, base, head):
            return
        if not self.can_fetch:
            return  # check_diff says there is no merge base in this shallow clone, and the fix
        added = 0
        for step in DEEPEN_STEPS:
            added += step
            self.note(
                f"deepening the shallow clone by {step} commit(s) to find the merge base of {base[:12]} and {head[:12]}"
            )
            self._fetch([f"--deepen={step}", "--filter=blob:none"], [base, head], "more history")
            self.refresh()
            if not self.shallow or _has_merge_base(self.repo, base, head):
                return  # found, or the whole history is here and the two are unrelated
        raise CloneError(
            f"base {base[:12]} and head {head[:12]} have no merge base within the {added} commits ruvopt fetched "
            "before giving up; check out the full history (`fetch-depth: 0` in actions/checkout)"
        )

    def fetch_branch(self, name: str) -> str | None:
        """The tip of branch ``name`` of the remote (fetched at depth 1 if missing), or None."""
        tracking = f"refs/remotes/{self.remote}/{name}" if self.remote else None
        if tracking is not None and (sha := _rev_parse(self.repo, tracking)) is not None:
            return sha
        if tracking is None or not self.can_fetch:
            return None
        depth = ["--depth=1"] if self.shallow else []
        self.note(f"fetching branch {name} from {self.remote} to compare with")
        self._fetch([*depth, "--filter=blob:none"], [f"+refs/heads/{name}:{tracking}"], f"branch {name}")
        self.refresh()
        return _rev_parse(self.repo, tracking)

    # -- blobs ---------------------------------------------------------------------------

    def blob_fetcher(self) -> Callable[[list[str]], None] | None:
        """What :func:`check_diff` may call to fetch missing blobs: only in a partial clone."""
        self.refresh()
        return self.fetch_blobs if self.allow_fetch and self.partial and self.remote is not None else None

    def fetch_blobs(self, blob_ids: list[str]) -> None:
        """Fetch these blobs (or a root tree, in a treeless clone) in one request, the way
        git's own lazy fetch asks for them; ``--filter=blob:none`` keeps a tree's blobs out."""
        self.note(f"fetching {len(blob_ids)} object(s) the check reads from {self.remote} (partial clone)")
        self._fetch(
            ["--filter=blob:none", "--stdin"],
            [],
            f"{len(blob_ids)} object(s)",
            stdin="".join(f"{b}\n" for b in blob_ids),
            negotiate=False,
        )

    # -- plumbing ------------------------------------------------------------------------

    def _fetch(
        self, options: Sequence[str], refs: Sequence[str], what: str, *, stdin: str = "", negotiate: bool = True
    ) -> None:
        assert self.remote is not None
        config = [] if negotiate else ["-c", "fetch.negotiationAlgorithm=noop"]
        argv = [
            "git",
            "-C",
            str(self.repo),
            *config,
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            *options,
            self.remote,
            *refs,
        ]
        try:
            proc = subprocess.run(
                argv,
                input=stdin.encode(),
                capture_output=True,
                timeout=FETCH_TIMEOUT_S,
                env={**os.environ, **FETCH_ENV, **self._auth_env()},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CloneError(
                f"fetching {what} from {self.remote} took over {FETCH_TIMEOUT_S} s; "
                "check the network or check out the history it needs"
            ) from None
        if proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            why = lines[-1] if lines else "no message"
            raise CloneError(
                f"could not fetch {what} from {self.remote} ({why}); check that it is reachable "
                f"and that the clone's credentials or {TOKEN_ENV} can read it"
            )

    def _auth_env(self) -> dict[str, str]:
        token = os.environ.get(TOKEN_ENV, "")
        if not token or not self.remote_url.startswith(("https://", "http://")):
            return {}
        if _has_extraheader(self.repo, self.remote_url):
            return {}  # actions/checkout's persisted header: a second Authorization would clash
        from ruvopt.bot.git.mirror import auth_env

        return auth_env(token, self.remote_url)

    def _cannot_fetch(self, what: str, rev: str) -> str:
        if self.remote is None:
            return (
                f"{what} is not in this clone, which has no remote to fetch it from; "
                "fetch it into the clone before running ruvopt"
            )
        if not self.allow_fetch:
            return (
                f"{what} is not in this {self.kind()} clone and --no-fetch is set; let ruvopt fetch it (drop "
                "--no-fetch) or check out the full history (`fetch-depth: 0` in actions/checkout)"
            )
        return (
            f"{what} is not in this clone; fetch it (`git fetch {self.remote} {rev}`) "
            "or check out the full history (`fetch-depth: 0` in actions/checkout)"
        )


def _config(repo: Path, key: str) -> str | None:
    try:
        return run_git(repo, "config", "--get", key).decode().strip()
    except GitError:
        return None


def _fetch_remote(repo: Path) -> str | None:
    """``origin``, else the promisor remote of a partial clone, else the only remote."""
    remotes = run_git(repo, "remote").decode().split()
    if "origin" in remotes:
        return "origin"
    promisors = [r for r in remotes if (_config(repo, f"remote.{r}.promisor") or "").lower() == "true"]
    if promisors:
        return promisors[0]
    return remotes[0] if len(remotes) == 1 else None


def _has_extraheader(repo: Path, url: str) -> bool:
    try:
        return bool(run_git(repo, "config", "--get-urlmatch", "http.extraheader", url).strip())
    except GitError:
        return False


def _rev_parse(repo: Path, rev: str) -> str | None:
    try:
        return run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip() or None
    except GitError:
        return None


def _has_merge_base(repo: Path, base: str, head: str) -> bool:
    try:
        return bool(run_git(repo, "merge-base", base, head).strip())
    except GitError:
        return False


def prepare(
    repo: Path, base: str, head: str, *, allow_fetch: bool = True, note: Callable[[str], None] = _stderr_note
) -> Clone:
    """Make ``base``, ``head`` and their merge base available in ``repo`` (see the module)."""
    clone = Clone.open(repo, allow_fetch=allow_fetch, note=note)
    base_sha = clone.resolve(base, "base")
    head_sha = clone.resolve(head, "head")
    clone.ensure_merge_base(base_sha, head_sha)
    return clone
