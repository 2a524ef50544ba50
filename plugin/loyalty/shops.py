"""Finding a shop by its domain, creating it with the default program on first sight.

Recorded webhooks must replay into a fresh app, so a webhook from an unknown shop creates
it rather than being refused; the install flow fills in the rest later.
"""
import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from plugin.db import insert_for
from plugin.models import Program, Shop

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


def is_shop_domain(value: str | None) -> bool:
    return bool(value) and SHOP_DOMAIN.fullmatch(value) is not None


def find_shop(session: Session, domain: str) -> Shop | None:
    # Joined: one statement for the shop and its program (each batch of webhooks reads both).
    return session.scalar(select(Shop).options(joinedload(Shop.program)).where(Shop.domain == domain))


def get_or_create_shop(session: Session, domain: str) -> Shop:
    """The shop with this domain and its program, created with SPEC defaults if missing."""
    shop = find_shop(session, domain)
    if shop is not None:
        return shop
    # ON CONFLICT: two workers may meet the same new shop at once.
    created = session.execute(insert_for(session, Shop.__table__).values(domain=domain)
                              .on_conflict_do_nothing().returning(Shop.id)).first()
    shop_id = session.scalar(select(Shop.id).where(Shop.domain == domain))
    session.execute(insert_for(session, Program.__table__).values(
        shop_id=shop_id, **_program_defaults()).on_conflict_do_nothing())
    if created is not None:
        from plugin.loyalty.rewards.catalog import add_default_rewards

        add_default_rewards(session, shop_id)
    session.expire_all()
    return find_shop(session, domain)


def _program_defaults() -> dict:
    columns = Program.__table__.columns
    names = ("points_per_currency_unit", "signup_bonus", "excluded_order_tags",
             "exclude_gift_cards", "award_test_orders", "return_points_on_expiry", "updated_at",
             "pending_days", "expiry_policy", "expiry_reminder_days", "referral_points", "birthday_bonus",
             "store_sync_enabled", "tier_basis", "tier_window")
    return {name: columns[name].default.arg(None) if columns[name].default.is_callable
            else columns[name].default.arg for name in names}
