"""`app/uninstalled`: the shop's token is already revoked; forget it, keep the data.

Loyalty data stays until `shop/redact` (48 h later), so a reinstall brings the program and
balances back. A late delivery must not undo a reinstall that happened after the uninstall,
so the event's own time is compared with the shop's latest install.
"""
from dataclasses import dataclass

from sqlalchemy import select

from plugin.db import utcnow
from plugin.models import Shop
from plugin.shopify.tokens import forget_grant


@dataclass(frozen=True)
class Uninstall:
    pass


def parse(payload: dict) -> Uninstall:
    return Uninstall()  # the shop comes from the verified header; the payload adds nothing


def apply(session, shop, facts: Uninstall, delivery=None) -> None:
    record = session.scalar(select(Shop).where(Shop.id == shop.id).with_for_update())
    happened = delivery.occurred_at if delivery else utcnow()
    if record.installed_at is not None and record.installed_at > happened:
        return  # reinstalled since: this uninstall is old news
    forget_grant(record)
    record.uninstalled_at = happened
    session.flush()
