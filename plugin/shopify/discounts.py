"""Creating the platform discount code behind a redemption (one Admin API call).

Amount and percentage rewards use `discountCodeBasicCreate`, free shipping
`discountCodeFreeShippingCreate`. Every code is limited to the member's customer through
`context` (API 2025-10 and later; `customerSelection` is deprecated), usable once, with the
reward's minimum subtotal, expiry and `combinesWith`. Percentages go as fractions: the
platform reads 0.1 as 10 % and refuses 10 (SHOPIFY.md trap 10).
"""
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


def create_discount_code(client: AdminClient, redemption: Redemption, reward: Reward, customer_id: int,
                         starts_at: datetime) -> str:
    """Create the code on the platform; returns its DiscountCodeNode id.

    If the platform says the code is TAKEN, an earlier try did reach it and its answer was
    lost (the client retries on its own, and codes hold 60 random bits, so no other code can
    collide): the existing code is looked up and adopted instead of failing the redemption.
    """
    document, field = (FREE_SHIPPING, "discountCodeFreeShippingCreate") if reward.kind is RewardKind.FREE_SHIPPING \
        else (BASIC, "discountCodeBasicCreate")
    variables = {"discount": discount_input(redemption, reward, customer_id, starts_at)}
    try:
        return client.mutate(document, variables, field)["codeDiscountNode"]["id"]
    except UserErrors as refused:
        taken = any(error.get("code") == "TAKEN" for error in refused.errors)
        existing = client.query(BY_CODE, {"code": redemption.code}).get("codeDiscountNodeByCode") if taken else None
        if existing:
            return existing["id"]
        raise


def discount_input(redemption: Redemption, reward: Reward, customer_id: int, starts_at: datetime) -> dict:
    combines = reward.combines_with or {}
    fields = {
        "title": f"Loyalty reward: {reward.name}",
        "code": redemption.code,
        "startsAt": starts_at.isoformat(),
        "endsAt": redemption.expires_at.isoformat() if redemption.expires_at else None,
        "context": {"customers": {"add": [f"gid://shopify/Customer/{customer_id}"]}},
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
