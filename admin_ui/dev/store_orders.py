"""The development platform's orders: the store's own record of the orders /dev sent.

Every order or refund webhook /dev sends (samples.py `send`) is first kept here, as the
platform keeps the order whether or not its webhook arrives: an `orders/*` payload is the
order as it now stands (refunds it had are kept), `refunds/create` adds its refund to its
order, `orders/cancelled` sets `cancelled_at`; `updated_at` is when. The GraphQL `orders`
query (graphql.py) answers from these, so a test can keep an order here, lose its webhook,
and watch reconciliation heal it.
"""
import json
import re
from datetime import datetime

from sqlalchemy.orm import Session

from admin_ui.dev import records
from plugin.db import utcnow
from plugin.models import DevRecordKind
from plugin.shopify.orders import LINES_PER_ORDER, REFUND_LINES, REFUNDS_PER_ORDER

ORDER_TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/cancelled")
SINCE = re.compile(r"updated_at:>=?'([^']+)'")


def keep(session: Session, shop: str, topic: str, body: bytes | dict) -> None:
    """Keep what one webhook says of an order, before (and whether or not) it is delivered."""
    payload = json.loads(body) if isinstance(body, (bytes, str)) else body
    if not isinstance(payload, dict) or payload.get("id") is None:
        return
    if topic in ORDER_TOPICS:
        _keep_order(session, shop, payload)
    elif topic == "refunds/create" and payload.get("order_id") is not None:
        record = records.find(session, shop, DevRecordKind.ORDER, str(payload["order_id"]))
        if record is not None:
            refunded = {**record.data, "refunds": [*record.data.get("refunds", []), payload]}
            _keep_order(session, shop, {**refunded, "financial_status": "partially_refunded"})


def _keep_order(session: Session, shop: str, payload: dict) -> None:
    key = str(payload["id"])
    record = records.find(session, shop, DevRecordKind.ORDER, key)
    kept = dict(record.data) if record else {}
    refunds = {str(r.get("id")): r for r in [*kept.get("refunds", []), *(payload.get("refunds") or [])]}
    records.put(session, shop, DevRecordKind.ORDER, key,
                {**kept, **payload, "refunds": list(refunds.values()), "updated_at": utcnow().isoformat()})


def orders(session: Session, shop: str, values: dict) -> tuple[dict, int]:
    """`orders(first:, after:, query: "updated_at:>='<ISO>'")`, oldest update first."""
    found = SINCE.search(str(values.get("query") or ""))
    since = datetime.fromisoformat(found.group(1)) if found else None
    kept = sorted((r.data for r in records.listed(session, shop, DevRecordKind.ORDER)
                   if since is None or datetime.fromisoformat(r.data["updated_at"]) >= since),
                  key=lambda data: (data["updated_at"], int(data["id"])))
    start, first = int(values.get("after") or 0), int(values["first"])
    page = kept[start:start + first]
    more = start + first < len(kept)
    return {"nodes": [order_node(data) for data in page],
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None}}, 1 + len(page)


def _gid(kind: str, value) -> str | None:
    return None if value is None else f"gid://shopify/{kind}/{value}"


def _money(payload: dict, field: str) -> dict:
    twin = payload.get(f"{field}_set")
    amount = twin["shop_money"]["amount"] if isinstance(twin, dict) else payload.get(field)
    return {"shopMoney": {"amount": None if amount is None else str(amount)}}


