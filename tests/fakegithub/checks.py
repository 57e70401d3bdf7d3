"""Check runs: created, PATCHed (annotations append, 50 per request), read back."""

from __future__ import annotations

from typing import Any

from tests.fakegithub import render
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.state import CheckRun, iso


def _render(call: Call, run: CheckRun) -> dict[str, Any]:
    fake = call.fake
    url = f"{fake.url}/repos/{run.repo}/check-runs/{run.id}"
    return {
        "id": run.id,
        "node_id": f"CR_{run.id}",
        "head_sha": run.head_sha,
        "name": run.name,
        "url": url,
        "html_url": f"{fake.html_url}/{run.repo}/runs/{run.id}",
        "details_url": run.details_url,
        "external_id": run.external_id,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "check_suite": {"id": run.id * 10},
        "app": render.app(fake),
        "pull_requests": [],
    }


def _apply(call: Call, run: CheckRun, body: dict[str, Any]) -> None:
    """GitHub's rules beyond the schema, then the update (all-or-nothing)."""
    now = iso(call.fake.clock())
    status = body.get("status", run.status)
    conclusion = body.get("conclusion", run.conclusion)
    if "conclusion" in body:
        status = "completed"  # documented: providing a conclusion completes the run
    if status == "completed" and conclusion is None:
        raise ApiError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.')
    output = body.get("output") or {}
    annotations = output.get("annotations", [])  # ≤ 50: the schema's maxItems, checked before this
    for a in annotations:
        if ("start_column" in a or "end_column" in a) and a["start_line"] != a["end_line"]:
            raise ApiError(422, "start_column and end_column are only allowed when start_line equals end_line")
        if a["end_line"] < a["start_line"]:
            raise ApiError(422, "end_line must be greater than or equal to start_line")
    for key in ("name", "details_url", "external_id", "started_at", "completed_at", "actions"):
        if key in body:
            setattr(run, key, body[key])
    run.status, run.conclusion = status, conclusion
    if status == "completed" and run.completed_at is None:
        run.completed_at = now
    if status != "queued" and run.started_at is None:
        run.started_at = now
    for key in ("title", "summary", "text"):
        if key in output:
            setattr(run, key, output[key])
    run.annotations.extend(annotations)


@handles("checks/create")
def create(call: Call) -> Reply:
    repo = call.repo()
    run = CheckRun(call.fake.world.next_id(), repo.full_name, call.body["name"], call.body["head_sha"])
    _apply(call, run, call.body)
    call.fake.world.check_runs[run.id] = run
    return Reply(201, _render(call, run))


def _run(call: Call) -> CheckRun:
    repo = call.repo()
    run = call.fake.world.check_runs.get(call.params["check_run_id"])
    if run is None or run.repo != repo.full_name:
        raise ApiError(404, "Not Found")
    return run


@handles("checks/update")
def update(call: Call) -> Reply:
    run = _run(call)
    _apply(call, run, call.body)
    run.patches += 1
    return Reply(200, _render(call, run))


@handles("checks/get")
def get(call: Call) -> Reply:
    return Reply(200, _render(call, _run(call)))


@handles("checks/list-annotations")
def list_annotations(call: Call) -> Reply:
    run = _run(call)
    items = [
        {
            "path": a["path"],
            "start_line": a["start_line"],
            "end_line": a["end_line"],
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a["annotation_level"],
            "title": a.get("title"),
            "message": a["message"],
            "raw_details": a.get("raw_details"),
            "blob_href": f"{call.fake.html_url}/{run.repo}/blob/{run.head_sha}/{a['path']}",
        }
        for a in run.annotations
    ]
    return render.paged(call, items)


@handles("checks/list-for-ref")
def list_for_ref(call: Call) -> Reply:
    """Runs on a commit, newest first; ``filter=latest`` (the default) keeps one per name."""
    repo = call.repo()
    query = call.query
    runs = [
        r
        for r in call.fake.world.check_runs.values()
        if r.repo == repo.full_name
        and r.head_sha == call.params["ref"]
        and r.name == query.get("check_name", r.name)
        and r.status == query.get("status", r.status)
        and query.get("app_id", call.fake.app_id) == call.fake.app_id
    ]
    runs.sort(key=lambda r: r.id, reverse=True)
    if query.get("filter", "latest") == "latest":
        newest: dict[str, CheckRun] = {}
        for run in runs:
            newest.setdefault(run.name, run)
        runs = list(newest.values())
    page = render.paged(call, [_render(call, r) for r in runs])
    return Reply(page.status, {"total_count": len(runs), "check_runs": page.body}, page.headers)
