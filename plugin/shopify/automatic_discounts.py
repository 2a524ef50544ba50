"""Automatic discounts for a customer segment (SHOPIFY.md 6, 11): a perk without a code.

Since API 2025-10 an automatic discount's `context` may name customer segments, so the
discount applies at checkout to whoever is in the segment. Free shipping has its own
mutations (`discountAutomaticFreeShipping*`), the rest is the basic automatic discount; a
discount cannot change between the two, so callers delete and create when the kind changes.
The offer is told as plain values (`Offer`, plugin/shopify/discounts.py).
"""
from datetime import datetime

from plugin.shopify.client import AdminClient, UserErrors
from plugin.shopify.discounts import Offer, OfferKind, money

NODE = "automaticDiscountNode { id } userErrors { field message code }"
CREATE = {
    "basic": f"""mutation($discount: DiscountAutomaticBasicInput!) {{
  discountAutomaticBasicCreate(automaticBasicDiscount: $discount) {{ {NODE} }} }}""",
    "free_shipping": f"""mutation($discount: DiscountAutomaticFreeShippingInput!) {{
  discountAutomaticFreeShippingCreate(freeShippingAutomaticDiscount: $discount) {{ {NODE} }} }}""",
}
UPDATE = {
    "basic": f"""mutation($id: ID!, $discount: DiscountAutomaticBasicInput!) {{
  discountAutomaticBasicUpdate(id: $id, automaticBasicDiscount: $discount) {{ {NODE} }} }}""",
    "free_shipping": f"""mutation($id: ID!, $discount: DiscountAutomaticFreeShippingInput!) {{
  discountAutomaticFreeShippingUpdate(id: $id, freeShippingAutomaticDiscount: $discount) {{ {NODE} }} }}""",
}
FIELDS = {"basic": ("discountAutomaticBasicCreate", "discountAutomaticBasicUpdate"),
          "free_shipping": ("discountAutomaticFreeShippingCreate", "discountAutomaticFreeShippingUpdate")}
DELETE = """mutation($id: ID!) { discountAutomaticDelete(id: $id) {
  deletedAutomaticDiscountId userErrors { field message code } } }"""


def discount_kind(offer: Offer) -> str:
    """"free_shipping" or "basic": which mutations make and change this offer's discount."""
    return "free_shipping" if offer.kind is OfferKind.FREE_SHIPPING else "basic"


def create_automatic(client: AdminClient, title: str, offer: Offer, segment_id: str, starts_at: datetime) -> str:
    kind = discount_kind(offer)
    made = client.mutate(CREATE[kind], {"discount": automatic_input(title, offer, segment_id, starts_at)},
                         FIELDS[kind][0])
    return made["automaticDiscountNode"]["id"]


def update_automatic(client: AdminClient, discount_id: str, title: str, offer: Offer, segment_id: str,
                     starts_at: datetime) -> None:
    kind = discount_kind(offer)
    client.mutate(UPDATE[kind], {"id": discount_id, "discount": automatic_input(title, offer, segment_id, starts_at)},
                  FIELDS[kind][1])


def delete_automatic(client: AdminClient, discount_id: str) -> None:
    try:
        client.mutate(DELETE, {"id": discount_id}, "discountAutomaticDelete")
    except UserErrors:
        pass  # not found: deleted in the store admin already, which is what was wanted


def automatic_input(title: str, offer: Offer, segment_id: str, starts_at: datetime) -> dict:
    fields = {
        "title": title,
        "startsAt": starts_at.isoformat(),
        "endsAt": None,
        "context": {"customerSegments": {"add": [segment_id]}},
        "combinesWith": {"productDiscounts": offer.with_product_discounts,
                         "orderDiscounts": offer.with_order_discounts,
                         "shippingDiscounts": offer.with_shipping_discounts},
    }
    if offer.min_subtotal is not None:
        fields["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": money(offer.min_subtotal)}}
    if offer.kind is OfferKind.FREE_SHIPPING:
        fields["destination"] = {"all": True}
    elif offer.kind is OfferKind.PERCENTAGE_OFF:
        fields["customerGets"] = {"value": {"percentage": float(offer.value / 100)}, "items": {"all": True}}
    else:
        raise ValueError(f"a tier perk is free shipping or a percentage off, not {offer.kind.value}")
    return fields
