"""Creating the platform discount code behind a redemption (one Admin API call).

Amount and percentage rewards use `discountCodeBasicCreate`, free shipping
`discountCodeFreeShippingCreate`. A redemption's code is limited to the member's customer
through `context` (API 2025-10 and later; `customerSelection` is deprecated); a referred
friend's welcome code is open to all buyers (the friend may not be a customer yet). Every
code is usable once, with the reward's minimum subtotal, expiry and `combinesWith`. Percentages go as fractions: the
platform reads 0.1 as 10 % and refuses 10 (SHOPIFY.md trap 10).
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from plugin.models import Redemption, Reward, RewardKind
from plugin.shopify.client import AdminClient, UserErrors

PAYLOAD = "codeDiscountNode { id } userErrors { field message code }"
BASIC = f"""mutation($discount: DiscountCodeBasicInput!) {{
  discountCodeBasicCreate(basicCodeDiscount: $discount) {{ {PAYLOAD} }} }}"""
FREE_SHIPPING = f"""mutation($discount: DiscountCodeFreeShippingInput!) {{
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {{ {PAYLOAD} }} }}"""
BY_CODE = "query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"


@dataclass(frozen=True)
class CodeSpec:
    """One code to create: what the shopper types, who may use it, and when."""

    code: str
    title: str
    customer_id: int | None  # None: anyone may use it (a referred friend is not a customer yet)
    starts_at: datetime
    ends_at: datetime | None


def create_discount_code(client: AdminClient, redemption: Redemption, reward: Reward, customer_id: int,
                         starts_at: datetime) -> str:
    """Create a redemption's code, limited to its member's customer; returns its node id."""
    return create_code(client, CodeSpec(redemption.code, f"Loyalty reward: {reward.name}", customer_id, starts_at,
                                        redemption.expires_at), reward)


def create_code(client: AdminClient, spec: CodeSpec, reward: Reward) -> str:
    """Create the code on the platform; returns its DiscountCodeNode id.

    If the platform says the code is TAKEN, an earlier try did reach it and its answer was
    lost (the client retries on its own, and codes hold 60 random bits, so no other code can
    collide): the existing code is looked up and adopted instead of failing the redemption.
    """
    document, field = (FREE_SHIPPING, "discountCodeFreeShippingCreate") if reward.kind is RewardKind.FREE_SHIPPING \
        else (BASIC, "discountCodeBasicCreate")
    variables = {"discount": discount_input(spec, reward)}
    try:
        return client.mutate(document, variables, field)["codeDiscountNode"]["id"]
    except UserErrors as refused:
        taken = any(error.get("code") == "TAKEN" for error in refused.errors)
        existing = client.query(BY_CODE, {"code": spec.code}).get("codeDiscountNodeByCode") if taken else None
        if existing:
            return existing["id"]
        raise


def discount_input(spec: CodeSpec, reward: Reward) -> dict:
    combines = reward.combines_with or {}
    everyone = {"all": "ALL"}
    fields = {
        "title": spec.title,
        "code": spec.code,
        "startsAt": spec.starts_at.isoformat(),
        "endsAt": spec.ends_at.isoformat() if spec.ends_at else None,
        "context": everyone if spec.customer_id is None else {
            "customers": {"add": [f"gid://shopify/Customer/{spec.customer_id}"]}},
        "combinesWith": {"productDiscounts": bool(combines.get("product_discounts")),
                         "orderDiscounts": bool(combines.get("order_discounts")),
                         "shippingDiscounts": bool(combines.get("shipping_discounts"))},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }
    if reward.min_subtotal is not None:
        fields["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": money(reward.min_subtotal)}}
    if reward.kind is RewardKind.FREE_SHIPPING:
        fields["destination"] = {"all": True}
        return fields
    fields["customerGets"] = {"value": _value(reward), "items": {"all": True}}
    return fields


def _value(reward: Reward) -> dict:
    if reward.kind is RewardKind.PERCENTAGE_OFF:
        return {"percentage": float(reward.value / Decimal(100))}
    return {"discountAmount": {"amount": money(reward.value), "appliesOnEachItem": False}}


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))
