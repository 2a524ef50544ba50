"""The store's past orders in bulk: `bulkOperationRunQuery`, its status, its JSONL result.

SHOPIFY.md 10 ("Bulk operations"): plain pagination stops at 25,000 objects, so orders of
the last N days are read by a bulk operation. The query holds three connections (orders,
their line items, each refund's lines; at most five, two levels deep) and no `first`
(bulk queries take none). `groupObjects: true` asks the platform to write each object's
children right after it (the default is false since 2026-01), so `read_orders` can put an
order together from consecutive lines and stream the file with one order in memory. Each
order comes out in the REST shape the order webhooks carry (orders.py `rest_order`), so the
same parser reads it. The result URL needs no token and lasts seven days. `read_orders`
reaches the last 60 days only, unless the shop granted `read_all_orders`.
Knows nothing of loyalty: it returns plain payload dicts.
"""
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import requests

from plugin.shopify.client import TIMEOUT, AdminClient, PlatformError
from plugin.shopify.orders import MONEY, iso, rest_order

ORDER_FIELDS = f"""id legacyResourceId name email test tags processedAt createdAt updatedAt cancelledAt
      displayFinancialStatus discountCodes customer {{ id }}
      subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }}"""
LINE_FIELDS = f"""id sku vendor quantity isGiftCard product {{ id }} originalUnitPriceSet {{ {MONEY} }}
      discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }}"""
REFUND_LINE_FIELDS = f"quantity lineItem {{ id isGiftCard }} subtotalSet {{ {MONEY} }}"
RUN = """mutation($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
    bulkOperation { id status } userErrors { field message code } } }"""
STATUS = """query($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount url } } }"""
FINISHED = ("COMPLETED", "FAILED", "CANCELED", "EXPIRED")


def orders_query(since: datetime) -> str:
    """The bulk query: every order processed at or after `since`, with its lines and refunds."""
    return f"""{{ orders(query: "processed_at:>='{iso(since)}'", sortKey: PROCESSED_AT) {{ edges {{ node {{
      {ORDER_FIELDS}
      lineItems {{ edges {{ node {{ {LINE_FIELDS} }} }} }}
      refunds {{ id createdAt refundLineItems {{ edges {{ node {{ {REFUND_LINE_FIELDS} }} }} }} }}
    }} }} }} }}"""


@dataclass(frozen=True)
class BulkStatus:
    status: str  # CREATED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED ...
    url: str | None = None  # the JSONL result once COMPLETED (None when nothing matched)
    error_code: str | None = None
    object_count: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def start_orders_export(client: AdminClient, since: datetime) -> str:
    """Start the bulk operation; its id. Raises UserErrors (e.g. one already running)."""
    result = client.mutate(RUN, {"query": orders_query(since), "group": True}, "bulkOperationRunQuery")
    operation = result.get("bulkOperation") or {}
    if not operation.get("id"):
        raise PlatformError("the bulk operation was not started")
    return str(operation["id"])


def bulk_status(client: AdminClient, operation_id: str) -> BulkStatus:
    node = client.query(STATUS, {"id": operation_id}).get("node") or {}
    return BulkStatus(str(node.get("status") or "UNKNOWN"), node.get("url"), node.get("errorCode"),
                      int(node.get("objectCount") or 0))


def read_orders(url: str | None, http: requests.Session | None = None) -> Iterator[dict]:
    """The result's orders in the webhooks' REST shape, one at a time, streamed."""
    if not url:
        return
    with (http or requests).get(url, stream=True, timeout=TIMEOUT) as response:
        if response.status_code != 200:
            raise PlatformError(f"the bulk operation's result answered HTTP {response.status_code}")
        yield from assemble(json.loads(line) for line in response.iter_lines() if line)


def assemble(objects: Iterator[dict]) -> Iterator[dict]:
    """Orders put together from the JSONL's objects: an order, then its children. A line
    item names the order as its `__parentId`; a refund line names its refund, or the order
    when the platform names the nearest node: then it belongs to the order's only refund,
    and with several refunds the order is marked `INCOMPLETE` (never awarded on a guess)."""
    order = None
    for found in objects:
        parent = found.pop("__parentId", None)
        if parent is None:
            if order is not None:
                yield _finished(order)
            order = {**found, "lineItems": {"nodes": []},
                     "refunds": [{**r, "refundLineItems": {"nodes": []}} for r in found.get("refunds") or []]}
        elif order is not None:
            _place(order, parent, found)
    if order is not None:
        yield _finished(order)


INCOMPLETE = "_incomplete"


def _place(order: dict, parent: str, child: dict) -> None:
    refunds = order["refunds"]
    refund = next((r for r in refunds if r.get("id") == parent), None)
    if refund is None and "subtotalSet" in child and parent == order.get("id"):
        refund = refunds[0] if len(refunds) == 1 else None
        order[INCOMPLETE] = order.get(INCOMPLETE) or refund is None
    if refund is not None:
        refund["refundLineItems"]["nodes"].append(child)
    elif parent == order.get("id") and "subtotalSet" not in child:
        order["lineItems"]["nodes"].append(child)


def _finished(order: dict) -> dict:
    return {**rest_order(order), INCOMPLETE: bool(order.get(INCOMPLETE))}
