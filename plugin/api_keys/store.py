"""Making, listing, revoking and recognising API keys, and the trail of their writes.

A key's text is `lk_` and 43 URL-safe characters (32 random bytes); only its SHA-256 is kept
(plugin/models/api_keys.py says why a plain hash). Every read is scoped to one shop, except
`find_key`, which is how a request learns its shop from a key.
"""
import hashlib
import logging
import re
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin.db import is_busy, transaction, utcnow
from plugin.loyalty.fields import InvalidFields, one_of, parse_each, text
from plugin.models import ApiKey, ApiKeyWrite, KeyScope

log = logging.getLogger(__name__)

PREFIX = "lk_"
KEY_TEXT = re.compile(r"^lk_[A-Za-z0-9_-]{43}$")
NAME_LIMIT = 100
# `last_used_at` is written at most this often per key, so a busy script does not write per request.
USE_RESOLUTION = timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key_request(body) -> tuple[str, KeyScope]:
    """(name, scope) from `{name, scope}`; InvalidFields naming each bad or missing field."""
    parsers = {"name": lambda value: text(value, NAME_LIMIT), "scope": lambda value: one_of(value, KeyScope)}
    values, errors = parse_each(body, parsers, "is not a key field (name, scope)", "key fields")
    for name in ("name", "scope"):
        if name not in values and name not in errors:
            errors[name] = "is required"
    if errors:
        raise InvalidFields(errors)
    return values["name"], values["scope"]


def create_key(session: Session, shop_id: int, name: str, scope: KeyScope) -> tuple[ApiKey, str]:
    """A new key and its text: the only moment the text exists outside the caller's script."""
    if name in {key.name for key in live_keys(session, shop_id)}:
        raise InvalidFields({"name": "another key of this shop has this name"})
    plain = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(shop_id=shop_id, name=name, scope=scope, key_hash=key_hash(plain))
    session.add(key)
    session.flush()
    return key, plain


def live_keys(session: Session, shop_id: int) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.shop_id == shop_id, ApiKey.revoked_at.is_(None))
                                .order_by(ApiKey.id)))


def revoke_key(session: Session, shop_id: int, key_id: int) -> bool:
    """False when the shop has no such live key (another shop's, unknown, revoked before)."""
    return session.execute(update(ApiKey).where(
        ApiKey.id == key_id, ApiKey.shop_id == shop_id, ApiKey.revoked_at.is_(None),
    ).values(revoked_at=utcnow())).rowcount == 1


def find_key(session: Session, plain: str) -> ApiKey | None:
    """The live key with this text; None for a malformed, unknown or revoked one."""
    if not KEY_TEXT.fullmatch(plain):
        return None
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(plain), ApiKey.revoked_at.is_(None)))


def touch(key: ApiKey) -> None:
    """Note the key's use, if not noted in the last minute. Its own short transaction: a GET's
    session only reads; a busy database skips the note rather than delay the answer more."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < USE_RESOLUTION:
        return
    try:
        with transaction() as session:
            session.execute(update(ApiKey).where(ApiKey.id == key.id, or_(
                ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - USE_RESOLUTION)).values(last_used_at=now))
    except DBAPIError as error:
        if not is_busy(error):
            raise
        log.info("api key %s: last use not noted, the database was busy", key.id)


def record_write(key: ApiKey, method: str, path: str, status: int) -> None:
    """The trail: a write the key made that succeeded (written once its answer is known)."""
    with transaction() as session:
        session.add(ApiKeyWrite(shop_id=key.shop_id, key_id=key.id, key_name=key.name, method=method,
                                path=path[:500], status=status))


def recent_writes(session: Session, shop_id: int, limit: int = 100) -> list[ApiKeyWrite]:
    return list(session.scalars(select(ApiKeyWrite).where(ApiKeyWrite.shop_id == shop_id)
                                .order_by(ApiKeyWrite.id.desc()).limit(limit)))


def key_json(key: ApiKey) -> dict:
    """A key as `GET /api/keys` shows it: never its text, which is not kept."""
    return {"id": key.id, "name": key.name, "scope": key.scope.value, "created_at": key.created_at.isoformat(),
            "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None}


def write_json(write: ApiKeyWrite) -> dict:
    return {"id": write.id, "key_id": write.key_id, "key_name": write.key_name, "method": write.method,
            "path": write.path, "status": write.status, "created_at": write.created_at.isoformat()}
