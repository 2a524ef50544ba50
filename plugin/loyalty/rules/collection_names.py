"""The store's collections by title, for the rule editor: a copy refreshed from the platform.

Rules match collections by id (what products carry); merchants know them by title. The
copy is refreshed by the "collections" job when the editor asks and the copy is missing or
older than a day, so typing never waits on the platform: the first answer may be empty,
saying `refreshing`, and the next has the titles.
"""
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from plugin.db import insert_for, transaction, utcnow
from plugin.models import CachedCollection, Shop
from plugin.queue import request
from plugin.shopify.client import AdminClient
from plugin.shopify.collections import fetch_collections

FRESH_FOR = timedelta(days=1)
MAX_PICKS = 50


def collection_titles(session: Session, shop_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(CachedCollection.collection_id, CachedCollection.title).where(
        CachedCollection.shop_id == shop_id, CachedCollection.collection_id.in_(ids))).all())


def known_collections(session: Session, shop_id: int, typed: str = "") -> list[tuple[int, str]]:
    """Up to MAX_PICKS (id, title) whose title contains `typed` (any case) or whose id is it."""
    typed = typed.strip()
    pattern = "%" + typed.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    match = func.lower(CachedCollection.title).like(pattern, escape="\\")
    if typed.isdigit():
        match = match | (CachedCollection.collection_id == int(typed))
    return [tuple(row) for row in session.execute(
        select(CachedCollection.collection_id, CachedCollection.title).where(
            CachedCollection.shop_id == shop_id, match).order_by(func.lower(CachedCollection.title))
        .limit(MAX_PICKS)).all()]


def needs_refresh(session: Session, shop_id: int) -> bool:
    newest = session.scalar(select(func.max(CachedCollection.fetched_at)).where(CachedCollection.shop_id == shop_id))
    return newest is None or newest < utcnow() - FRESH_FOR


def refresh_collections(shop_id: int) -> int:
    """The job: read the store's collections and replace the shop's copy; how many it holds."""
    with transaction() as session:
        domain = session.scalar(select(Shop.domain).where(Shop.id == shop_id))
    found = fetch_collections(AdminClient(shop_id, domain))
    now = utcnow()
    with transaction() as session:
        session.execute(delete(CachedCollection).where(CachedCollection.shop_id == shop_id))
        if found:
            session.execute(insert_for(session, CachedCollection.__table__).values(
                [{"shop_id": shop_id, "collection_id": cid, "title": title, "fetched_at": now}
                 for cid, title in dict(found).items()]))
    return len(found)


def collections_for_editor(shop_id: int, typed: str) -> tuple[list[tuple[int, str]], bool]:
    """What the editor offers for `typed`, and whether a refresh is under way (asked for now
    because the copy is missing or a day old; without Redis it ran already, in this call)."""
    with transaction() as session:
        stale = needs_refresh(session, shop_id)
    refreshing = stale and request("refresh-collections", shop_id, job_id=f"refresh-collections-{shop_id}")
    with transaction() as session:
        found = known_collections(session, shop_id, typed)
        refreshing = refreshing and needs_refresh(session, shop_id)
    return found, refreshing
