"""The development platform's bulk operations: the store's past orders as a JSONL file.

`bulkOperationRunQuery` (graphql.py) reads the `processed_at:>='<ISO>'` of the bulk query
and answers with an operation whose id carries that time, so no record is needed: the
operation is COMPLETED at once, and `node(id:)` names its result, served by
`/dev/platform/<shop>/bulk/<seconds>.jsonl` (platform.py). The result holds the orders the
store kept (store_orders.py: those /dev sent) and the store's history from before the app
was installed (`PAST`: a few paid orders of the catalogue's customers over the last
60 days, with fixed ids, so a second run names the same orders), processed at or after
that time, written as the platform writes a grouped bulk result (SHOPIFY.md 10): each
order, then its line items and refund lines, each child with its `__parentId`.
"""
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from flask import url_for
from sqlalchemy.orm import Session

from admin_ui.dev import records, store_orders
from admin_ui.dev.catalogue import CUSTOMERS, PRODUCTS, VENDOR
from plugin.db import utcnow
from plugin.models import DevRecordKind

SINCE = re.compile(r"processed_at:>=?'([^']+)'")
GID = "gid://shopify/BulkOperation/"
PAST_ORDERS = 12
PAST_BASE_ID = 6_900_000_000_000  # past orders' ids: far from the clock-made ids of samples.py
PAST_SPREAD_DAYS = 55


def run_query(session: Session, shop: str, values: dict):
    found = SINCE.search(str(values.get("query") or ""))
    if found is None:  # the platform checks the query; this fake only reads the one it is sent
        return {"bulkOperation": None, "userErrors": [
            {"field": ["query"], "message": "the development platform reads orders(query: processed_at:>=)",
             "code": "INVALID"}]}, 10
    since = datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
    return {"bulkOperation": {"id": f"{GID}{int(since.timestamp())}", "status": "CREATED"}, "userErrors": []}, 10


def operation(shop: str, gid: str) -> dict:
    """The BulkOperation node: complete at once, its result on this app."""
    seconds = gid[len(GID):]
    if not seconds.isdigit():
        return None
    url = url_for("dev_platform.bulk_result", shop=shop, seconds=int(seconds), _external=True)
    return {"id": gid, "status": "COMPLETED", "errorCode": None, "objectCount": "0", "url": url}


def result_lines(session: Session, shop: str, seconds: int) -> Iterator[str]:
    since = datetime.fromtimestamp(seconds, timezone.utc)
    kept = {str(r.data["id"]): r.data for r in records.listed(session, shop, DevRecordKind.ORDER)}
    orders = {**{str(o["id"]): o for o in past_orders()}, **kept}
    chosen = sorted((o for o in orders.values() if _processed(o) >= since), key=lambda o: (_processed(o), o["id"]))
    for order in chosen:
        node = store_orders.order_node({**order, "updated_at": order.get("updated_at") or order["processed_at"]})
        lines, refunds = node.pop("lineItems")["nodes"], node["refunds"]
        node["refunds"] = [{k: v for k, v in r.items() if k != "refundLineItems"} for r in refunds]
        yield json.dumps(node) + "\n"
        for line in lines:
            yield json.dumps({**line, "__parentId": node["id"]}) + "\n"
        for refund in refunds:
            for line in refund["refundLineItems"]["nodes"]:
                yield json.dumps({**line, "__parentId": refund["id"]}) + "\n"


def _processed(order: dict) -> datetime:
    return datetime.fromisoformat(order.get("processed_at") or order["created_at"])


def past_orders() -> list[dict]:
    """Paid orders from before the app was installed, at noon UTC of their day (the same
    ids and days all day long)."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    made = []
    for n in range(PAST_ORDERS):
        customer, product = CUSTOMERS[n % len(CUSTOMERS)], PRODUCTS[n % 3]
        when = (today - timedelta(days=PAST_SPREAD_DAYS - n * PAST_SPREAD_DAYS // PAST_ORDERS)).isoformat()
        order_id, quantity = PAST_BASE_ID + n, 1 + n % 2
        line = {"id": order_id * 10, "product_id": product.product_id, "sku": product.sku, "vendor": VENDOR,
                "quantity": quantity, "price": str(product.price), "gift_card": False, "discount_allocations": []}
        made.append({"id": order_id, "name": f"#P{n + 1}", "email": customer.email, "financial_status": "paid",
                     "test": False, "tags": "", "created_at": when, "processed_at": when, "cancelled_at": None,
                     "subtotal_price": str(product.price * quantity), "total_price": str(product.price * quantity),
                     "discount_codes": [], "line_items": [line], "refunds": [],
                     "customer": {"id": customer.customer_id, "email": customer.email}})
    return made
