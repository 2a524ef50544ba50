"""`customers/update`: keep the member's email and name current; a stale payload loses."""
from dataclasses import dataclass
from datetime import datetime

from plugin.loyalty.members import update_profile
from webhooks.handlers.payloads import optional_text, platform_id, required, timestamp


@dataclass(frozen=True)
class CustomerProfile:
    customer_id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    updated_at: datetime | None


def parse(payload: dict) -> CustomerProfile:
    return CustomerProfile(
        customer_id=platform_id(required(payload, "id"), "id"),
        email=optional_text(payload.get("email"), 320),
        first_name=optional_text(payload.get("first_name")),
        last_name=optional_text(payload.get("last_name")),
        updated_at=timestamp(payload.get("updated_at") or payload.get("created_at"), "updated_at"),
    )


def apply(session, shop, facts: CustomerProfile, delivery=None) -> int:
    return update_profile(session, shop.id, facts.customer_id, facts.email, facts.first_name,
                          facts.last_name, facts.updated_at)
