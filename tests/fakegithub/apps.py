"""``/app…`` operations: the App itself, installation tokens, webhook deliveries."""

from __future__ import annotations

from typing import Any

from tests.fakegithub import render
from tests.fakegithub.auth import new_token
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.state import Delivery, Installation, Token, iso


def _installation(call: Call, installation: Installation) -> dict[str, Any]:
    fake = call.fake
    return {
        "id": installation.id,
        "account": render.user(fake, installation.account),
        "app_id": fake.app_id,
        "app_slug": fake.app_slug,
        "target_id": abs(hash(installation.account)) % 10_000_000,
        "target_type": "Organization",
        "repository_selection": "all",
        "access_tokens_url": f"{fake.url}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{fake.url}/installation/repositories",
        "html_url": f"{fake.html_url}/settings/installations/{installation.id}",
        "permissions": render.app(fake)["permissions"],
        "events": render.app(fake)["events"],
        "created_at": iso(0),
        "updated_at": iso(0),
    }


@handles("apps/get-authenticated")
def get_app(call: Call) -> Reply:
    return Reply(200, render.app(call.fake))


@handles("apps/get-installation")
def get_installation(call: Call) -> Reply:
    installation = call.fake.world.installations.get(call.params["installation_id"])
    if installation is None:
        raise ApiError(404, "Not Found")
    return Reply(200, _installation(call, installation))


@handles("apps/get-repo-installation")
def get_repo_installation(call: Call) -> Reply:
    owner = call.params["owner"]
    if f"{owner}/{call.params['repo']}" not in call.fake.world.repos:
        raise ApiError(404, "Not Found")
    for installation in call.fake.world.installations.values():
        if installation.account == owner:
            return Reply(200, _installation(call, installation))
    raise ApiError(404, "Not Found")


@handles("apps/create-installation-access-token")
def create_token(call: Call) -> Reply:
    fake = call.fake
    installation_id = call.params["installation_id"]
    if installation_id not in fake.world.installations:
        raise ApiError(404, "Not Found")
    token = Token(new_token(), installation_id, fake.clock() + fake.token_lifetime)
    fake.world.tokens[token.value] = token
    body = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": render.app(fake)["permissions"],
        "repository_selection": "all",
    }
    return Reply(201, body)


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "guid": delivery.guid,
        "delivered_at": iso(delivery.delivered_at),
        "redelivery": delivery.redelivery,
        "duration": delivery.duration,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": delivery.repository_id,
        "throttled_at": None,
    }


@handles("apps/list-webhook-deliveries")
def list_deliveries(call: Call) -> Reply:
    """Newest first, cursor-paginated like GitHub (the cursor names the next page's first item)."""
    per_page = min(int(call.query.get("per_page", 30)), render.MAX_PER_PAGE)
    items = sorted(call.fake.world.deliveries, key=_order, reverse=True)
    wanted = call.query.get("status")
    if wanted is not None:
        items = [d for d in items if (200 <= d.status_code < 300) == (wanted == "success")]
    cursor = call.query.get("cursor")
    if cursor is not None:
        start = _parse_cursor(cursor)
        items = [d for d in items if _order(d) <= start]
    page, rest = items[:per_page], items[per_page:]
    headers = {}
    if rest:
        ms, ident = _order(rest[0])
        query = f"per_page={per_page}&cursor=v1_{ms}_{ident}" + (f"&status={wanted}" if wanted else "")
        headers["link"] = f'<{call.fake.url}/app/hook/deliveries?{query}>; rel="next"'
    return Reply(200, [_delivery(d) for d in page], headers)


def _order(delivery: Delivery) -> tuple[int, int]:
    return int(delivery.delivered_at * 1000), delivery.id


def _parse_cursor(cursor: str) -> tuple[int, int]:
    parts = cursor.split("_")
    if len(parts) != 3 or parts[0] != "v1" or not (parts[1].isdigit() and parts[2].isdigit()):
        raise ApiError(400, "Bad Request")
    return int(parts[1]), int(parts[2])


@handles("apps/get-webhook-delivery")
def get_delivery(call: Call) -> Reply:
    delivery = _find(call, call.params["delivery_id"])
    body = _delivery(delivery)
    body["request"] = {"headers": {"X-GitHub-Delivery": delivery.guid}, "payload": {}}
    body["response"] = {"headers": {}, "payload": ""}
    return Reply(200, body)


@handles("apps/redeliver-webhook-delivery")
def redeliver(call: Call) -> Reply:
    fake = call.fake
    original = _find(call, call.params["delivery_id"])
    attempt = Delivery(
        id=fake.world.next_id(),
        guid=original.guid,
        delivered_at=fake.clock(),
        status_code=fake.redelivery_status,
        event=original.event,
        action=original.action,
        redelivery=True,
        installation_id=original.installation_id,
        repository_id=original.repository_id,
    )
    fake.world.deliveries.append(attempt)
    if fake.on_redeliver is not None:
        fake.on_redeliver(attempt)
    return Reply(202, {})


def _find(call: Call, delivery_id: int) -> Delivery:
    for delivery in call.fake.world.deliveries:
        if delivery.id == delivery_id:
            return delivery
    raise ApiError(404, "Not Found")
