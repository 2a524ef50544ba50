"""Creating a discount code on the platform (one Admin API call) from plain values.

Amount and percentage offers use `discountCodeBasicCreate`, free shipping
`discountCodeFreeShippingCreate`. A code given to a customer is limited to them through
`context` (API 2025-10 and later; `customerSelection` is deprecated); a referred friend's
welcome code (the friend may not be a customer yet) is kept to a customer segment, the
customers without orders, or open to all buyers when the store has no such segment.
Every code is usable once, with its offer's minimum subtotal, its expiry and `combinesWith`.
Percentages go as fractions: the platform reads 0.1 as 10 % and refuses 10 (SHOPIFY.md trap 10).
A free product is the basic discount at 100 % (1.0) on that one product's items.

The loyalty domain describes the code (`CodeSpec`) and what it gives (`Offer`) from its
rewards; this module knows no reward or redemption row.
"""
import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from plugin.shopify.client import AdminClient, UserErrors

PAYLOAD = "codeDiscountNode { id } userErrors { field message code }"
BASIC = f"""mutation($discount: DiscountCodeBasicInput!) {{
  discountCodeBasicCreate(basicCodeDiscount: $discount) {{ {PAYLOAD} }} }}"""
FREE_SHIPPING = f"""mutation($discount: DiscountCodeFreeShippingInput!) {{
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {{ {PAYLOAD} }} }}"""
BY_CODE = "query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"
DEACTIVATE = f"""mutation($id: ID!) {{ discountCodeDeactivate(id: $id) {{ {PAYLOAD} }} }}"""


@dataclass(frozen=True)
class CodeSpec:
    """One code to create: what the shopper types, who may use it, and when."""

    code: str
    title: str
    customer_id: int | None  # None: anyone may use it (a referred friend is not a customer yet)
    starts_at: datetime
    ends_at: datetime | None
    # A code for no one customer may still be kept to a customer segment (a referred friend's
    # welcome code: the segment of customers without orders).
    segment_id: str | None = None


class OfferKind(enum.Enum):
    AMOUNT_OFF = "amount_off"
    PERCENTAGE_OFF = "percentage_off"
    FREE_SHIPPING = "free_shipping"
    FREE_PRODUCT = "free_product"  # one product at 100 % off


@dataclass(frozen=True)
class Offer:
    """What a code gives at checkout, and with which other discounts it may be combined."""

    kind: OfferKind
    value: Decimal  # money off for AMOUNT_OFF, percent (10 = 10 %) for PERCENTAGE_OFF; unused for FREE_SHIPPING
    min_subtotal: Decimal | None
    with_product_discounts: bool
    with_order_discounts: bool
    with_shipping_discounts: bool
    product_id: int | None = None  # the product FREE_PRODUCT gives


def create_code(client: AdminClient, spec: CodeSpec, offer: Offer) -> str:
    """Create the code on the platform; returns its DiscountCodeNode id.

    If the platform says the code is TAKEN, an earlier try did reach it and its answer was
    lost (the client retries on its own, and codes hold 60 random bits, so no other code can
    collide): the existing code is looked up and adopted instead of failing the redemption.
    """
    document, field = (FREE_SHIPPING, "discountCodeFreeShippingCreate") if offer.kind is OfferKind.FREE_SHIPPING \
        else (BASIC, "discountCodeBasicCreate")
    variables = {"discount": discount_input(spec, offer)}
    try:
        return client.mutate(document, variables, field)["codeDiscountNode"]["id"]
    except UserErrors as refused:
        taken = any(error.get("code") == "TAKEN" for error in refused.errors)
        existing = client.query(BY_CODE, {"code": spec.code}).get("codeDiscountNodeByCode") if taken else None
        if existing:
            return existing["id"]
        raise


def deactivate_code(client: AdminClient, discount_id: str) -> None:
    """Switch a code off on the platform (it stays listed there, unusable); UserErrors if refused."""
    client.mutate(DEACTIVATE, {"id": discount_id}, "discountCodeDeactivate")


def discount_input(spec: CodeSpec, offer: Offer) -> dict:
    fields = {
        "title": spec.title,
        "code": spec.code,
        "startsAt": spec.starts_at.isoformat(),
        "endsAt": spec.ends_at.isoformat() if spec.ends_at else None,
        "context": _context(spec),
        "combinesWith": {"productDiscounts": offer.with_product_discounts,
                         "orderDiscounts": offer.with_order_discounts,
                         "shippingDiscounts": offer.with_shipping_discounts},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }
    if offer.min_subtotal is not None:
        fields["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": money(offer.min_subtotal)}}
    if offer.kind is OfferKind.FREE_SHIPPING:
        fields["destination"] = {"all": True}
        return fields
    fields["customerGets"] = {"value": _value(offer), "items": _items(offer)}
    return fields


def _items(offer: Offer) -> dict:
    if offer.kind is OfferKind.FREE_PRODUCT:
        return {"products": {"productsToAdd": [f"gid://shopify/Product/{offer.product_id}"]}}
    return {"all": True}


def _context(spec: CodeSpec) -> dict:
    if spec.customer_id is not None:
        return {"customers": {"add": [f"gid://shopify/Customer/{spec.customer_id}"]}}
    if spec.segment_id is not None:
        return {"customerSegments": {"add": [spec.segment_id]}}
    return {"all": "ALL"}


def _value(offer: Offer) -> dict:
    if offer.kind is OfferKind.FREE_PRODUCT:
        return {"percentage": 1.0}
    if offer.kind is OfferKind.PERCENTAGE_OFF:
        return {"percentage": float(offer.value / Decimal(100))}
    return {"discountAmount": {"amount": money(offer.value), "appliesOnEachItem": False}}


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))
