"""`GET /api/members/export`: every member's balance in the generic import format, streamed.

One row per member (`customer_id,email,points,earned_at,tier,birthday`), read a page of
members at a time by id, so a shop of any size is written with flat memory and imports
into a fresh install with the same balances. `earned_at` is the date of the member's
oldest lot still holding points: the new install may expire those points no later than
this one would have (never later, as returned redemption points keep their dates too).
Pending points are not exported (they are not part of the balance yet), and a negative
balance (a debt after a refund) is written as 0: a balance file cannot carry a debt.
A cell that a spreadsheet would run as a formula is written with a leading `'` (OWASP's
advice for CSV exports); the importer refuses such cells outright (rows.py says why).
"""
import csv
import io
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.loyalty.imports.rows import FORMULA_STARTS
from plugin.models import Member, PointLot, Tier

HEADER = ["customer_id", "email", "points", "earned_at", "tier", "birthday"]
PAGE = 1000
LOTS = PointLot.__table__  # read only: the ledger's lots module is private to the ledger


def balances_csv(session: Session, shop_id: int) -> Iterator[str]:
    """The file, a page of members per chunk."""
    yield _line(HEADER)
    tiers = dict(session.execute(select(Tier.id, Tier.name).where(Tier.shop_id == shop_id)).all())
    last = 0
    while True:
        members = session.execute(select(Member.id, Member.customer_id, Member.email, Member.balance,
                                         Member.tier_id, Member.birthday)
                                  .where(Member.shop_id == shop_id, Member.id > last)
                                  .order_by(Member.id).limit(PAGE)).all()
        if not members:
            return
        oldest = _oldest_lots(session, [m.id for m in members])
        yield "".join(_line([m.customer_id, m.email or "", max(m.balance, 0),
                             oldest[m.id].isoformat() if m.id in oldest and m.balance > 0 else "",
                             tiers.get(m.tier_id, ""), m.birthday or ""]) for m in members)
        last = members[-1].id


def _oldest_lots(session: Session, member_ids: list[int]) -> dict:
    return dict(session.execute(select(LOTS.c.member_id, func.min(LOTS.c.earned_at)).where(
        LOTS.c.member_id.in_(member_ids), LOTS.c.remaining > 0, LOTS.c.pending_until.is_(None))
        .group_by(LOTS.c.member_id)).all())


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([safe_cell(str(v)) for v in values])
    return out.getvalue()


def safe_cell(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
