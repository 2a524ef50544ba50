"""Requests as the platform and the panel make them: signed webhooks and session tokens."""
import itertools
import json
import threading
import time
import uuid
from pathlib import Path

import jwt
from sqlalchemy import func, select

from webhooks.verification import signature

ROOT = Path(__file__).resolve().parent.parent  # the checkout
RECORDINGS = ROOT / "tests" / "recordings"

SHOP = "rosebud-tea.myshopify.com"
OTHER_SHOP = "other-store.myshopify.com"
API_KEY = "test-api-key"
API_SECRET = "test-api-secret-0123456789abcdef0123456789"
ENCRYPTION_KEY = "q0bqBd5B2E6Kd7fcltdOuS2hvkKx2nGyjqB8iZDzJzU="

_ids = itertools.count(1)


def signed_webhook(client, topic: str, payload, shop: str = SHOP, webhook_id: str | None = None,
                   secret: str = API_SECRET, headers: dict | None = None):
    """POST a webhook as the platform sends it; `payload` may be raw bytes."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        **(headers or {}),
    }
    return client.post("/webhooks", data=body, headers=sent)


def session_token(shop: str = SHOP, secret: str = API_SECRET, **claims) -> str:
    now = int(time.time())
    payload = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": API_KEY, "sub": "42",
               "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": str(uuid.uuid4()), "sid": "s1"}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(shop: str = SHOP, **claims) -> dict:
    return {"Authorization": f"Bearer {session_token(shop, **claims)}"}


def order(order_id: int | None = None, customer_id: int | None = 7001, subtotal: str = "40.00", **fields) -> dict:
    """An orders/paid payload shaped like the platform's, with just the fields that matter."""
    order_id = order_id or 450789000 + next(_ids)
    payload = {
        "id": order_id, "name": f"#{order_id % 10000}", "email": "ada@example.com",
        "subtotal_price": subtotal, "total_price": subtotal, "currency": "USD", "tags": "",
        "financial_status": "paid", "test": False, "line_items": [],
        "customer": None if customer_id is None else {"id": customer_id, "email": "ada@example.com"},
    }
    payload.update(fields)
    return payload


def refund(order_id: int, amount: str, refund_id: int | None = None, gift_card: bool = False) -> dict:
    return {
        "id": refund_id or 509562000 + next(_ids), "order_id": order_id, "restock": True,
        "refund_line_items": [{"id": next(_ids), "quantity": 1, "subtotal": float(amount),
                               "subtotal_set": {"shop_money": {"amount": amount, "currency_code": "USD"}},
                               "line_item": {"id": next(_ids), "gift_card": gift_card}}],
        "transactions": [],
    }


def customer(customer_id: int = 7001, email: str = "ada@example.com", first_name: str = "Ada",
             last_name: str = "Lovelace", updated_at: str = "2026-11-01T10:00:00-05:00") -> dict:
    return {"id": customer_id, "email": email, "first_name": first_name, "last_name": last_name,
            "created_at": "2026-11-01T10:00:00-05:00", "updated_at": updated_at, "state": "enabled"}


def member(client, customer_id: int = 7001, shop: str = SHOP):
    response = client.get(f"/api/members/{customer_id}", headers=auth(shop))
    return response.get_json() if response.status_code == 200 else None


def balance(client, customer_id: int = 7001, shop: str = SHOP) -> int | None:
    found = member(client, customer_id, shop)
    return None if found is None else found["balance"]


def table_counts(session) -> dict:
    """Rows per table: the "nothing changed" check for bad input."""
    from plugin.db import Base

    return {name: session.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()}


def signed_query(secret: str = API_SECRET, **params) -> dict:
    """Query parameters signed as the store admin signs install links and callbacks."""
    import hashlib
    import hmac as hmac_lib

    params.setdefault("timestamp", str(int(time.time())))
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()))
    return {**params, "hmac": hmac_lib.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def token_answer(access: str = "shpat_first", refresh: str = "shprt_first", expires_in: int = 3600) -> dict:
    """What the platform's /admin/oauth/access_token answers for an expiring offline token."""
    return {"access_token": access, "scope": "read_orders,read_customers", "expires_in": expires_in,
            "refresh_token": refresh, "refresh_token_expires_in": 7776000}


def token_endpoint(shop: str = SHOP) -> str:
    return f"https://{shop}/admin/oauth/access_token"


def install(client, shop: str = SHOP, access: str = "shpat_live") -> None:
    """Install the app in `shop` as the embedded panel does: its first open exchanges the id
    token for an offline token, the platform's token endpoint mocked for just that call."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(shop), json=token_answer(access))
        opened = client.get("/", query_string={"shop": shop, "id_token": session_token(shop)})
        assert opened.status_code == 200, opened.get_data(as_text=True)


def proxy_signature(params: list[tuple[str, str]], secret: str = API_SECRET) -> str:
    """The app proxy's signature, computed here from SHOPIFY.md 4, not by the code under test:
    sorted keys, a repeated key's values joined with commas, pairs joined with nothing, hex."""
    import hashlib
    import hmac as hmac_lib

    values: dict[str, list[str]] = {}
    for key, value in params:
        values.setdefault(key, []).append(value)
    message = "".join(f"{key}={','.join(values[key])}" for key in sorted(values))
    return hmac_lib.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def proxy_url(path: str = "/proxy/member.json", shop: str = SHOP, customer_id: str = "7001",
              secret: str = API_SECRET, timestamp: int | None = None, extra: list[tuple[str, str]] = ()) -> str:
    """A storefront request as the app proxy forwards it: the platform's parameters, signed."""
    from urllib.parse import urlencode

    params = [("shop", shop), ("logged_in_customer_id", customer_id), ("path_prefix", "/apps/loyalty"),
              ("timestamp", str(int(time.time()) if timestamp is None else timestamp)), *extra]
    return f"{path}?{urlencode(params + [('signature', proxy_signature(params, secret))])}"


def stored_outage_failure(app, shop: str = SHOP, subtotal: str = "40.00") -> int:
    """A good orders/paid left failed by an outage, as processing leaves it after its last try.

    Written directly: an outage cannot be injected into the RQ workers of the services pass,
    and a payload error (the one failure a webhook can cause) would only fail again.
    """
    from plugin.db import transaction
    from plugin.models import EventStatus, WebhookEvent
    from webhooks.processing import MAX_ATTEMPTS

    with app.app_context(), transaction() as session:
        event = WebhookEvent(shop_domain=shop, topic="orders/paid", webhook_id=str(uuid.uuid4()),
                             payload=json.dumps(order(subtotal=subtotal)), status=EventStatus.FAILED,
                             attempts=MAX_ATTEMPTS, last_error="OperationalError: the database went away")
        session.add(event)
        session.flush()
        return event.id


def all_at_once(count: int, call) -> list:
    """Run `call(n)` for n in range(count) in threads released together; their answers in order."""
    barrier, answers, errors = threading.Barrier(count), [None] * count, []

    def run(n):
        barrier.wait()
        try:
            answers[n] = call(n)
        except Exception as error:  # collected: an exception in a thread would be silent
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], errors
    return answers
