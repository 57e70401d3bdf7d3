"""``action.yml``, run the way a runner runs it (:mod:`tests.actionrunner`), on a default
``actions/checkout`` (one commit, credentials persisted) of a repository served over
real git smart HTTP, for ``pull_request``, ``merge_group`` and ``push`` events built from
real webhook payloads; and ``action.yml`` checked by actionlint (with shellcheck).

The history is :mod:`tests.ci_clones`'s: the PR adds one undocumented unsafe block
(RO201 at src/a.rs:3) and ``fail-on = "any"``, so a run that sees the PR's change fails
with exactly that finding, and main's own finding (src/b.rs) never shows in diff mode.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ruvopt.cli.action import event_range
from tests.actionrunner import EXPRESSION, ActionError, ActionRun, run_action
from tests.ci_clones import TOKEN, History, build_history, checkout_like
from tests.githttp import GitHttpServer
from tests.payloads import example

ROOT = Path(__file__).resolve().parent.parent
ACTIONLINT = Path(sys.executable).parent / "actionlint"
SOURCE_PARTS = ("action.yml", "pyproject.toml", "README.md", "checks", "bot", "cli")


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action as a runner downloads it: the repository's files at one ref."""
    target = tmp_path_factory.mktemp("action") / "ruvopt"
    target.mkdir()
    for part in SOURCE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    return target


