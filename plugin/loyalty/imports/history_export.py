"""`GET /api/ledger/export?from=&to=`: the points history in the generic `history` format, streamed.

One row per ledger entry that moved points (`customer_id,points,created_at,reason,
external_id`), read a page of entries at a time by id, so a ledger of any size is written
with flat memory. Imported into a fresh install as `kind=history`, each member ends with
the same points (balance plus what is still pending, which the new install makes available
at once). `created_at` is when the points count from: the lot's `earned_at` for a credit
(the order's business time, so expiry stays fair), the entry's own time for a debit.
`external_id` is the entry's id, unique in the file. `from` and `to` are ISO dates read in
the shop's time zone, both included, on the entry's own time; either may be left out.
"""
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.imports.export import safe_cell
from plugin.loyalty.shop_facts import business_zone
from plugin.models import LedgerEntry, Member, PointLot, Shop

HEADER = ["customer_id", "points", "created_at", "reason", "external_id"]
PAGE = 1000
REASON = 199  # the importer takes 200 characters (rows.py), one may go to a leading quote
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ENTRIES, LOTS = LedgerEntry.__table__, PointLot.__table__  # read only: posting is the ledger's


@dataclass(frozen=True)
class Span:
    start: datetime | None
    end: datetime | None  # exclusive


def parse_span(session: Session, shop_id: int, raw_from: str | None, raw_to: str | None) -> Span:
    """The entries' times `?from=&to=` covers, or InvalidFields naming the bad parameter."""
    errors, days = {}, {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if raw:
            try:
                days[name] = date.fromisoformat(raw) if ISO_DATE.fullmatch(raw) else None
            except ValueError:
                days[name] = None
            if days[name] is None:
                errors[name] = "must be an ISO date (2026-05-21)"
    if errors:
        raise InvalidFields(errors)
    if days.get("from") and days.get("to") and days["from"] > days["to"]:
        raise InvalidFields({"from": f"must be on or before to ({days['to'].isoformat()})"})
    zone = business_zone(session.get(Shop, shop_id).iana_timezone)

    def midnight(day: date | None) -> datetime | None:
        return None if day is None else datetime.combine(day, time(), zone)

    return Span(midnight(days.get("from")), midnight(days["to"] + timedelta(days=1) if days.get("to") else None))


def history_csv(session: Session, shop_id: int, span: Span) -> Iterator[str]:
    """The file, a page of entries per chunk."""
    yield _line(HEADER)
    last = 0
    while True:
        query = (select(ENTRIES.c.id, ENTRIES.c.delta, ENTRIES.c.reason, ENTRIES.c.created_at,
                        Member.customer_id, LOTS.c.earned_at)
                 .join(Member, Member.id == ENTRIES.c.member_id)
                 .outerjoin(LOTS, LOTS.c.entry_id == ENTRIES.c.id)
                 .where(ENTRIES.c.shop_id == shop_id, ENTRIES.c.id > last, ENTRIES.c.delta != 0))
        if span.start is not None:
            query = query.where(ENTRIES.c.created_at >= span.start)
        if span.end is not None:
            query = query.where(ENTRIES.c.created_at < span.end)
        entries = session.execute(query.order_by(ENTRIES.c.id).limit(PAGE)).all()
        if not entries:
            return
        yield "".join(_line([e.customer_id, e.delta, _when(e).isoformat(), safe_cell(e.reason[:REASON]), e.id])
                      for e in entries)
        last = entries[-1].id


def _when(entry) -> datetime:
    return entry.earned_at if entry.delta > 0 and entry.earned_at is not None else entry.created_at


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()
