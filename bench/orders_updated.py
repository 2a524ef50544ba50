"""What an `orders/updated` that changes nothing costs, next to an `orders/paid`.

`orders/updated` is the noisiest topic a store sends (every fulfilment, note or tag), so its
no-change path must cost little. This measures, in one process on a fresh SQLite database,
the CPU time (`time.process_time`) of:
- processing: the stored events drained by `drain_due_events`, in batches as a worker does;
- intake plus processing: each webhook signed and posted to `/webhooks`, drained in-process;
for N new paid orders (`orders/paid`), then the same N orders updated with nothing new
(`orders/updated`, a note and a fulfilment status changed), and prints the ratios.

    .venv/bin/python -m bench.orders_updated [N]
"""
import base64
import hashlib
import hmac
import json
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench.payloads import order_mix

SHOP = "bench-updates.myshopify.com"
SECRET = "bench-secret"


def _app(database: str):
    from cryptography.fernet import Fernet

    from plugin import create_app, migrate

    migrate.upgrade(database)
    return create_app({"DATABASE_URL": database, "REDIS_URL": None, "SHOPIFY_API_KEY": "bench",
                       "SHOPIFY_API_SECRET": SECRET, "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                       "SWEEP_INTERVAL_SECONDS": 0, "LOG_LEVEL": "WARNING"})


def _post(client, topic: str, body: str, number: int) -> None:
    digest = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
    answer = client.post("/webhooks", data=body, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": f"{topic}-{number}", "X-Shopify-Hmac-Sha256": digest})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def _run(app, topic: str, bodies: list[str], drain_later: bool) -> float:
    """CPU seconds to take `bodies` in and (if `drain_later`) to drain them afterwards."""
    from webhooks.processing import drain_due_events

    client = app.test_client()
    if not drain_later:
        started = time.process_time()
        for number, body in enumerate(bodies):
            _post(client, topic, body, number)
        return time.process_time() - started
    with mock.patch("webhooks.jobs._drain_in_process", lambda: None):
        for number, body in enumerate(bodies):
            _post(client, f"{topic}", body, number + 1_000_000)
    with app.app_context():
        started = time.process_time()
        drain_due_events()
        return time.process_time() - started


def measure(count: int) -> dict[str, float]:
    orders = order_mix(count, max(count // 3, 1))
    paid = [order.body for order in orders]
    updated = [json.dumps({**order.payload, "note": "gift wrap", "fulfillment_status": "fulfilled"})
               for order in orders]
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        app = _app(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        figures["processing: orders/paid"] = _run(app, "orders/paid", paid, drain_later=True)
        figures["processing: orders/updated, nothing new"] = _run(app, "orders/updated", updated, drain_later=True)
    with tempfile.TemporaryDirectory() as folder:
        app = _app(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        figures["intake + processing: orders/paid"] = _run(app, "orders/paid", paid, drain_later=False)
        figures["intake + processing: orders/updated, nothing new"] = _run(app, "orders/updated", updated,
                                                                          drain_later=False)
    return figures


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 300
    figures = measure(count)
    for name, seconds in figures.items():
        print(f"{name}: {seconds * 1000 / count:.3f} ms CPU per webhook")
    for part in ("processing", "intake + processing"):
        ratio = figures[f"{part}: orders/updated, nothing new"] / figures[f"{part}: orders/paid"]
        print(f"{part}: an orders/updated that changes nothing costs {ratio:.2f} × an orders/paid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
