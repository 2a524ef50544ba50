"""The development platform's store credit, segments and automatic discounts (SHOPIFY.md 10, 11).

Store credit: `storeCreditAccountCredit` keeps one record per transaction (the customer, the
amount and currency, when it was made) and answers it; `customer(id) { storeCreditAccounts
... transactions }` reads them back newest first, one account per currency, which is what
the app reads after a lost answer. Segments and automatic discounts are kept as sent, so
/dev shows which perk each tier's members get at checkout. Deleting what is not there is a
userError, as on the platform.
"""
import secrets
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from admin_ui.dev import records
from plugin.db import utcnow
from plugin.models import DevRecordKind

MUTATION_COST = 10


def _gid(kind: str) -> str:
    return f"gid://shopify/{kind}/{secrets.randbelow(10 ** 12)}"


def credit(session: Session, shop: str, values: dict):
    owner = str(values.get("id") or "")
    wanted = values.get("creditInput") or {}
    money = wanted.get("creditAmount") or {}
    try:
        amount = Decimal(str(money.get("amount")))
    except InvalidOperation:
        amount = Decimal(0)
    if not owner.startswith("gid://shopify/Customer/") or not amount.is_finite() or amount <= 0 \
            or not money.get("currencyCode"):
        return {"storeCreditAccountTransaction": None, "userErrors": [
            {"field": ["creditInput", "creditAmount", "amount"], "code": "NEGATIVE_OR_ZERO_AMOUNT",
             "message": "A positive amount must be used to credit a store credit account."}]}, MUTATION_COST
    node = {"id": _gid("StoreCreditAccountCreditTransaction"), "createdAt": utcnow().isoformat(),
            "amount": {"amount": str(amount), "currencyCode": str(money["currencyCode"])}}
    records.put(session, shop, DevRecordKind.STORE_CREDIT, node["id"],
                {**node, "customer": owner, "expiresAt": wanted.get("expiresAt")})
    return {"storeCreditAccountTransaction": node, "userErrors": []}, MUTATION_COST


def customer(session: Session, shop: str, values: dict):
    owner = str(values.get("id") or "")
    accounts: dict[str, list] = {}
    for record in records.listed(session, shop, DevRecordKind.STORE_CREDIT):  # newest first
        if record.data["customer"] == owner:
            accounts.setdefault(record.data["amount"]["currencyCode"], []).append(
                {name: record.data[name] for name in ("id", "createdAt", "amount")})
    return {"id": owner, "storeCreditAccounts": {"nodes": [
        {"id": f"gid://shopify/StoreCreditAccount/{owner.rsplit('/', 1)[-1]}{currency}",
         "transactions": {"nodes": nodes}} for currency, nodes in accounts.items()]}}, 1


def credits(session: Session, shop: str) -> list[dict]:
    """What /dev shows: every store credit the app granted, newest first."""
    return [record.data for record in records.listed(session, shop, DevRecordKind.STORE_CREDIT)]


def _missing(field: str, name: str) -> dict:
    return {"field": [field], "message": f"{name} does not exist", "code": "NOT_FOUND"}


def segment_create(session: Session, shop: str, values: dict):
    name, query = str(values.get("name") or ""), str(values.get("query") or "")
    taken = any(r.data["name"] == name for r in records.listed(session, shop, DevRecordKind.SEGMENT))
    if not name or not query or taken:
        message = "Name has already been taken" if taken else "Name and query are required"
        return {"segment": None, "userErrors": [{"field": ["name"], "message": message}]}, MUTATION_COST
    segment_id = _gid("Segment")
    records.put(session, shop, DevRecordKind.SEGMENT, segment_id, {"id": segment_id, "name": name, "query": query})
    return {"segment": {"id": segment_id}, "userErrors": []}, MUTATION_COST


def segment_update(session: Session, shop: str, values: dict):
    segment_id = str(values.get("id") or "")
    if records.find(session, shop, DevRecordKind.SEGMENT, segment_id) is None:
        return {"segment": None, "userErrors": [_missing("id", "Segment")]}, MUTATION_COST
    records.put(session, shop, DevRecordKind.SEGMENT, segment_id,
                {"id": segment_id, "name": str(values.get("name")), "query": str(values.get("query"))})
    return {"segment": {"id": segment_id}, "userErrors": []}, MUTATION_COST


