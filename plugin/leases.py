"""Taking and giving back a lease (plugin/models/leases.py), on any backend.

Each call is its own short transaction: a lease is held between transactions, never as a
lock held open, so it works across processes on SQLite as on PostgreSQL.
"""
import uuid
from datetime import timedelta

from sqlalchemy import or_, update

from plugin.db import insert_for, transaction, utcnow
from plugin.models.leases import Lease

LEASES = Lease.__table__


def take(name: str, lasting: timedelta) -> str | None:
    """A holder token if the lease was free (or lapsed); None if someone holds it."""
    holder, now = uuid.uuid4().hex, utcnow()
    with transaction() as session:
        session.execute(insert_for(session, LEASES).values(name=name).on_conflict_do_nothing())
        taken = session.execute(update(LEASES).where(
            LEASES.c.name == name, or_(LEASES.c.until.is_(None), LEASES.c.until < now),
        ).values(holder=holder, until=now + lasting)).rowcount
    return holder if taken == 1 else None


def give_back(name: str, holder: str) -> None:
    with transaction() as session:
        session.execute(update(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder)
                        .values(holder=None, until=None))


def renew(name: str, holder: str, lasting: timedelta) -> bool:
    """Extend a lease still held by `holder`; False if it lapsed and someone else took it."""
    with transaction() as session:
        return session.execute(update(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder)
                               .values(until=utcnow() + lasting)).rowcount == 1
