"""GitHub's App manifest flow: the two web pages a browser sees and the API conversion.

Web (not in the OpenAPI description, served beside it like github.com beside its API):
``POST /settings/apps/new?state=S`` (or ``/organizations/<org>/settings/apps/new``) with
a form field ``manifest`` shows GitHub's "Create GitHub App" page, after checking the
manifest as GitHub does (an invalid one is recorded as a contract violation of kind
``manifest``). Its button creates the App — id, RSA key, webhook secret, OAuth client —
and redirects the browser to the manifest's ``redirect_url`` with ``code`` and ``state``.

API: ``POST /app-manifests/{code}/conversions`` (``apps/create-from-manifest``, validated
against the OpenAPI description like every route) answers the App's credentials once;
a second use of the code is a 404, as on GitHub.
"""

from __future__ import annotations

import json
import re
import secrets
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakegithub import render
from tests.fakegithub.auth import AppKey
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.skeleton import complete
from tests.fakegithub.state import CreatedApp, iso

if TYPE_CHECKING:
    from tests.fakegithub.fake import FakeGitHub

BROWSER_USER = "octocat"  # who is "signed in" in the fake's browser pages
PERMISSIONS = {"actions", "checks", "contents", "deployments", "issues", "metadata", "pull_requests", "statuses"}
# Which permission each event needs (GitHub refuses a manifest that subscribes without it).
EVENT_NEEDS = {
    "pull_request": "pull_requests",
    "issue_comment": "issues",
    "check_run": "checks",
    "check_suite": "checks",
    "push": "contents",
    "issues": "issues",
}


def manifest_errors(manifest: Any) -> list[str]:
    """What GitHub's manifest page would reject (the fields ruvopt sends)."""
    if not isinstance(manifest, dict):
        return ["the manifest is not a JSON object"]
    errors = []
    if not manifest.get("url"):
        errors.append("url is required")
    if not (1 <= len(str(manifest.get("name", ""))) <= 34):
        errors.append("name must be 1 to 34 characters")
    hook = manifest.get("hook_attributes") or {}
    if not str(hook.get("url", "")).startswith(("http://", "https://")):
        errors.append("hook_attributes.url must be an http(s) URL")
    if not str(manifest.get("redirect_url", "")).startswith(("http://", "https://")):
        errors.append("redirect_url must be an http(s) URL")
    permissions = manifest.get("default_permissions") or {}
    for name, level in permissions.items():
        if name not in PERMISSIONS or level not in ("read", "write"):
            errors.append(f"default_permissions.{name}: {level!r} is not a permission level")
    for event in manifest.get("default_events") or []:
        needed = EVENT_NEEDS.get(event)
        if needed is None:
            errors.append(f"default_events: unknown event {event!r}")
        elif needed not in permissions:
            errors.append(f"default_events: {event} needs the {needed} permission")
    return errors


def web_routes(fake: FakeGitHub) -> list[Route]:
    async def new_app(request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        raw = (form.get("manifest") or [""])[0]
        try:
            manifest = json.loads(raw)
        except ValueError:
            manifest = None
        problems = manifest_errors(manifest)
        owner = request.path_params.get("org", BROWSER_USER)
        if problems:
            fake._record("manifest", "POST", request.url.path, "; ".join(problems))
            return HTMLResponse(f"<h1>Invalid manifest</h1><p>{escape('; '.join(problems))}</p>", 422)
        state = request.query_params.get("state", "")
        return HTMLResponse(
            f"<h1>Create GitHub App for {escape(owner)}</h1><p>GitHub App name: {escape(manifest['name'])}</p>"
            f'<form method="post" action="/settings/apps/new/create"><input type="hidden" name="manifest" '
            f'value="{escape(raw)}"><input type="hidden" name="state" value="{escape(state)}">'
            f'<input type="hidden" name="owner" value="{escape(owner)}">'
            f'<button id="create" type="submit">Create GitHub App for {escape(owner)}</button></form>'
        )

    async def create(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        manifest = json.loads(form["manifest"])
        code = fake.create_app_from_manifest(manifest, form["owner"])
        query = urlencode({"code": code, "state": form.get("state", "")})
        return RedirectResponse(f"{manifest['redirect_url']}?{query}", status_code=302)

    async def favicon(_request: Request) -> Response:
        return Response(status_code=404)  # browsers ask every origin; not an API call

    return [
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/settings/apps/new", new_app, methods=["POST"]),
        Route("/organizations/{org}/settings/apps/new", new_app, methods=["POST"]),
        Route("/settings/apps/new/create", create, methods=["POST"]),
    ]


def new_created_app(fake: FakeGitHub, manifest: dict[str, Any], owner: str) -> CreatedApp:
    slug = re.sub(r"[^a-z0-9]+", "-", manifest["name"].lower()).strip("-")
    return CreatedApp(
        id=fake.world.next_id(),
        slug=slug,
        owner=owner,
        manifest=manifest,
        pem=AppKey.generate().private_pem,
        webhook_secret=secrets.token_hex(20),
        client_id=f"Iv23{secrets.token_hex(8)}",
        client_secret=secrets.token_hex(20),
    )


def _simple_user(fake: Any, login: str) -> dict[str, Any]:
    """A ``simple-user`` (the owner of an App may be a user or an enterprise: anyOf)."""
    schema = fake.spec.convert(fake.spec.resolve({"$ref": "#/components/schemas/simple-user"}))
    user: dict[str, Any] = complete(schema, render.user(fake, login))
    return user


@handles("apps/create-from-manifest")
def convert(call: Call) -> Reply:
    fake = call.fake
    app = fake.world.created_apps.get(call.params["code"])
    if app is None or app.redeemed:
        raise ApiError(404, "Not Found")
    app.redeemed = True
    body = {
        "id": app.id,
        "slug": app.slug,
        "node_id": f"A_{app.id}",
        "name": app.manifest["name"],
        "description": app.manifest.get("description"),
        "external_url": app.manifest["url"],
        "owner": _simple_user(fake, app.owner),
        "html_url": f"{fake.html_url}/apps/{app.slug}",
        "permissions": dict(app.manifest.get("default_permissions") or {}),
        "events": list(app.manifest.get("default_events") or []),
        "created_at": iso(fake.clock()),
        "updated_at": iso(fake.clock()),
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "webhook_secret": app.webhook_secret,
        "pem": app.pem,
    }
    return Reply(201, body)