def segment_delete(session: Session, shop: str, values: dict):
    segment_id = str(values.get("id") or "")
    if not records.remove(session, shop, DevRecordKind.SEGMENT, segment_id):
        return {"deletedSegmentId": None, "userErrors": [_missing("id", "Segment")]}, MUTATION_COST
    return {"deletedSegmentId": segment_id, "userErrors": []}, MUTATION_COST


def automatic_create(kind: str):
    def create(session: Session, shop: str, values: dict):
        fields = values.get("automaticBasicDiscount") or values.get("freeShippingAutomaticDiscount") or {}
        problem = _automatic_problem(session, shop, kind, fields)
        if problem:
            return {"automaticDiscountNode": None, "userErrors": [problem]}, MUTATION_COST
        node_id = _gid("DiscountAutomaticNode")
        records.put(session, shop, DevRecordKind.AUTOMATIC_DISCOUNT, node_id, {"id": node_id, "kind": kind,
                                                                               "input": fields})
        return {"automaticDiscountNode": {"id": node_id}, "userErrors": []}, MUTATION_COST

    return create


def automatic_update(kind: str):
    def change(session: Session, shop: str, values: dict):
        node_id = str(values.get("id") or "")
        fields = values.get("automaticBasicDiscount") or values.get("freeShippingAutomaticDiscount") or {}
        record = records.find(session, shop, DevRecordKind.AUTOMATIC_DISCOUNT, node_id)
        problem = _missing("id", "Discount") if record is None or record.data["kind"] != kind \
            else _automatic_problem(session, shop, kind, fields)
        if problem:
            return {"automaticDiscountNode": None, "userErrors": [problem]}, MUTATION_COST
        records.put(session, shop, DevRecordKind.AUTOMATIC_DISCOUNT, node_id, {"id": node_id, "kind": kind,
                                                                               "input": fields})
        return {"automaticDiscountNode": {"id": node_id}, "userErrors": []}, MUTATION_COST

    return change


def automatic_delete(session: Session, shop: str, values: dict):
    node_id = str(values.get("id") or "")
    if not records.remove(session, shop, DevRecordKind.AUTOMATIC_DISCOUNT, node_id):
        return {"deletedAutomaticDiscountId": None, "userErrors": [_missing("id", "Discount")]}, MUTATION_COST
    return {"deletedAutomaticDiscountId": node_id, "userErrors": []}, MUTATION_COST


def _automatic_problem(session: Session, shop: str, kind: str, fields: dict) -> dict | None:
    if not fields.get("title") or not fields.get("startsAt") or (kind == "basic" and not fields.get("customerGets")):
        return {"field": ["input"], "message": "title, startsAt (and customerGets) can't be blank", "code": "BLANK"}
    segments = (((fields.get("context") or {}).get("customerSegments")) or {}).get("add") or []
    if any(records.find(session, shop, DevRecordKind.SEGMENT, str(s)) is None for s in segments):
        return {"field": ["context", "customerSegments"], "message": "Segment does not exist", "code": "INVALID"}
    return None


def perks(session: Session, shop: str) -> list[dict]:
    """What /dev shows: each automatic discount with the segment query it applies to."""
    shown = []
    for record in records.listed(session, shop, DevRecordKind.AUTOMATIC_DISCOUNT):
        fields = record.data["input"]
        segment_ids = (((fields.get("context") or {}).get("customerSegments")) or {}).get("add") or []
        segments = [records.find(session, shop, DevRecordKind.SEGMENT, str(s)) for s in segment_ids]
        value = ((fields.get("customerGets") or {}).get("value")) or {}
        offer = "free shipping" if record.data["kind"] == "free_shipping" else \
            f"{(Decimal(str(value.get('percentage', 0))) * 100).normalize()} % off"
        shown.append({"title": fields.get("title"), "offer": offer,
                      "segments": ", ".join(s.data["query"] for s in segments if s is not None)})
    return shown
