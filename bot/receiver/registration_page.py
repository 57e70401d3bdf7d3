"""The setup mode's three small HTML pages (no JavaScript, no external assets).

Every value placed in a page goes through :func:`html.escape`; the manifest travels as
the value of a hidden form field, exactly as GitHub's manifest flow expects.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1f2328}"
    "button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;"
    "color:#fff;cursor:pointer}form.options button{background:#f6f8fa;color:#1f2328;border-color:#d0d7de}"
    "code{background:#f6f8fa;padding:0 .3rem;border-radius:4px}.warn{color:#9a6700}td{padding:0 .8rem 0 0}"
)
WHY = {
    "checks": "check runs with annotations, and the Re-check button",
    "pull_requests": "the inline review and resolving its threads",
    "issues": "the sticky summary comment and replies to /ruvopt commands",
    "contents": "fetching the base and head commits to analyse",
    "metadata": "required by GitHub for every App",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    # The pages carry a one-time state; nothing here may be cached or framed.
    headers = {"cache-control": "no-store", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}
    return HTMLResponse(html, status_code=status, headers=headers)


def setup_page(target: str, manifest: dict[str, Any], org: str) -> HTMLResponse:
    hook = manifest["hook_attributes"]["url"]
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(level)}</td><td>{escape(WHY.get(name, ''))}</td></tr>"
        for name, level in manifest["default_permissions"].items()
    )
    owner = f"the organization <b>{escape(org)}</b>" if org else "your personal account"
    warning = ""
    if not hook.startswith("https://"):
        warning = f'<p class="warn">GitHub will send webhooks to <code>{escape(hook)}</code>, which is not HTTPS.</p>'
    body = (
        f"<p>ruvopt is not registered with GitHub yet. This creates a GitHub App named "
        f"<b>{escape(manifest['name'])}</b> owned by {owner}, with webhooks sent to <code>{escape(hook)}</code>, "
        f"then stores its credentials on this server.</p>{warning}"
        f"<table><tr><th>permission</th><th>access</th><th>why</th></tr>{rows}</table>"
        f"<p>Events: {escape(', '.join(manifest['default_events']))}.</p>"
        f'<form id="register" action="{escape(target)}" method="post">'
        f'<input type="hidden" name="manifest" value="{escape(json.dumps(manifest))}">'
        f'<button type="submit">Register GitHub App</button></form>'
        f'<h2>Options</h2><form class="options" method="get" action="/">'
        f'<label>Organization <input name="org" value="{escape(org)}" placeholder="optional">'
        f'</label> <label>App name <input name="name" maxlength="34" value="{escape(manifest["name"])}"></label> '
        f'<button type="submit">Use these</button></form>'
    )
    return _page("Register ruvopt", body)


def callback_page(stored: dict[str, Any], credentials_file: Path) -> HTMLResponse:
    html_url = str(stored.get("html_url") or "")
    install = f"{html_url}/installations/new" if html_url else ""
    link = f'<a id="install" href="{escape(install)}">Install {escape(str(stored.get("name") or "the App"))}</a>'
    body = (
        f'<p id="registered">Registered <b>{escape(str(stored.get("name") or stored.get("slug") or ""))}</b> '
        f"(App id {escape(str(stored['app_id']))}). Its private key and webhook secret are in "
        f"<code>{escape(str(credentials_file))}</code> (mode 0600); this page is gone from now on.</p>"
        f"<p>Next: {link} on the repositories ruvopt should review. This server already accepts its "
        f"webhooks; workers started before now restart by themselves to read the credentials.</p>"
    )
    return _page("ruvopt is registered", body)


def error_page(status: int, message: str, *, retry: bool = False) -> HTMLResponse:
    again = '<p><a href="/">Start again</a></p>' if retry or status == 400 else ""
    return _page("Registration failed", f'<p id="error">{escape(message)}</p>{again}', status)
