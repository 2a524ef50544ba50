"""What the app keeps of the store's own settings: its time zone and its currency.

Business dates (birthdays, calendar years, the referral limit's day) are read in the
shop's IANA zone, and the dashboard shows money in the shop's currency. Both arrive with
`shop/update` (webhooks/handlers/shop_update.py), which the platform sends only when the
merchant changes something; so a periodic job (`fill_missing_shop_facts`, plugin/schedule.py)
asks the Admin API once for every installed shop that has neither yet: a fresh install is
filled within minutes, without putting a platform call (that may fail) in the install
itself. A value we cannot use is not stored: a zone Python does not know would read every
date in UTC anyway, and hide that it did.
"""
import logging
import re
from datetime import timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugin.db import transaction
from plugin.models import Shop
from plugin.shopify.client import AdminClient, PlatformError
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.shop import shop_settings
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

CURRENCY = re.compile(r"[A-Z]{3}")
SHOPS_PER_RUN = 50
# One quick try per run: a shop the platform does not answer for is asked again next run.
CLIENT_LIMITS = {"max_attempts": 1, "max_wait": 1.0}


def business_zone(iana_timezone: str | None) -> tzinfo:
    """The zone business dates (birthdays, calendar years) are read in: the shop's, else UTC."""
    if not iana_timezone:
        return timezone.utc
    try:
        return ZoneInfo(iana_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


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


def fill_missing_shop_facts(limit: int = SHOPS_PER_RUN) -> int:
    """The periodic job: ask the platform for the zone and currency of installed shops that
    lack them; returns how many shops were filled. No transaction is open during a call."""
    with transaction() as session:
        shops = session.execute(select(Shop.id, Shop.domain).where(
            Shop.access_token.is_not(None), Shop.uninstalled_at.is_(None),
            or_(Shop.iana_timezone.is_(None), Shop.currency.is_(None))).order_by(Shop.id).limit(limit)).all()
    filled = 0
    for shop_id, domain in shops:
        try:
            zone, currency = shop_settings(AdminClient(shop_id, domain, **CLIENT_LIMITS))
        except (PlatformError, PlatformAuthError, NotInstalled) as error:
            log.warning("shop settings of shop %s not read: %s", shop_id, type(error).__name__)
            continue
        with transaction() as session:
            keep_shop_facts(session, shop_id, zone, currency)
        filled += 1
    return filled
