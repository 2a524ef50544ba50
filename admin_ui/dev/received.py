"""What the /dev page shows of the development platform: codes, metafields and tags it was sent."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from admin_ui.dev import records
from plugin.models import DevRecordKind


@dataclass(frozen=True)
class CodeRow:
    code: str
    title: str
    customer_id: int | None
    offer: str
    discount: Decimal  # what it takes off the sample order that uses it
    used_by_order: int | None
    active: bool = True  # False once the app deactivated it (discountCodeDeactivate)
    segments: tuple[str, ...] = ()  # the customer segments its context names (a welcome code's)


def _customer_id(fields: dict) -> int | None:
    added = (((fields.get("context") or {}).get("customers") or {}).get("add")) or []
    tail = str(added[0]).rsplit("/", 1)[-1] if added else ""
    return int(tail) if tail.isdigit() else None


def _offer(kind: str, fields: dict, price: Decimal) -> tuple[str, Decimal]:
    """How the code reads, and its discount on an order of `price`."""
    if kind == "free_shipping":
        return "free shipping", Decimal(0)
    value = ((fields.get("customerGets") or {}).get("value")) or {}
    if "percentage" in value:
        percent = Decimal(str(value["percentage"]))
        return f"{(percent * 100).normalize()} % off", (price * percent).quantize(Decimal("0.01"))
    amount = Decimal(str((value.get("discountAmount") or {}).get("amount") or "0"))
    return f"{amount} off", min(amount, price)


def codes(session: Session, shop: str, price: Decimal) -> list[CodeRow]:
    rows = []
    for record in records.listed(session, shop, DevRecordKind.DISCOUNT_CODE):
        fields = record.data.get("input") or {}
        offer, discount = _offer(record.data.get("kind"), fields, price)
        segments = (((fields.get("context") or {}).get("customerSegments") or {}).get("add")) or []
        rows.append(CodeRow(record.key, str(fields.get("title") or ""), _customer_id(fields), offer, discount,
                            record.data.get("used_by_order"), record.data.get("active", True) is not False,
                            tuple(str(s) for s in segments)))
    return rows


def find_code(session: Session, shop: str, code: str, price: Decimal) -> CodeRow | None:
    return next((row for row in codes(session, shop, price) if row.code == code.strip().upper()), None)


def checkout_refusal(session: Session, shop: str, row: CodeRow, customer_id: int) -> str | None:
    """Why checkout would refuse the code for this customer, as the store does, or None: a
    deactivated or used code, or a segment (customers without orders) the customer is not in."""
    if not row.active:
        return "deactivated"
    if row.used_by_order:
        return "already-used"
    for segment_id in row.segments:
        segment = records.find(session, shop, DevRecordKind.SEGMENT, segment_id)
        query = segment.data.get("query") if segment else None
        if query == "number_of_orders = 0" and _has_orders(session, shop, customer_id):
            return "not-new"
    return None


def _has_orders(session: Session, shop: str, customer_id: int) -> bool:
    return any(((record.data.get("customer") or {}).get("id")) == customer_id
               for record in records.listed(session, shop, DevRecordKind.ORDER))


def mark_code_used(session: Session, shop: str, code: str, order_id: int) -> None:
    """The platform knows its codes' usage: an order that carried it used it."""
    record = records.find(session, shop, DevRecordKind.DISCOUNT_CODE, code)
    if record is not None:
        records.put(session, shop, DevRecordKind.DISCOUNT_CODE, code, {**record.data, "used_by_order": order_id})


def metafields(session: Session, shop: str) -> list[dict]:
    return [record.data for record in records.listed(session, shop, DevRecordKind.METAFIELD)]


def tags(session: Session, shop: str) -> list[dict]:
    return [record.data for record in records.listed(session, shop, DevRecordKind.CUSTOMER_TAGS)]