def order_node(order: dict) -> dict:
    """A kept REST order as the GraphQL Order the reconciliation query selects."""
    lines, refunds = order.get("line_items") or [], order.get("refunds") or []
    customer = order.get("customer")
    return {
        "id": _gid("Order", order["id"]), "legacyResourceId": str(order["id"]), "name": order.get("name"),
        "email": order.get("email"), "test": order.get("test") is True,
        "tags": [tag.strip() for tag in str(order.get("tags") or "").split(",") if tag.strip()],
        "processedAt": order.get("processed_at"), "createdAt": order.get("created_at"),
        "updatedAt": order["updated_at"], "cancelledAt": order.get("cancelled_at"),
        "displayFinancialStatus": str(order.get("financial_status") or "pending").upper(),
        "discountCodes": [entry["code"] for entry in order.get("discount_codes") or [] if entry.get("code")],
        "customer": {"id": _gid("Customer", customer["id"])} if isinstance(customer, dict) else None,
        "subtotalPriceSet": _money(order, "subtotal_price"), "totalPriceSet": _money(order, "total_price"),
        "lineItems": {"nodes": [_line_node(line) for line in lines[:LINES_PER_ORDER]],
                      "pageInfo": {"hasNextPage": len(lines) > LINES_PER_ORDER}},
        "refunds": [_refund_node(refund) for refund in refunds[:REFUNDS_PER_ORDER]],
    }


def _line_node(line: dict) -> dict:
    return {
        "id": _gid("LineItem", line.get("id")), "sku": line.get("sku"), "vendor": line.get("vendor"),
        "quantity": line.get("quantity", 1), "isGiftCard": line.get("gift_card") is True,
        "product": {"id": _gid("Product", line["product_id"])} if line.get("product_id") else None,
        "originalUnitPriceSet": _money(line, "price"), "discountAllocations": _allocations(line),
    }


def _allocations(line: dict) -> list[dict]:
    """What the platform allocated to the line; older payloads say only `total_discount`."""
    if line.get("discount_allocations"):
        return [{"allocatedAmountSet": _money(a, "amount")} for a in line["discount_allocations"]]
    if line.get("total_discount") is None and not line.get("total_discount_set"):
        return []
    return [{"allocatedAmountSet": _money(line, "total_discount")}]


def _refund_node(refund: dict) -> dict:
    lines = refund.get("refund_line_items") or []
    return {"id": _gid("Refund", refund.get("id")), "createdAt": refund.get("created_at"),
            "refundLineItems": {"nodes": [_refund_line(line) for line in lines[:REFUND_LINES]],
                                "pageInfo": {"hasNextPage": len(lines) > REFUND_LINES}}}


def _refund_line(line: dict) -> dict:
    item = line.get("line_item") if isinstance(line.get("line_item"), dict) else {}
    return {"quantity": line.get("quantity", 0), "subtotalSet": _money(line, "subtotal"),
            "lineItem": {"id": _gid("LineItem", line.get("line_item_id") or item.get("id")),
                         "isGiftCard": item.get("gift_card") is True}}


def recent(session: Session, shop: str, count: int = 10) -> list[dict]:
    """The newest orders the store keeps, each with its lines' quantities still refundable:
    what /dev's refund form offers. {"id", "name", "customer", "cancelled", "lines": [{"id",
    "title", "left"}]}"""
    kept = sorted((r.data for r in records.listed(session, shop, DevRecordKind.ORDER)),
                  key=lambda data: (data.get("created_at") or "", int(data["id"])), reverse=True)[:count]
    return [{"id": int(data["id"]), "name": data.get("name") or str(data["id"]),
             "customer": ((data.get("customer") or {}).get("first_name") or "a guest"),
             "cancelled": data.get("cancelled_at") is not None,
             "lines": [{"id": line["id"], "title": line.get("title") or "item", "left": left}
                       for line, left in _refundable(data)]} for data in kept]


def find_order(session: Session, shop: str, order_id: int) -> dict | None:
    record = records.find(session, shop, DevRecordKind.ORDER, str(order_id))
    return record.data if record else None


def refundable(order: dict, line_id: int) -> int:
    """How many items of the line no refund has given back yet (0 for an unknown line)."""
    return next((left for line, left in _refundable(order) if line["id"] == line_id), 0)


def _refundable(order: dict) -> list[tuple[dict, int]]:
    given_back: dict[int, int] = {}
    for refund in order.get("refunds") or []:
        for item in refund.get("refund_line_items") or []:
            given_back[item.get("line_item_id")] = given_back.get(item.get("line_item_id"), 0) + int(item["quantity"])
    lines = order.get("line_items") or []
    return [(line, int(line.get("quantity", 1)) - given_back.get(line["id"], 0)) for line in lines]
