"""What ships for other people's CI and machines passes its linters and works when used:
the Dockerfile (hadolint), the workflows and the Action (actionlint, with shellcheck on
every script), the pre-commit hook (pre-commit itself, against a sample repository), and
the install path the Docker image takes (scripts/install.sh, not editable).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy_support import ROOT, tool

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def run(args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **GIT_ENV, **(env or {})}
    )


# --- Dockerfile ------------------------------------------------------------------------------


def test_the_dockerfile_is_hadolint_clean_at_the_warning_threshold():
    proc = run([tool("hadolint"), "--config", ".hadolint.yaml", "--failure-threshold", "warning", "Dockerfile"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_fails_a_dockerfile_with_a_warning(tmp_path: Path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN cd /tmp && pip install ruvopt\n")  # DL3003, DL3013
    proc = run([tool("hadolint"), "--config", str(ROOT / ".hadolint.yaml"), "--failure-threshold", "warning", str(bad)])
    assert proc.returncode != 0
    assert "DL3003" in proc.stdout


def test_each_ignored_hadolint_rule_states_its_reason():
    lines = (ROOT / ".hadolint.yaml").read_text().splitlines()
    ignored = yaml.safe_load("\n".join(lines))["ignored"]
    for rule in ignored:
        at = next(i for i, line in enumerate(lines) if line.strip() == f"- {rule}")
        reason = [line for line in lines[:at] if line.strip().startswith(f"# {rule}")]
        assert reason, f"{rule} is ignored without a reason"
        assert len(reason[0]) > 40, f"{rule} is ignored without a reason"


def test_every_user_in_the_dockerfile_is_numeric_and_the_images_end_unprivileged():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users, users
    assert all(re.fullmatch(r"\d+(:\d+)?", u) for u in users), users
    for stage in re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]:
        last = re.findall(r"^USER (\S+)$", stage, re.MULTILINE)
        if last:
            assert last[-1].split(":")[0] != "0", stage.splitlines()[0]


def test_the_image_installs_with_the_script_the_tests_use():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN bash /src/scripts/install.sh /opt/venv app" in dockerfile
    assert "bash scripts/install.sh .venv --editable test" in (ROOT / "scripts/install-test-deps.sh").read_text()
    assert "scripts/install.sh $(VENV) --editable" in (ROOT / "Makefile").read_text()


def test_the_image_install_path_gives_a_working_ruvopt_outside_the_checkout(tmp_path: Path):
    venv = tmp_path / "venv"
    proc = run(["bash", "scripts/install.sh", str(venv), "app"], timeout=600)  # what the Dockerfile runs
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = run(
        [str(venv / "bin/python"), "-c", "import ruvopt.bot, ruvopt.checks; print(ruvopt.bot.__file__)"], cwd=tmp_path
    )
    assert site.returncode == 0, site.stdout + site.stderr
    assert str(ROOT) not in site.stdout, site.stdout + site.stderr  # a copy, not the tree
    workspace = ROOT / "examples" / "sample-workspace"
    check = run(
        [str(venv / "bin/ruvopt"), "check", str(workspace), "--format", "json", "--fail-on", "never"], cwd=tmp_path
    )
    assert check.returncode == 0, check.stderr
    assert '"RO501"' in check.stdout, check.stderr
    manifest = run(
        [
            str(venv / "bin/python"),
            "-c",
            "from ruvopt.bot.receiver.registration import load_manifest_template as m; print(m()['default_events'])",
        ],
        cwd=tmp_path,
    )
    assert manifest.returncode == 0, manifest.stderr
    assert "pull_request" in manifest.stdout, manifest.stderr


# --- workflows and the Action ----------------------------------------------------------------


def actionlint(*paths: str, cwd: Path = ROOT) -> Any:
    assert shutil.which("shellcheck"), "shellcheck is not installed: run scripts/install-test-deps.sh"
    return run([tool("actionlint"), "-oneline", "-shellcheck", shutil.which("shellcheck") or "", *paths], cwd=cwd)


def test_the_workflows_pass_actionlint():
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.y*ml"))
    assert workflows
    proc = actionlint(*workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_rejects_actions_on_the_deprecated_node20_runtime(tmp_path: Path):
    workflow = tmp_path / ".github/workflows/old.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n"
    )
    proc = actionlint(str(workflow), cwd=tmp_path)
    assert proc.returncode != 0
    assert "node20" in proc.stdout


def _action_repo(tmp_path: Path) -> Path:
    """A repository holding the Action and a workflow that uses it with every input."""
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {name: "x" for name in action["inputs"]}
    workflow = {
        "on": {"pull_request": None},
        "permissions": {"contents": "read"},
        "jobs": {
            "check": {
                "runs-on": "ubuntu-24.04",
                "steps": [{"uses": "actions/checkout@v7"}, {"uses": "./", "with": inputs}],
            }
        },
    }
    (repo / ".github/workflows/use.yml").write_text(yaml.safe_dump(workflow, sort_keys=False))
    # The composite steps as a job of their own, so actionlint (and shellcheck) read them too.
    steps = {
        "on": {"workflow_call": {"inputs": {n: {"type": "string"} for n in action["inputs"]}}},
        "jobs": {"steps": {"runs-on": "ubuntu-24.04", "steps": action["runs"]["steps"]}},
    }
    (repo / ".github/workflows/steps.yml").write_text(yaml.safe_dump(steps, sort_keys=False))
    assert run(["git", "init", "-q"], cwd=repo).returncode == 0  # actionlint finds projects by .git
    return repo


def test_the_action_and_its_scripts_pass_actionlint(tmp_path: Path):
    repo = _action_repo(tmp_path)
    proc = actionlint(cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_action_passes_inputs_to_its_scripts_through_env():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"expression spliced into a script: {step['run']}"


# --- pre-commit -------------------------------------------------------------------------------


def _hook_repo(tmp_path: Path) -> tuple[Path, str]:
    """This checkout's files (committed or not) as a git repository pre-commit can install."""
    repo = tmp_path / "ruvopt"
    listed = run(["git", "ls-files", "-co", "--exclude-standard", "-z"]).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name, follow_symlinks=False)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
        assert run(["git", *args], cwd=repo).returncode == 0
    return repo, run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()


def _sample_repo(tmp_path: Path, hook_repo: Path, rev: str) -> Path:
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "examples" / "sample-workspace", sample)
    config = sample / "ruvopt.toml"
    config.write_text(config.read_text().replace('fail-on = "new"', 'fail-on = "any"'))
    (sample / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks: [{{ id: ruvopt }}]\n"
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sample"]):
        assert run(["git", *args], cwd=sample).returncode == 0
    return sample


def test_the_pre_commit_hook_runs_ruvopt_on_a_sample_repository(tmp_path: Path):
    hook_repo, rev = _hook_repo(tmp_path)
    sample = _sample_repo(tmp_path, hook_repo, rev)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    failing = run([tool("pre-commit"), "run", "--all-files"], cwd=sample, env=env, timeout=600)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "ruvopt" in failing.stdout
    assert "Failed" in failing.stdout
    assert "RO501" in failing.stdout
    untouched = run([tool("pre-commit"), "run", "--files", "README.md"], cwd=sample, env=env)
    assert untouched.returncode == 0, untouched.stdout
    assert "(no files to check)Skipped" in untouched.stdout, untouched.stdout
    config = sample / "ruvopt.toml"
    config.write_text(config.read_text().replace('fail-on = "any"', 'fail-on = "never"'))
    passing = run([tool("pre-commit"), "run", "--files", "ruvopt.toml"], cwd=sample, env=env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout, passing.stdout + passing.stderr
