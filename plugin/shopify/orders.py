"""Reading orders back from the Admin API: those updated since a time, page by page.

Reconciliation asks for the orders the webhooks may have missed (SHOPIFY.md 10, "Orders query
for reconciliation"): `orders(query: "updated_at:>='<ISO>'", sortKey: UPDATED_AT)`, with the
customer, line items, refunds and cancellation. Each node is turned into the REST shape the
order webhooks carry (`rest_order`), so the same parsers read both and a reconciled order
cannot differ from a webhooked one.

A query's requested cost counts every connection at its `first` (SHOPIFY.md 6.4), so pages
are small: ORDERS_PER_PAGE orders of up to LINES_PER_ORDER lines and REFUNDS_PER_ORDER
refunds of up to REFUND_LINES lines each stay under the 1,000 one query may cost. An order
with more than that is returned marked `complete=False`, never with lines cut off, so no
one is awarded on half an order. Throttling and outages are the client's
(plugin/shopify/client.py). `read_orders` reaches the last 60 days only (READ_WINDOW).
Knows nothing of loyalty: it returns plain payload dicts.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from plugin.shopify.client import AdminClient

READ_WINDOW = timedelta(days=60)
MAX_QUERY_COST = 1000
ORDERS_PER_PAGE = 5
LINES_PER_ORDER = 50
REFUNDS_PER_ORDER = 5
REFUND_LINES = 20
# Each order: itself (1), its lines (2 + a page), each refund (1) with its lines (2 + a page).
ORDER_COST = 1 + (2 + LINES_PER_ORDER) + REFUNDS_PER_ORDER * (1 + 2 + REFUND_LINES)
assert ORDERS_PER_PAGE * ORDER_COST + 1 < MAX_QUERY_COST
MONEY = "shopMoney { amount }"
ORDERS_QUERY = f"""query($first: Int!, $after: String, $query: String, $sortKey: OrderSortKeys) {{
  orders(first: $first, after: $after, query: $query, sortKey: $sortKey) {{
    nodes {{
      id legacyResourceId name email test tags processedAt createdAt updatedAt cancelledAt
      displayFinancialStatus discountCodes customer {{ id }}
      subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }}
      lineItems(first: {LINES_PER_ORDER}) {{
        nodes {{ id sku vendor quantity isGiftCard product {{ id }} originalUnitPriceSet {{ {MONEY} }}
                 discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }} }}
        pageInfo {{ hasNextPage }} }}
      refunds(first: {REFUNDS_PER_ORDER}) {{
        id createdAt
        refundLineItems(first: {REFUND_LINES}) {{
          nodes {{ quantity lineItem {{ id isGiftCard }} subtotalSet {{ {MONEY} }} }}
          pageInfo {{ hasNextPage }} }} }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


@dataclass(frozen=True)
class PlatformOrder:
    order_id: int
    payload: dict  # the order in the webhooks' REST shape
    updated_at: datetime | None
    complete: bool  # False: more lines or refunds than one page holds


def orders_updated_since(client: AdminClient, since: datetime) -> Iterator[list[PlatformOrder]]:
    """Pages of the orders updated at or after `since`, oldest update first. Raises what
    AdminClient.query raises (PlatformUnavailable while the platform is down)."""
    variables = {"first": ORDERS_PER_PAGE, "after": None, "sortKey": "UPDATED_AT",
                 "query": f"updated_at:>='{iso(since)}'"}
    while True:
        found = client.query(ORDERS_QUERY, variables).get("orders") or {}
        yield [platform_order(node) for node in found.get("nodes") or [] if node]
        page = found.get("pageInfo") or {}
        if not page.get("hasNextPage") or not page.get("endCursor"):
            return
        variables = {**variables, "after": page["endCursor"]}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def platform_order(node: dict) -> PlatformOrder:
    payload = rest_order(node)
    lines = node.get("lineItems") or {}
    refunds = node.get("refunds") or []
    complete = (not (lines.get("pageInfo") or {}).get("hasNextPage") and len(refunds) < REFUNDS_PER_ORDER
                and not any(((r.get("refundLineItems") or {}).get("pageInfo") or {}).get("hasNextPage")
                            for r in refunds))
    updated = node.get("updatedAt")
    return PlatformOrder(payload["id"], payload, datetime.fromisoformat(updated) if updated else None, complete)


def numeric_id(gid) -> int | None:
    tail = str(gid or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _money(node: dict | None) -> dict:
    return {"shop_money": {"amount": ((node or {}).get("shopMoney") or {}).get("amount")}}


def rest_order(node: dict) -> dict:
    """A GraphQL Order as the order webhooks carry it (SHOPIFY.md 2.1)."""
    order_id = int(node.get("legacyResourceId") or numeric_id(node.get("id")) or 0)
    customer = node.get("customer")
    return {
        "id": order_id, "name": node.get("name"), "email": node.get("email"), "test": node.get("test") is True,
        "tags": ", ".join(node.get("tags") or []),
        "processed_at": node.get("processedAt"), "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "cancelled_at": node.get("cancelledAt"),
        "financial_status": str(node.get("displayFinancialStatus") or "").lower() or None,
        "customer": {"id": numeric_id(customer.get("id"))} if isinstance(customer, dict) else None,
        "discount_codes": [{"code": code} for code in node.get("discountCodes") or []],
        "subtotal_price_set": _money(node.get("subtotalPriceSet")),
        "total_price_set": _money(node.get("totalPriceSet")),
        "line_items": [_rest_line(line) for line in (node.get("lineItems") or {}).get("nodes") or []],
        "refunds": [_rest_refund(order_id, refund) for refund in node.get("refunds") or []],
    }


def _rest_line(line: dict) -> dict:
    return {
        "id": numeric_id(line.get("id")), "product_id": numeric_id((line.get("product") or {}).get("id")),
        "sku": line.get("sku"), "vendor": line.get("vendor"), "quantity": line.get("quantity", 1),
        "gift_card": line.get("isGiftCard") is True, "price_set": _money(line.get("originalUnitPriceSet")),
        "discount_allocations": [{"amount_set": _money(a.get("allocatedAmountSet"))}
                                 for a in line.get("discountAllocations") or []],
    }


def _rest_refund(order_id: int, refund: dict) -> dict:
    lines = (refund.get("refundLineItems") or {}).get("nodes") or []
    return {
        "id": numeric_id(refund.get("id")), "order_id": order_id, "created_at": refund.get("createdAt"),
        "refund_line_items": [{
            "line_item_id": numeric_id((line.get("lineItem") or {}).get("id")), "quantity": line.get("quantity", 0),
            "subtotal_set": _money(line.get("subtotalSet")),
            "line_item": {"id": numeric_id((line.get("lineItem") or {}).get("id")),
                          "gift_card": (line.get("lineItem") or {}).get("isGiftCard") is True},
        } for line in lines],
    }
