"""Run a composite action (``action.yml``) on this machine the way a GitHub runner does.

For each step, in order: ``${{ … }}`` in ``env:``/``with:`` values are evaluated against
the ``inputs`` (defaults from action.yml), ``github`` and ``steps`` contexts; a ``run:``
script is written to a file and run as ``bash --noprofile --norc -eo pipefail FILE`` in
``GITHUB_WORKSPACE`` with the runner's variables (``GITHUB_EVENT_NAME``,
``GITHUB_EVENT_PATH`` holding the event JSON, ``GITHUB_SHA``, ``GITHUB_REF``,
``GITHUB_ACTION_PATH``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``, ``GITHUB_ENV``,
``GITHUB_PATH``, ``RUNNER_TEMP``…); afterwards its ``GITHUB_OUTPUT`` becomes
``steps.<id>.outputs`` and its ``GITHUB_ENV``/``GITHUB_PATH`` apply to later steps, and
the job summary collects each step's ``GITHUB_STEP_SUMMARY``. A failing step stops the run.

A step's ``if:`` is evaluated as a runner does for the forms action.yml uses (``&&`` of
``always()``, ``!cancelled()``, ``success()``, ``failure()`` and ``context == / != 'literal'``;
without a status function, ``success()`` is implied), so a step after a failing one runs
only when its condition asks for it; the run's exit code is the first failing step's.

Departures, all explicit: ``actions/setup-python`` is played by putting ``python`` (a
prepared interpreter) first on ``PATH`` — nothing is downloaded; ``github/codeql-action/
upload-sarif`` is played by checking what it would upload (a SARIF 2.1.0 file inside the
workspace) and recording it in ``ActionRun.uploads``; any other ``uses:`` is refused. A
``${{ }}`` inside a ``run:`` script is refused too: the runner would paste the value into
the script (script injection); inputs must come through env.

    python -m tests.actionrunner ACTION_DIR WORKSPACE EVENT_NAME EVENT_JSON [--input k=v]… [--python DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COMPARISON = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*(==|!=)\s*'([^']*)'$")
CONTEXT_PATH = re.compile(r"^(inputs|github|steps|env|runner)((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)$")


class ActionError(Exception):
    """The action uses something a runner would reject, or this harness cannot play."""


@dataclass
class ActionRun:
    returncode: int
    stdout: str = ""
    stderr: str = ""
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)  # the action's declared outputs
    steps_run: list[str] = field(default_factory=list)
    uploads: list[dict[str, str]] = field(default_factory=list)  # what upload-sarif would have sent


def evaluate(text: str, contexts: dict[str, Any]) -> str:
    """Replace each ``${{ a.b.c }}`` (or ``a.b || c.d``) with its value ('' when absent)."""

    def value(expr: str) -> str:
        for alternative in (part.strip() for part in expr.split("||")):
            match = CONTEXT_PATH.match(alternative)
            if match is None:
                raise ActionError(f"expression not supported by this harness: {expr!r}")
            found: Any = contexts.get(match.group(1), {})
            for key in match.group(2).split(".")[1:]:
                found = found.get(key, "") if isinstance(found, dict) else ""
            if found not in ("", None, False):
                return str(found).lower() if isinstance(found, bool) else str(found)
        return ""

    return EXPRESSION.sub(lambda m: value(m.group(1)), text)


def read_key_values(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT / GITHUB_ENV file: ``k=v`` lines and ``k<<DELIM`` … ``DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            key, _, val = line.partition("=")
            values[key] = val
        i += 1
    return values


class Runner:
    def __init__(
        self,
        action_dir: Path,
        workspace: Path,
        event_name: str,
        event: dict[str, Any],
        inputs: dict[str, str],
        *,
        python_dir: Path,
        temp: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.action_dir, self.workspace, self.temp = action_dir, workspace, temp
        self.spec = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        if self.spec.get("runs", {}).get("using") != "composite":
            raise ActionError("not a composite action")
        self.python_dir = python_dir
        temp.mkdir(parents=True, exist_ok=True)
        event_path = temp / "event.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        head = subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.github = {
            "action_path": str(action_dir),
            "event_name": event_name,
            "event_path": str(event_path),
            "workspace": str(workspace),
            "sha": head,
            "ref": event.get("ref", ""),
            "event": event,
            "repository": (event.get("repository") or {}).get("full_name", "octo/demo"),
            "server_url": "https://github.com",
            "token": (env or {}).get("GITHUB_TOKEN", ""),
        }
        self.base_env = {
            **(env or {}),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_SHA": head,
            "GITHUB_REF": str(event.get("ref", "")),
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_SERVER_URL": "https://github.com",
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux",
        }
        self.inputs = self._inputs(inputs)
        self.steps: dict[str, dict[str, dict[str, str]]] = {}
        self.path_prefix: list[str] = []

    def _inputs(self, given: dict[str, str]) -> dict[str, str]:
        declared = self.spec.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise ActionError(f"inputs not declared in action.yml: {sorted(unknown)}")
        contexts = {"github": self.github}
        return {
            name: given[name] if name in given else evaluate(str(spec.get("default", "")), contexts)
            for name, spec in declared.items()
        }

    def contexts(self, env: dict[str, str]) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "github": self.github,
            "steps": self.steps,
            "env": env,
            "runner": {"temp": str(self.temp), "os": "Linux"},
        }

    def run(self) -> ActionRun:
        result = ActionRun(0)
        env = dict(self.base_env)
        for index, step in enumerate(self.spec["runs"]["steps"]):
            if not self._should_run(step, failed=result.returncode != 0, env=env):
                continue
            result.steps_run.append(step.get("name") or step.get("uses") or f"step {index}")
            if "uses" in step:
                self._uses(step, env, result)
                continue
            code = self._run_step(index, step, env, result)
            if code != 0 and result.returncode == 0:
                result.returncode = code
        outputs = self.spec.get("outputs") or {}
        result.outputs = {k: evaluate(str(v.get("value", "")), self.contexts(env)) for k, v in outputs.items()}
        return result

    def _should_run(self, step: dict[str, Any], *, failed: bool, env: dict[str, str]) -> bool:
        condition = str(step.get("if", "")).strip()
        if condition.startswith("${{") and condition.endswith("}}"):
            condition = condition[3:-2].strip()
        if not condition:
            return not failed
        if "||" in condition or "(" in condition.replace("()", ""):
            raise ActionError(f"if: not supported by this harness: {condition!r}")
        terms = [t.strip() for t in condition.split("&&")]
        status = {"always()": True, "!cancelled()": True, "success()": not failed, "failure()": failed}
        if not any(t in status for t in terms):
            terms.insert(0, "success()")
        return all(status[t] if t in status else self._compare(t, env) for t in terms)

    def _compare(self, term: str, env: dict[str, str]) -> bool:
        match = COMPARISON.match(term)
        if match is None:
            raise ActionError(f"if: term not supported by this harness: {term!r}")
        left = evaluate("${{ " + match.group(1) + " }}", self.contexts(env))
        return (left == match.group(3)) == (match.group(2) == "==")

    def _uses(self, step: dict[str, Any], env: dict[str, str], result: ActionRun) -> None:
        action = str(step["uses"])
        if action.startswith("actions/setup-python@"):
            self.path_prefix.insert(0, str(self.python_dir))
        elif action.startswith("github/codeql-action/upload-sarif@"):
            given = {k: evaluate(str(v), self.contexts(env)) for k, v in (step.get("with") or {}).items()}
            result.uploads.append(self._sarif_upload(given))
        else:
            raise ActionError(f"this harness only plays setup-python and upload-sarif, not {action}")

    def _sarif_upload(self, given: dict[str, str]) -> dict[str, str]:
        path = (self.workspace / given.get("sarif_file", "")).resolve()
        if not path.is_file() or not path.is_relative_to(self.workspace.resolve()):
            raise ActionError(f"upload-sarif: {given.get('sarif_file')!r} is not a file in the workspace")
        if json.loads(path.read_text(encoding="utf-8")).get("version") != "2.1.0":
            raise ActionError(f"upload-sarif: {path.name} is not SARIF 2.1.0")
        return given

    def _run_step(self, index: int, step: dict[str, Any], env: dict[str, str], result: ActionRun) -> int:
        script = str(step["run"])
        if EXPRESSION.search(script):
            raise ActionError(f"step {index} pastes an expression into its script; pass it through env:")
        if step.get("shell") != "bash":
            raise ActionError(f"step {index}: composite run steps need `shell: bash` here")
        files = {
            key: self.temp / f"{key.lower()}-{index}"
            for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("", encoding="utf-8")
        step_env = {k: evaluate(str(v), self.contexts(env)) for k, v in (step.get("env") or {}).items()}
        path = os.pathsep.join([*self.path_prefix, os.environ.get("PATH", "")])
        full_env = {**os.environ, **env, **step_env, **{k: str(p) for k, p in files.items()}, "PATH": path}
        script_file = self.temp / f"step-{index}.sh"
        script_file.write_text(script, encoding="utf-8")
        cwd = self.workspace / str(step.get("working-directory", "."))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        result.stdout += proc.stdout
        result.stderr += proc.stderr
        result.summary += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        if "id" in step:
            self.steps[str(step["id"])] = {"outputs": read_key_values(files["GITHUB_OUTPUT"])}
        env.update(read_key_values(files["GITHUB_ENV"]))
        self.path_prefix[:0] = files["GITHUB_PATH"].read_text(encoding="utf-8").split()
        return proc.returncode


def run_action(
    action_dir: Path,
    workspace: Path,
    event_name: str,
    event: dict[str, Any],
    *,
    python_dir: Path,
    temp: Path,
    inputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> ActionRun:
    return Runner(
        action_dir, workspace, event_name, event, inputs or {}, python_dir=python_dir, temp=temp, env=env
    ).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action_dir", type=Path)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("event_name")
    parser.add_argument("event_json", type=Path)
    parser.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--python", type=Path, default=Path(sys.executable).parent, help="bin dir of the python")
    parser.add_argument("--temp", type=Path, default=Path("/tmp/ruvopt-action-runner"))
    args = parser.parse_args()
    inputs = dict(item.split("=", 1) for item in args.input)
    event = json.loads(args.event_json.read_text(encoding="utf-8"))
    done = run_action(
        args.action_dir.resolve(),
        args.workspace.resolve(),
        args.event_name,
        event,
        python_dir=args.python,
        temp=args.temp,
        inputs=inputs,
    )
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    print(f"--- job summary ---\n{done.summary}--- outputs: {done.outputs} (exit {done.returncode})")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
