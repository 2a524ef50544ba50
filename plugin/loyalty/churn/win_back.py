"""The win-back list (`GET /api/at-risk`): members at risk or lapsed who still hold points.

The merchant's reason to reach them is the points they can still spend, so a member with no
balance is left out. A page of 50, or the whole list as CSV written while it is read
(`yield_per`), both in the order the merchant chose; the figures are those of
plugin/loyalty/churn/recency.py, as of today in the shop's zone.
"""
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.ids import parse_id
from plugin.loyalty.churn.recency import AT_RISK, LAPSED, recency
from plugin.loyalty.fields import InvalidFields
from plugin.models import Member

PAGE_SIZE = 50
MAX_PAGE = 100_000
SORTS = ("balance", "days_since", "usual_gap", "name")
DIRECTIONS = ("desc", "asc")
SHOWN = ("all", AT_RISK, LAPSED)
HEADER = ["customer_id", "first_name", "last_name", "email", "balance", "last_order_on", "days_since_last_order",
          "usual_gap_days", "status"]
STREAM_BATCH = 1000
# A cell a spreadsheet would run as a formula gets a leading ' (OWASP; the balances export does too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Asked:
    status: str = "all"
    sort: str = "balance"
    direction: str = "desc"
    page: int = 1


def parse_asked(args) -> Asked:
    """The list's filter, order and page from a query string; InvalidFields names a bad one."""
    asked = Asked(args.get("status") or "all", args.get("sort") or "balance", args.get("direction") or "desc",
                  parse_id(args.get("page") or "1") or 0)
    errors = {}
    for field, allowed in (("status", SHOWN), ("sort", SORTS), ("direction", DIRECTIONS)):
        if getattr(asked, field) not in allowed:
            errors[field] = f"must be one of {', '.join(allowed)}"
    if not 1 <= asked.page <= MAX_PAGE:
        errors["page"] = f"must be a whole number from 1 to {MAX_PAGE}"
    if errors:
        raise InvalidFields(errors)
    return asked


def _listing(shop_id: int, today: date, asked: Asked):
    figures = recency([shop_id], today)
    shown = (AT_RISK, LAPSED) if asked.status == "all" else (asked.status,)
    name = func.lower(func.coalesce(Member.first_name, "") + " " + func.coalesce(Member.last_name, "")
                      + " " + func.coalesce(Member.email, ""))
    key = {"balance": Member.balance, "days_since": figures.c.days_since, "usual_gap": figures.c.usual_gap,
           "name": name}[asked.sort]
    order = key.desc() if asked.direction == "desc" else key.asc()
    columns = (Member.customer_id, Member.first_name, Member.last_name, Member.email, Member.balance,
               figures.c.last_day, figures.c.days_since, figures.c.usual_gap, figures.c.status)
    return (select(*columns).join(figures, figures.c.member_id == Member.id)
            .where(Member.shop_id == shop_id, Member.balance > 0, figures.c.status.in_(shown))
            .order_by(order, Member.id.desc()))


def win_back_page(session: Session, shop_id: int, today: date, asked: Asked) -> tuple[list[dict], int]:
    """One page of the list, and how many members it holds in all: counted in the same pass
    over the order days as the page (a window count), which is the cost of the request."""
    listing = _listing(shop_id, today, asked)
    rows = session.execute(listing.add_columns(func.count().over().label("total"))
                           .limit(PAGE_SIZE).offset((asked.page - 1) * PAGE_SIZE)).all()
    if rows:
        return [_row_json(row) for row in rows], rows[0].total
    total = session.scalar(select(func.count()).select_from(listing.order_by(None).subquery())) if asked.page > 1 else 0
    return [], total


def _row_json(row) -> dict:
    return {"customer_id": str(row.customer_id), "first_name": row.first_name, "last_name": row.last_name,
            "email": row.email, "balance": row.balance, "last_order_on": row.last_day.isoformat(),
            "days_since_last_order": row.days_since, "usual_gap_days": row.usual_gap, "status": row.status}


def win_back_csv(session: Session, shop_id: int, today: date, asked: Asked) -> Iterator[str]:
    """The whole list as CSV (HEADER), a batch of rows per chunk, read as it is written."""
    yield _line(HEADER)
    result = session.execute(_listing(shop_id, today, asked).execution_options(yield_per=STREAM_BATCH))
    for rows in result.partitions():
        yield "".join(_line([(value if value is not None else "") for value in _row_json(row).values()])
                      for row in rows)


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(
        ["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in map(str, values)])
    return out.getvalue()
