"""Shopify Flow on the platform's side (SHOPIFY.md "Shopify Flow"): firing a trigger, and
reading what Flow sends the app (an action run, a trigger's lifecycle callback).

A trigger is fired with `flowTriggerReceive(handle, payload)`; the payload holds the fields
the trigger's extension declares (extensions/*/shopify.extension.toml), at most 50 KB. The
client (plugin/shopify/client.py) waits out THROTTLED answers; what still fails raises
PlatformUnavailable, which the caller retries later. Flow signs what it posts to the app
like a webhook: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the raw body with the app's
secret. This module knows GraphQL and Flow's JSON, not loyalty.
"""
import json
from dataclasses import dataclass
from datetime import datetime

from plugin.shopify.client import AdminClient

TRIGGER = """mutation($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } } }"""
MAX_PAYLOAD_BYTES = 50_000
# Flow waits this long for an action's answer, then gives up and sends the request again later.
ACTION_TIME_LIMIT_SECONDS = 10


class FlowPayloadTooLarge(ValueError):
    """The payload is over Flow's 50 KB: the platform would refuse it, every time."""


def fire_trigger(client: AdminClient, handle: str, payload: dict) -> None:
    """Fire one trigger (UserErrors if Flow refused it, PlatformUnavailable if it stayed throttled)."""
    if len(json.dumps(payload, separators=(",", ":")).encode()) > MAX_PAYLOAD_BYTES:
        raise FlowPayloadTooLarge(f"the {handle} payload is over {MAX_PAYLOAD_BYTES} bytes")
    client.mutate(TRIGGER, {"handle": handle, "payload": payload}, "flowTriggerReceive")


@dataclass(frozen=True)
class ActionRun:
    """One request Flow sent to an action's runtime_url."""

    shop_domain: str
    run_id: str
    handle: str
    properties: dict


@dataclass(frozen=True)
class Lifecycle:
    """A trigger's lifecycle callback: whether the shop now has an enabled workflow using it."""

    shop_domain: str
    trigger: str
    enabled: bool
    at: datetime


class NotFlowJSON(ValueError):
    """The body is not what Flow sends; the message says what is wrong."""


def read_action_run(body: bytes) -> ActionRun:
    data = _object(body)
    run_id, domain = data.get("action_run_id"), data.get("shopify_domain")
    if not isinstance(run_id, str) or not run_id.strip() or len(run_id) > 255:
        raise NotFlowJSON("action_run_id must be Flow's id of this run (a string of at most 255 characters)")
    if not isinstance(domain, str):
        raise NotFlowJSON("shopify_domain must be the shop's myshopify.com domain")
    properties = data.get("properties")
    if not isinstance(properties, dict):
        raise NotFlowJSON("properties must be an object of the action's fields")
    return ActionRun(domain.strip().lower(), run_id.strip(), str(data.get("handle") or ""), properties)


def read_lifecycle(body: bytes) -> Lifecycle:
    data = _object(body)
    trigger, enabled, domain = data.get("flow_trigger_definition_id"), data.get("has_enabled_flow"), \
        data.get("shopify_domain")
    if not isinstance(trigger, str) or not trigger or not isinstance(enabled, bool) or not isinstance(domain, str):
        raise NotFlowJSON("a lifecycle callback has flow_trigger_definition_id, has_enabled_flow and shopify_domain")
    try:
        at = datetime.fromisoformat(str(data.get("timestamp")).replace("Z", "+00:00"))
    except ValueError:
        raise NotFlowJSON("timestamp must be an ISO 8601 time") from None
    if at.tzinfo is None:
        raise NotFlowJSON("timestamp must carry its offset")
    return Lifecycle(domain.strip().lower(), trigger, enabled, at)


def _object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotFlowJSON("the body must be JSON") from None
    if not isinstance(data, dict):
        raise NotFlowJSON("the body must be a JSON object")
    return data


def customer_number(value) -> int | None:
    """Flow's customer reference: a number, its digits, or a `gid://shopify/Customer/<n>`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value or "").strip()
    if text.startswith("gid://") and not text.startswith("gid://shopify/Customer/"):
        return None  # another kind of object: an order's id is not a customer's
    tail = text.removeprefix("gid://shopify/Customer/")
    return int(tail) if tail.isdigit() and 0 < int(tail) < 2 ** 63 else None
