"""What the app keeps of the store's own settings: its time zone and its currency.

Business dates (birthdays, calendar years, the referral limit's day) are read in the
shop's IANA zone, and the dashboard shows money in the shop's currency. Both arrive with
`shop/update` (webhooks/handlers/shop_update.py). A value we cannot use is not stored: a
zone Python does not know would read every date in UTC anyway, and hide that it did.
"""
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlalchemy.orm import Session

from plugin.models import Shop

CURRENCY = re.compile(r"[A-Z]{3}")


def known_zone(name: str | None) -> str | None:
    """The IANA zone name if Python's zone database knows it, else None."""
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def currency_code(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if CURRENCY.fullmatch(code) else None


def keep_shop_facts(session: Session, shop_id: int, iana_timezone: str | None, currency: str | None) -> None:
    """Store the zone and currency the store reports; a missing or unusable one keeps what we had."""
    values = {name: value for name, value in (("iana_timezone", known_zone(iana_timezone)),
                                              ("currency", currency_code(currency))) if value is not None}
    if values:
        session.execute(update(Shop).where(Shop.id == shop_id).values(**values)
                        .execution_options(synchronize_session=False))
