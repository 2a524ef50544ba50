"""What the development platform keeps: tokens it issued, codes, metafields, tags.

Rows of `dev_platform_records` (plugin/models/dev_platform.py), one per thing, keyed by
(shop, kind, key). Tokens are kept by their SHA-256 only: even a fake platform's tokens are
credentials, and nothing here needs them back. Functions take a session and flush; the
platform's routes own the transaction.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.models import DevPlatformRecord, DevRecordKind

ACCESS_LIFETIME = timedelta(hours=1)  # an expiring offline token lasts an hour (SHOPIFY.md 3.3)
REFRESH_LIFETIME = timedelta(days=90)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find(session: Session, shop: str, kind: DevRecordKind, key: str) -> DevPlatformRecord | None:
    return session.scalar(select(DevPlatformRecord).where(
        DevPlatformRecord.shop_domain == shop, DevPlatformRecord.kind == kind, DevPlatformRecord.key == key))


def listed(session: Session, shop: str, kind: DevRecordKind) -> list[DevPlatformRecord]:
    return list(session.scalars(select(DevPlatformRecord).where(
        DevPlatformRecord.shop_domain == shop, DevPlatformRecord.kind == kind).order_by(DevPlatformRecord.id.desc())))


def add_if_new(session: Session, shop: str, kind: DevRecordKind, key: str, data: dict) -> bool:
    """Keep a new record; False if (shop, kind, key) is already there (a TAKEN code)."""
    now = utcnow()
    # RETURNING tells what happened on both backends (psycopg's rowcount does not, here).
    inserted = session.execute(insert_for(session, DevPlatformRecord.__table__).values(
        shop_domain=shop, kind=kind.value, key=key, data=data, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["shop_domain", "kind", "key"]).returning(
        DevPlatformRecord.__table__.c.id)).scalar()
    return inserted is not None


def put(session: Session, shop: str, kind: DevRecordKind, key: str, data: dict) -> DevPlatformRecord:
    """Keep or replace a record (a metafield written again, a customer's new tag list)."""
    record = find(session, shop, kind, key)
    if record is None:
        record = DevPlatformRecord(shop_domain=shop, kind=kind, key=key, data=data)
        session.add(record)
    else:
        record.data, record.updated_at = data, utcnow()
    session.flush()
    return record


def remove(session: Session, shop: str, kind: DevRecordKind, key: str) -> bool:
    """Forget a record (a deleted segment or discount); False if there was none."""
    record = find(session, shop, kind, key)
    if record is None:
        return False
    session.delete(record)
    session.flush()
    return True


def issue_tokens(session: Session, shop: str) -> tuple[str, str]:
    """A new expiring offline access token and its refresh token."""
    access, refresh = f"shpat_dev_{secrets.token_hex(16)}", f"shprt_dev_{secrets.token_hex(16)}"
    now = utcnow()
    add_if_new(session, shop, DevRecordKind.ACCESS_TOKEN, _digest(access),
               {"expires_at": (now + ACCESS_LIFETIME).isoformat()})
    add_if_new(session, shop, DevRecordKind.REFRESH_TOKEN, _digest(refresh),
               {"expires_at": (now + REFRESH_LIFETIME).isoformat()})
    return access, refresh


def spend_refresh_token(session: Session, shop: str, refresh: str) -> bool:
    """A refresh token works once (it rotates on every use); True if this use was its first."""
    gone = session.execute(delete(DevPlatformRecord).where(
        DevPlatformRecord.shop_domain == shop, DevPlatformRecord.kind == DevRecordKind.REFRESH_TOKEN,
        DevPlatformRecord.key == _digest(refresh))).rowcount
    return gone == 1


def access_token_valid(session: Session, shop: str, token: str | None) -> bool:
    record = find(session, shop, DevRecordKind.ACCESS_TOKEN, _digest(token)) if token else None
    return record is not None and datetime.fromisoformat(record.data["expires_at"]) > utcnow()
