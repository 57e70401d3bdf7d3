"""One-click App registration: ``ruvopt serve``'s setup mode (GitHub's manifest flow, as
Probot does it).

With none of the App's credentials set, ``ruvopt serve`` serves this instead of the
receiver. ``GET /`` shows a "Register GitHub App" button: a form that posts the App
manifest (``deploy/github-app-manifest.json`` with ``$RUVOPT_PUBLIC_URL`` filled in) to
``$RUVOPT_GITHUB_URL/settings/apps/new`` (or an organization's), carrying a one-time
``state``. GitHub creates the App and redirects to ``/setup/callback?code=…&state=…``;
the state is checked, the code exchanged at ``POST /app-manifests/{code}/conversions``
(``RUVOPT_GITHUB_API_URL``, so GitHub Enterprise works) and the answer stored in
``RUVOPT_CREDENTIALS_FILE`` (mode 0600). From then on the process is the receiver, built
from settings that read that file: the setup page is gone (it can never register twice)
and webhooks signed with the new secret are accepted. Until then ``/webhook`` answers 503.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ruvopt.bot import metrics
from ruvopt.bot.credentials import CredentialsError, write_credentials
from ruvopt.bot.receiver.registration_page import callback_page, error_page, setup_page
from ruvopt.bot.settings import Settings

STATE_TTL_S = 3600  # GitHub's manifest codes expire after an hour too
ORG_NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"


def load_manifest_template() -> dict[str, Any]:
    """``deploy/github-app-manifest.json``, shipped inside the package."""
    text = resources.files("ruvopt.bot").joinpath("github-app-manifest.json").read_text()
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def app_manifest(public_url: str, name: str | None = None) -> dict[str, Any]:
    """The manifest with this receiver's URLs (and an App name, when one was chosen)."""
    manifest = load_manifest_template()
    base = public_url.rstrip("/")
    hook = manifest["hook_attributes"]
    hook["url"] = Template(hook["url"]).substitute(RUVOPT_PUBLIC_URL=base)
    manifest["redirect_url"] = Template(manifest["redirect_url"]).substitute(RUVOPT_PUBLIC_URL=base)
    if name:
        manifest["name"] = name
    return manifest


class States:
    """One-time ``state`` values handed to GitHub, valid for an hour."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._issued: dict[str, float] = {}
        self._clock = clock

    def issue(self) -> str:
        now = self._clock()
        self._issued = {s: t for s, t in self._issued.items() if now - t < STATE_TTL_S}
        state = secrets.token_urlsafe(24)
        self._issued[state] = now
        return state

    def redeem(self, state: str) -> bool:
        issued = self._issued.pop(state, None)
        return issued is not None and self._clock() - issued < STATE_TTL_S


class SetupGate:
    """The ASGI app of ``ruvopt serve`` in setup mode: the setup pages until the App is
    registered, the receiver (``build_receiver(settings)``) from then on."""

    def __init__(self, settings: Settings, build_receiver: Callable[[Settings], ASGIApp]) -> None:
        self.settings = settings
        self.build_receiver = build_receiver
        self.states = States()
        self.current: ASGIApp = self._setup_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.current(scope, receive, send)

    def _setup_app(self) -> Starlette:
        routes = [
            Route("/", self.page, methods=["GET"]),
            Route("/setup/callback", self.callback, methods=["GET"]),
            Route("/webhook", self.webhook, methods=["POST"]),
            Route("/healthz", lambda _r: JSONResponse({"status": "ok", "mode": "setup"})),
            Route("/readyz", lambda _r: JSONResponse({"status": "setup mode: the App is not registered"}, 503)),
            # Scraped during setup too, or RuvoptReceiverDown would page while someone registers.
            Route("/metrics", _metrics_page, methods=["GET"]),
        ]
        return Starlette(routes=routes)

    async def page(self, request: Request) -> Response:
        org = request.query_params.get("org", "").strip()
        name = request.query_params.get("name", "").strip()[:34] or None  # GitHub caps App names at 34
        if org and not _valid_org(org):
            return error_page(400, "That is not a GitHub organization name.", retry=True)
        target = f"{self.settings.github_url.rstrip('/')}"
        target += f"/organizations/{quote(org)}/settings/apps/new" if org else "/settings/apps/new"
        state = self.states.issue()
        manifest = app_manifest(self.settings.public_url or "", name)
        return setup_page(f"{target}?state={quote(state)}", manifest, org)

    async def webhook(self, _request: Request) -> Response:
        return JSONResponse({"error": "setup mode: the App is not registered yet (open / on this server)"}, 503)

    async def callback(self, request: Request) -> Response:
        code, state = request.query_params.get("code", ""), request.query_params.get("state", "")
        if not code or not self.states.redeem(state):
            return error_page(400, "This registration did not start on this server, or it is over an hour old.")
        try:
            conversion = await self._convert(code)
        except httpx.HTTPError as exc:
            return error_page(502, f"GitHub could not be reached to finish the registration ({exc}).", retry=True)
        if conversion is None:
            return error_page(502, "GitHub refused the registration code (it may have expired).", retry=True)
        try:
            stored = write_credentials(self.settings.credentials_file, conversion)
        except FileExistsError:
            return error_page(409, f"An App is already registered here ({self.settings.credentials_file}).")
        except (CredentialsError, OSError) as exc:
            return error_page(500, f"The App was created but its credentials could not be stored: {exc}.")
        self.current = self.build_receiver(Settings(**_environment_overrides(self.settings)))
        return callback_page(stored, self.settings.credentials_file)

    async def _convert(self, code: str) -> dict[str, Any] | None:
        url = f"{self.settings.github_api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
        headers = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28"}
        async with httpx.AsyncClient(timeout=30) as client:
            reply = await client.post(url, headers=headers)
        if reply.status_code != 201:
            return None
        body: dict[str, Any] = reply.json()
        return body


def _valid_org(name: str) -> bool:
    return re.fullmatch(ORG_NAME, name) is not None


def _environment_overrides(settings: Settings) -> dict[str, Any]:
    """The settings the process was started with, minus the (unset) credentials, so the
    new Settings reads them from the file that was just written."""
    return settings.model_dump(exclude={"app_id", "private_key", "private_key_path", "webhook_secret"})


async def _metrics_page(_request: Request) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
