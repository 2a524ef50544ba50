"""What one intake request costs the backing services, counted in-process.

A few hundred signed deliveries go through the real `POST /webhooks` with Flask's test
client (no socket), with listeners counting SQL statements, pool checkouts (each one a
pre-ping round trip under `pool_pre_ping=True`), commits, and the Redis commands the app's
client sends. These counts explain the HTTP figures of part (a); they are not timed.
"""
import uuid
from dataclasses import dataclass

from sqlalchemy import event

from bench.payloads import API_VERSION, SHOP
from plugin.queue import redis_connection
from webhooks.verification import signature


@dataclass(frozen=True)
class IntakeCost:
    requests: int
    statuses: dict
    statements: float
    checkouts: float
    commits: float
    redis_commands: float
    redis_names: dict
    pre_ping: bool


def intake_cost(app, secret: str, body: bytes, requests: int = 200) -> IntakeCost:
    engine = app.extensions["engine"]
    counts = {"statements": 0, "checkouts": 0, "commits": 0, "redis": 0}
    redis_names: dict[str, int] = {}

    def on_execute(*_args):
        counts["statements"] += 1

    def on_checkout(*_args):
        counts["checkouts"] += 1

    def on_commit(*_args):
        counts["commits"] += 1

    with app.app_context():
        connection = redis_connection()
        original = connection.execute_command if connection is not None else None

        def counted(*args, **kwargs):
            counts["redis"] += 1
            name = str(args[0]).upper() if args else "?"
            redis_names[name] = redis_names.get(name, 0) + 1
            return original(*args, **kwargs)

        if connection is not None:
            connection.execute_command = counted
    client = app.test_client()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": SHOP,
               "X-Shopify-API-Version": API_VERSION, "X-Shopify-Hmac-Sha256": signature(secret, body)}
    statuses: dict[int, int] = {}
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine, "commit", on_commit)
    try:
        for _ in range(requests):
            answer = client.post("/webhooks", data=body,
                                 headers={**headers, "X-Shopify-Webhook-Id": f"probe-{uuid.uuid4()}"})
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine, "commit", on_commit)
        if original is not None:
            del connection.execute_command
    return IntakeCost(requests, statuses, counts["statements"] / requests, counts["checkouts"] / requests,
                      counts["commits"] / requests, counts["redis"] / requests, redis_names,
                      bool(getattr(engine.pool, "_pre_ping", False)))
