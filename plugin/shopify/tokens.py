"""Shop credentials at rest: encrypted, stored as a pair, refreshed before they expire.

Tokens are Fernet-encrypted with LOYALTY_ENCRYPTION_KEY; keys listed in
LOYALTY_ENCRYPTION_KEY_PREVIOUS still decrypt, so a key can be rotated without downtime and
`flask --app plugin rotate-encryption-key` then re-encrypts every row with the current key.
A refresh token works once, so one refresh at a time per shop, on every backend: the
refresher first takes a lease (`shops.token_refresh_until`, one conditional UPDATE in a
short transaction), calls the platform with no transaction open, then stores the new pair
and drops the lease in its own transaction straight away. Others wait for the new pair
instead of spending the old refresh token. No lock is held during the platform call: on
PostgreSQL a `FOR UPDATE` there blocked every insert that references the shop, and on
SQLite it held the whole database's write lock. A refresher that dies lets the lease lapse.
"""
import time
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin.db import is_busy, reading_session, transaction, utcnow
from plugin.models.shops import Shop  # the shop and its token columns: platform facts
from plugin.shopify.grants import TIMEOUT, Grant, PlatformAuthError, refresh

# Refresh this long before expiry, so a token never expires in the middle of a job.
REFRESH_MARGIN = timedelta(minutes=5)
# Longer than one refresh call can take (connect + read timeouts), so a live refresher keeps it.
REFRESH_LEASE = timedelta(seconds=sum(TIMEOUT) + 10)
REFRESH_POLL_SECONDS = 0.1
STORE_ATTEMPTS = 5


class NotInstalled(Exception):
    """The shop has no usable offline token: it must (re)install or open the app."""


def cipher() -> MultiFernet:
    config = current_app.config
    keys = [config["LOYALTY_ENCRYPTION_KEY"], *(config.get("LOYALTY_ENCRYPTION_KEY_PREVIOUS") or "").split(",")]
    return MultiFernet([Fernet(key.strip().encode()) for key in keys if key.strip()])


def encrypt(secret: str) -> str:
    return cipher().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    try:
        return cipher().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise NotInstalled("stored token cannot be decrypted with the configured keys") from None


def store_grant(shop: Shop, grant: Grant) -> None:
    """Keep a new credential pair on the shop; the caller commits."""
    shop.access_token = encrypt(grant.access_token)
    shop.access_token_expires_at = grant.expires_at
    shop.refresh_token = encrypt(grant.refresh_token) if grant.refresh_token else None
    shop.refresh_token_expires_at = grant.refresh_expires_at
    if grant.scopes:
        shop.scopes = grant.scopes
    if shop.installed_at is None or shop.uninstalled_at is not None:
        shop.installed_at = utcnow()
    shop.uninstalled_at = None


def forget_grant(shop: Shop) -> None:
    shop.access_token = shop.refresh_token = None
    shop.access_token_expires_at = shop.refresh_token_expires_at = None


def has_usable_token(shop: Shop) -> bool:
    """A token that works now or can be refreshed; an uninstalled shop has neither."""
    if shop.access_token is None:
        return False
    if shop.access_token_expires_at is None or shop.access_token_expires_at > utcnow() + REFRESH_MARGIN:
        return True
    return shop.refresh_token is not None and (
        shop.refresh_token_expires_at is None or shop.refresh_token_expires_at > utcnow())


def access_token(shop_id: int, known: Shop | None = None) -> str:
    """The shop's offline access token, refreshed first if it is about to expire.

    The common case only reads. When a refresh is due, one caller takes the lease and
    refreshes; the others read again until the new token is there or the lease lapses.
    `known` is the shop's row as the caller read it moments ago (a redemption's request):
    its token, if not due for refresh, is used as it is, without reading the row again.
    """
    if known is not None and known.access_token is not None and not _refresh_due(known):
        return decrypt(known.access_token)
    deadline = time.monotonic() + 2 * REFRESH_LEASE.total_seconds()
    while True:
        shop = _read_shop(shop_id)
        if shop is None or shop.access_token is None:
            raise NotInstalled("the shop has no offline access token")
        if not _refresh_due(shop):
            return decrypt(shop.access_token)
        if _take_refresh_lease(shop_id):
            return _refresh(shop_id)
        if time.monotonic() > deadline:
            raise PlatformAuthError("another token refresh for this shop did not finish")
        time.sleep(REFRESH_POLL_SECONDS)


def _read_shop(shop_id: int) -> Shop | None:
    session = reading_session()
    try:
        with session.begin():
            return session.get(Shop, shop_id)
    finally:
        session.close()


def _refresh_due(shop: Shop) -> bool:
    return shop.access_token_expires_at is not None and shop.access_token_expires_at <= utcnow() + REFRESH_MARGIN


def _take_refresh_lease(shop_id: int) -> bool:
    """One conditional UPDATE: True for the one caller that may refresh now."""
    now = utcnow()
    with transaction() as session:
        taken = session.execute(update(Shop).where(
            Shop.id == shop_id, Shop.access_token.is_not(None),
            or_(Shop.token_refresh_until.is_(None), Shop.token_refresh_until < now),
        ).values(token_refresh_until=now + REFRESH_LEASE)).rowcount
    return taken == 1


def _refresh(shop_id: int) -> str:
    """Holding the lease: refresh (platform call, no transaction open), store, release."""
    try:
        shop = _read_shop(shop_id)  # read again: another refresher may have finished meanwhile
        if shop is None or shop.access_token is None:
            raise NotInstalled("the shop has no offline access token")
        if not _refresh_due(shop):
            _release_lease(shop_id)
            return decrypt(shop.access_token)
        if not has_usable_token(shop):
            raise NotInstalled("the shop's token expired and cannot be refreshed")
        grant = refresh(shop.domain, decrypt(shop.refresh_token))
    except BaseException:
        _release_lease(shop_id)
        raise
    if not _store_refreshed(shop_id, grant):
        raise NotInstalled("the app was uninstalled during a token refresh")
    return grant.access_token


def _store_refreshed(shop_id: int, grant: Grant) -> bool:
    """Keep the new pair (False if the app was uninstalled meanwhile). The old refresh token
    is spent already, so a busy database is waited out a few times rather than losing the pair."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            with transaction() as session:
                stored = session.get(Shop, shop_id)
                stored.token_refresh_until = None
                installed = stored.access_token is not None  # app/uninstalled may have come meanwhile
                if installed:
                    store_grant(stored, grant)
            return installed
        except DBAPIError as error:
            if not is_busy(error) or attempt == STORE_ATTEMPTS:
                raise
            time.sleep(REFRESH_POLL_SECONDS * attempt)
    return False


def _release_lease(shop_id: int) -> None:
    with transaction() as session:
        session.execute(update(Shop).where(Shop.id == shop_id).values(token_refresh_until=None))


def rotate_encryption_key(session: Session) -> int:
    """Re-encrypt every stored token with the current key; returns how many shops."""
    rotated = 0
    for shop in session.scalars(select(Shop).where(Shop.access_token.is_not(None)).with_for_update()):
        shop.access_token = cipher().rotate(shop.access_token.encode()).decode()
        if shop.refresh_token:
            shop.refresh_token = cipher().rotate(shop.refresh_token.encode()).decode()
        rotated += 1
    session.flush()
    return rotated
