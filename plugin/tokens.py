"""Shop credentials at rest: encrypted, stored as a pair, refreshed before they expire.

Tokens are Fernet-encrypted with LOYALTY_ENCRYPTION_KEY; keys listed in
LOYALTY_ENCRYPTION_KEY_PREVIOUS still decrypt, so a key can be rotated without downtime and
`flask --app plugin rotate-encryption-key` then re-encrypts every row with the current key.
A refresh token works once: the refresh happens with the shop row locked and the new pair
is committed in its own transaction straight away, so two workers cannot both spend it and
a crash after the platform answered cannot lose the rotated pair to a later rollback.
"""
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import new_session, utcnow
from plugin.models import Shop
from plugin.platform_auth import Grant, refresh

# Refresh this long before expiry, so a token never expires in the middle of a job.
REFRESH_MARGIN = timedelta(minutes=5)


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


def access_token(shop_id: int) -> str:
    """The shop's offline access token, refreshed first if it is about to expire.

    The common case only reads. The shop row is locked only when a refresh is due, and the
    expiry is checked again under the lock, since another worker may have refreshed first.
    """
    session = new_session()
    try:
        with session.begin():
            shop = session.get(Shop, shop_id)
            if shop is not None and shop.access_token is not None and not _refresh_due(shop):
                return decrypt(shop.access_token)
        with session.begin():
            shop = session.scalar(select(Shop).where(Shop.id == shop_id).with_for_update()
                                  .execution_options(populate_existing=True))
            if shop is None or shop.access_token is None:
                raise NotInstalled("the shop has no offline access token")
            if _refresh_due(shop):
                _refresh_locked(shop)
            return decrypt(shop.access_token)
    finally:
        session.close()


def _refresh_due(shop: Shop) -> bool:
    return shop.access_token_expires_at is not None and shop.access_token_expires_at <= utcnow() + REFRESH_MARGIN


def _refresh_locked(shop: Shop) -> None:
    if not has_usable_token(shop):
        raise NotInstalled("the shop's token expired and cannot be refreshed")
    store_grant(shop, refresh(shop.domain, decrypt(shop.refresh_token)))


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
