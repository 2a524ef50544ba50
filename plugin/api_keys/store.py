"""Making, listing, revoking and recognising API keys, and the trail of their writes.

A key's text is `lk_` and 43 URL-safe characters (32 random bytes); only its SHA-256 is kept
(plugin/models/api_keys.py says why a plain hash). Every read is scoped to one shop, except
`find_key`, which is how a request learns its shop from a key.
"""
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

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


@dataclass(frozen=True)
class UsedKey:
    """The key a request came with, as plain values: not a row that the view's session may
    expire or close before the request is done with it."""

    id: int
    shop_id: int
    name: str
    scope: KeyScope
    key_hash: str
    last_used_at: datetime | None


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


def find_key(session: Session, plain: str) -> UsedKey | None:
    """The live key with this text; None for a malformed, unknown or revoked one."""
    if not KEY_TEXT.fullmatch(plain):
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(plain), ApiKey.revoked_at.is_(None)))
    return None if key is None else UsedKey(key.id, key.shop_id, key.name, key.scope, key.key_hash, key.last_used_at)


def note_use(key: UsedKey, write: tuple[str, str, int] | None = None) -> None:
    """After a request by `key`: its last use, if not noted in the last minute, and `write`
    (method, path, answer status) on the trail. One short transaction of its own, run once
    the request's own is over (admin_ui/auth.py), so on SQLite it never waits for a lock its
    own request holds. A busy database costs the note, never the answer already made: a 503
    after a write that happened would invite the script to make it twice."""
    now = utcnow()
    due = key.last_used_at is None or now - key.last_used_at >= USE_RESOLUTION
    if not due and write is None:
        return
    try:
        with transaction() as session:
            if due:
                session.execute(update(ApiKey).where(ApiKey.id == key.id, or_(
                    ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - USE_RESOLUTION),
                ).values(last_used_at=now))
            if write is not None:
                method, path, status = write
                session.add(ApiKeyWrite(shop_id=key.shop_id, key_id=key.id, key_name=key.name, method=method,
                                        path=path[:500], status=status))
    except DBAPIError as error:
        if not is_busy(error):
            raise
        log.error("api key %s: use not noted (%s), the database was busy", key.id, write and " ".join(map(str, write)))


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
