"""Orders whose subtotal disagrees with their lines, listed for the merchant.

An order's `subtotal_price` should be its `total_line_items_price` less `total_discounts`.
When the store sends figures that disagree, the points follow `subtotal_price` (SPEC
"Points rules") and the order keeps what its lines said (`orders.lines_subtotal`, written
with its award), so the merchant can look at it: the Operations page and
`GET /api/orders/subtotal-mismatches` list the newest first.
"""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import plain_decimal
from plugin.models import OrderRecord

LIMIT = 100


def subtotal_mismatches(session: Session, shop_id: int, limit: int = LIMIT) -> list[dict]:
    rows = session.scalars(select(OrderRecord).where(OrderRecord.shop_id == shop_id,
                                                     OrderRecord.lines_subtotal.is_not(None))
                           .order_by(OrderRecord.id.desc()).limit(limit))
    found = []
    for row in rows:
        subtotal = plain_decimal(Decimal((row.facts or {}).get("subtotal", "0")))
        found.append({"order_id": str(row.order_id), "name": row.name, "subtotal_price": str(subtotal),
                      "lines_subtotal": str(row.lines_subtotal),
                      "difference": str(plain_decimal(row.lines_subtotal - subtotal)),
                      "earned_points": row.earned_points,
                      "paid_at": row.paid_at.isoformat() if row.paid_at else None})
    return found