@pytest.fixture(scope="module")
def python_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What actions/setup-python puts on PATH: a Python 3.11 with pip. Its site-packages
    sees this venv's third-party packages (so the Action's `pip install` finds ruvopt's
    dependencies without downloading them), but not ruvopt: the Action installs that."""
    home = tmp_path_factory.mktemp("setup-python")
    venv.EnvBuilder(with_pip=True).create(home)
    site = next((home / "lib").glob("python3*/site-packages"))
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_relative_to(Path(sys.prefix)))
    (site / "ruvopt-test-deps.pth").write_text(ours + "\n")
    return home / "bin"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitHttpServer]:
    served = GitHttpServer(tmp_path / "served", token_ok=lambda token: token == TOKEN).start()
    yield served
    served.stop()


@pytest.fixture
def history(tmp_path: Path, server: GitHttpServer) -> History:
    return build_history(tmp_path, server)


def repository(payload: dict[str, Any]) -> None:
    payload["repository"].update(full_name="octo/demo", name="demo", default_branch="main")
    payload.pop("installation", None)  # Actions events carry no App installation


def pull_request_event(history: History) -> dict[str, Any]:
    payload = example("pull_request", "synchronize", installed=False)
    repository(payload)
    payload["number"] = payload["pull_request"]["number"] = 1
    payload["pull_request"]["base"].update(sha=history.m2, ref="main")
    payload["pull_request"]["head"].update(sha=history.p2, ref="pr")
    return payload


def merge_group_event(history: History) -> dict[str, Any]:
    payload = example("merge_group", "checks_requested", installed=False)
    repository(payload)
    payload["merge_group"].update(
        base_sha=history.m2,
        base_ref="refs/heads/main",
        head_sha=history.merge,
        head_ref=f"refs/heads/gh-readonly-queue/main/pr-1-{history.m2}",
    )
    return payload


def push_event(history: History, *, before: str, after: str, ref: str) -> dict[str, Any]:
    payload = example("push", installed=False)
    repository(payload)
    payload.update(before=before, after=after, ref=ref, created=before == "0" * 40, deleted=False)
    return payload


def act(
    action_dir: Path,
    python_dir: Path,
    workspace: Path,
    event_name: str,
    event: dict[str, Any],
    tmp_path: Path,
    **inputs: str,
) -> ActionRun:
    return run_action(
        action_dir,
        workspace,
        event_name,
        event,
        python_dir=python_dir,
        temp=tmp_path / "runner",
        inputs=inputs,
        env={"GITHUB_TOKEN": "unused-the-checkout-kept-its-credentials"},
    )


def assert_fails_on_the_prs_finding(run: ActionRun, workspace: Path) -> None:
    assert run.returncode == 1, run.stderr
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    assert annotations[0].startswith("::warning file=src/a.rs,line=3,")
    assert "RO201 undocumented-unsafe-block (new)" in annotations[0]
    assert annotations[1] == "::error title=ruvopt::1 finding(s) reported"  # the verdict
    results = json.loads((workspace / "ruvopt.sarif").read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("RO201", "src/a.rs")
    ]
    assert "src/a.rs" in run.summary
    assert "src/b.rs" not in run.summary
    assert run.outputs == {"sarif": "ruvopt.sarif", "findings": "1", "failed": "true"}


def test_pull_request_on_a_default_checkout(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.merge, "refs/remotes/pull/1/merge")
    run = act(action_dir, python_dir, workspace, "pull_request", pull_request_event(history), tmp_path)
    assert run.steps_run == ["actions/setup-python@v6", "Install ruvopt", "Run ruvopt"]
    assert_fails_on_the_prs_finding(run, workspace)
    assert f"Compared with `{history.m2[:12]}` (pull request #1: its base)." in run.summary
    assert f"fetching base commit {history.m2[:12]}" in run.stderr


def test_merge_group_on_a_default_checkout(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    event = merge_group_event(history)
    workspace = checkout_like(tmp_path, history, history.merge, event["merge_group"]["head_ref"])
    run = act(action_dir, python_dir, workspace, "merge_group", event, tmp_path)
    assert_fails_on_the_prs_finding(run, workspace)
    assert "(merge group: the queue's base)" in run.summary


def test_push_compares_with_the_commit_before(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.p2, "refs/heads/pr")
    event = push_event(history, before=history.fork, after=history.p2, ref="refs/heads/pr")
    run = act(action_dir, python_dir, workspace, "push", event, tmp_path)
    assert_fails_on_the_prs_finding(run, workspace)
    assert f"Compared with `{history.fork[:12]}` (push: the commit before it)." in run.summary


def test_a_branchs_first_push_compares_with_the_default_branch(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.p2, "refs/heads/pr")
    event = push_event(history, before="0" * 40, after=history.p2, ref="refs/heads/pr")
    run = act(action_dir, python_dir, workspace, "push", event, tmp_path)
    assert_fails_on_the_prs_finding(run, workspace)
    # The merge base of main's tip and the branch: the fork, found by deepening.
    assert f"Compared with `{history.fork[:12]}` (first push of refs/heads/pr: the tip of `main`)." in run.summary


def test_the_default_branchs_first_push_checks_the_whole_workspace(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.m2, "refs/heads/main")
    event = push_event(history, before="0" * 40, after=history.m2, ref="refs/heads/main")
    run = act(action_dir, python_dir, workspace, "push", event, tmp_path)
    assert run.returncode == 1, run.stderr
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    assert annotations[0].startswith("::warning file=src/b.rs,line=3,")
    assert "Checked first push of the default branch: the whole workspace." in run.summary


def test_what_cannot_be_had_is_one_sentence_in_the_log_and_the_summary(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.merge, "refs/remotes/pull/1/merge")
    run = act(action_dir, python_dir, workspace, "pull_request", pull_request_event(history), tmp_path, fetch="false")
    assert run.returncode == 2
    sentence = (
        f"base commit {history.m2} is not in this shallow clone and --no-fetch is set; let ruvopt "
        "fetch it (drop --no-fetch) or check out the full history (`fetch-depth: 0` in actions/checkout)"
    )
    assert run.stderr.strip().splitlines()[-1] == f"ruvopt github-action: {sentence}"
    assert run.stdout.strip() == f"::error title=ruvopt could not run::{sentence}"
    assert run.summary == f"### ruvopt could not run\n\n{sentence}\n"
    assert "Traceback" not in run.stderr


# -- static checks --------------------------------------------------------------------


def test_asked_to_the_action_uploads_the_sarif_of_a_failing_check(
    action_dir: Path, python_dir: Path, history: History, tmp_path: Path
) -> None:
    workspace = checkout_like(tmp_path, history, history.merge, "refs/remotes/pull/1/merge")
    event = pull_request_event(history)
    run = act(action_dir, python_dir, workspace, "pull_request", event, tmp_path, **{"upload-sarif": "true"})
    assert_fails_on_the_prs_finding(run, workspace)  # the failing step did not stop the upload
    assert run.steps_run[-1] == "Upload SARIF to code scanning"
    assert run.uploads == [{"sarif_file": "ruvopt.sarif", "category": "ruvopt"}]


def test_by_default_nothing_is_uploaded(action_dir: Path, python_dir: Path, history: History, tmp_path: Path) -> None:
    workspace = checkout_like(tmp_path, history, history.merge, "refs/remotes/pull/1/merge")
    run = act(action_dir, python_dir, workspace, "pull_request", pull_request_event(history), tmp_path)
    assert run.uploads == []
    assert "Upload SARIF to code scanning" not in run.steps_run


def test_the_runner_runs_a_step_after_a_failure_only_when_its_condition_asks(tmp_path: Path, python_dir: Path) -> None:
    action = tmp_path / "steps"
    action.mkdir()
    (action / "action.yml").write_text(
        "name: s\ndescription: d\nruns:\n  using: composite\n  steps:\n"
        "    - {name: fails, shell: bash, run: exit 3}\n"
        "    - {name: skipped, shell: bash, run: exit 0}\n"
        "    - {name: always, if: always(), shell: bash, run: exit 0}\n"
        "    - {name: on-failure, if: '${{ failure() }}', shell: bash, run: exit 0}\n"
        "    - {name: on-success, if: '${{ success() }}', shell: bash, run: exit 0}\n"
    )
    one_empty_commit(tmp_path / "ws")
    run = run_action(action, tmp_path / "ws", "push", {}, python_dir=python_dir, temp=tmp_path / "t")
    assert run.steps_run == ["fails", "always", "on-failure"]
    assert run.returncode == 3


def one_empty_commit(repo: Path) -> None:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "-C", str(repo), *identity, "commit", "-q", "--allow-empty", "-m", "x"], check=True)


def test_no_input_is_pasted_into_a_script() -> None:
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert scripts
    assert not any(EXPRESSION.search(script) for script in scripts)


def test_the_runner_refuses_a_pasted_expression(tmp_path: Path, python_dir: Path) -> None:
    action = tmp_path / "bad"
    action.mkdir()
    (action / "action.yml").write_text(
        "name: bad\ndescription: d\ninputs: {x: {description: x}}\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo ${{ inputs.x }}\n"
    )
    one_empty_commit(tmp_path / "ws")
    with pytest.raises(ActionError, match="through env"):
        run_action(action, tmp_path / "ws", "push", {}, python_dir=python_dir, temp=tmp_path / "t", inputs={"x": "1"})


def lint_project(tmp_path: Path, workflow: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """actionlint over a project holding this action.yml and ``workflow``."""
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)  # actionlint resolves `./` in a repository
    shutil.copy2(ROOT / "action.yml", project / "action.yml")
    (project / ".github" / "workflows" / "ci.yml").write_text(yaml.safe_dump(workflow, sort_keys=False))
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck", shutil.which("shellcheck") or ""],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def using_workflow(**inputs: str) -> dict[str, Any]:
    return {
        "name": "ruvopt",
        "on": ["pull_request", "merge_group", "push"],
        "jobs": {
            "check": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v5"},
                    {"id": "ruvopt", "uses": "./", "with": inputs},
                    {"run": 'echo "failed=$FAILED"', "env": {"FAILED": "${{ steps.ruvopt.outputs.failed }}"}},
                ],
            }
        },
    }


def test_actionlint_accepts_a_workflow_using_the_action(tmp_path: Path) -> None:
    done = lint_project(tmp_path, using_workflow(path=".", **{"fail-on": "new"}))
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = lint_project(tmp_path, using_workflow(pathh="."))  # it does read action.yml's inputs
    assert wrong.returncode == 1
    assert 'input "pathh" is not defined in action "ruvopt"' in wrong.stdout


def composite_as_workflow(spec: dict[str, Any]) -> dict[str, Any]:
    """The composite steps as a reusable workflow's job, so actionlint checks their
    expressions and shellcheck their scripts (actionlint lints workflows, not actions)."""
    inputs = {name: {"type": "string", "required": False} for name in spec["inputs"]}
    return {
        "name": "composite",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"]}},
    }


def test_actionlint_and_shellcheck_accept_the_composite_steps(tmp_path: Path) -> None:
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    done = lint_project(tmp_path, composite_as_workflow(spec))
    assert done.returncode == 0, done.stdout + done.stderr
    last_script = [step for step in spec["runs"]["steps"] if "run" in step][-1]
    last_script["run"] += "echo $RUVOPT_PATH\n"  # shellcheck does run: SC2086
    broken = lint_project(tmp_path, composite_as_workflow(spec))
    assert broken.returncode == 1
    assert "SC2086" in broken.stdout


def test_events_without_a_base_check_the_whole_workspace() -> None:
    assert event_range("workflow_dispatch", {"inputs": {}}, None).base is None
    assert event_range("schedule", {"schedule": "0 0 * * *"}, None).base is None
    first_on_default = {"before": "0" * 40, "ref": "refs/heads/main", "repository": {"default_branch": "main"}}
    assert event_range("push", first_on_default, None).base is None
