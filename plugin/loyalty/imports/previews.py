"""An upload read into a previewed import: every row parsed and matched, nothing applied.

Two passes over the (seekable, spooled) upload, each streamed: the first parses every row
and collects the emails no member has, which are then looked up in the store; the second
parses again and writes the matched rows (`import_rows`) in batches. So the Admin API is
never called while this transaction writes (SQLite's write lock would make webhooks wait),
and memory holds the shop's member directory and the file's customers, never the file nor
anything per row: a repeated `external_id` is found by the database once the rows are
written (`_repeated_external_ids`), not in a set that would grow with the file.
"""
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import BinaryIO

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.imports.formats import missing_columns, rename
from plugin.loyalty.imports.matching import Directory
from plugin.loyalty.imports.reading import FileRefused, Problem, open_table
from plugin.loyalty.imports.rows import Row, parse_row
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.definitions import list_tiers
from plugin.models import Import, ImportRow, ImportStatus, Shop

MAX_ERRORS = 1000  # kept and shown; `errors_total` counts them all
BATCH = 1000
ROWS = ImportRow.__table__


@dataclass
class Tally:
    kind: str
    errors: list[dict] = field(default_factory=list)
    errors_total: int = 0
    rows: int = 0
    points: int = 0
    customers: dict[int, int] = field(default_factory=dict)  # customer id -> first row (balances: the only)

    def problem(self, problem: Problem) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(problem.json())


def preview_import(session: Session, shop: Shop, stream: BinaryIO, kind: str, fmt: str,
                   search: Callable[[list[str]], list[tuple[int, str]]]) -> Import:
    """The previewed import (flushed), or FileRefused when the file is not a table we can read."""
    zone, now = business_zone(shop.iana_timezone), utcnow()
    directory = Directory(session, shop.id)
    hashing = _Hashing(stream)
    for row in _rows(hashing, kind, fmt, zone, now, Tally(kind)):
        directory.want(row)
    directory.look_up(search)
    stream.seek(0)
    imported = Import(shop_id=shop.id, kind=kind, format=fmt, status=ImportStatus.PREVIEWED,
                      digest=hashing.digest.hexdigest(), rows=0, members_matched=0, members_new=0, points_total=0,
                      errors=[], errors_total=0)
    session.add(imported)
    session.flush()
    tally = Tally(kind)
    tiers = {tier.name.strip().lower(): tier.id for tier in list_tiers(session, shop.id)}
    _write_rows(session, imported, _rows(stream, kind, fmt, zone, now, tally), directory, tiers, tally)
    _repeated_external_ids(session, imported, tally)
    _fill(imported, tally, directory)
    session.flush()
    return imported


def _rows(stream: BinaryIO, kind: str, fmt: str, zone: tzinfo, now: datetime, tally: Tally) -> Iterator[Row]:
    """The file's readable rows; the others' problems go to `tally`."""
    header, records = open_table(stream)
    found = rename(header, fmt)
    missing = missing_columns(found, kind, fmt)
    if missing:
        raise FileRefused(Problem(1, missing[0], f"the header has no column {', '.join(missing)}"))
    for number, record in records:
        tally.rows += 1
        parsed = parse_row(number, {f: record.get(name) for f, name in found.items()}, kind, zone, now,
                           preset=fmt != "generic")
        if isinstance(parsed, Row):
            yield parsed
        else:
            for problem in parsed:
                tally.problem(problem)


def _write_rows(session: Session, imported: Import, rows: Iterator[Row], directory: Directory,
                tiers: dict[str, int], tally: Tally) -> None:
    batch = []
    for row in rows:
        written = _matched(row, directory, tiers, tally)
        if written is not None:
            batch.append({**written, "import_id": imported.id, "shop_id": imported.shop_id})
        if len(batch) == BATCH:
            session.execute(insert_for(session, ROWS), batch)
            batch = []
    if batch:
        session.execute(insert_for(session, ROWS), batch)


def _matched(row: Row, directory: Directory, tiers: dict[str, int], tally: Tally) -> dict | None:
    """The row as `import_rows` keeps it, or None after noting its problem."""
    customer = directory.resolve(row)
    problem = customer if isinstance(customer, Problem) else _duplicate(row, customer, tally)
    tier = tiers.get(row.tier.strip().lower()) if row.tier else None
    if problem is None and row.tier and tier is None:
        problem = Problem(row.row, "tier", "no tier of this shop has this name")
    if problem is not None:
        tally.problem(problem)
        return None
    tally.customers.setdefault(customer, row.row)
    tally.points += row.points
    return dict(row=row.row, customer_id=customer, email=row.email, points=row.points, earned_at=row.earned_at,
                tier_id=tier, birthday=row.birthday, reason=row.reason, external_id=row.external_id)


def _duplicate(row: Row, customer: int, tally: Tally) -> Problem | None:
    if tally.kind == "balances" and customer in tally.customers:
        return Problem(row.row, "customer_id" if row.customer_id else "email",
                       f"the same customer as row {tally.customers[customer]}: one balance row per customer")
    return None


def _repeated_external_ids(session: Session, imported: Import, tally: Tally) -> None:
    """Each written row whose `external_id` an earlier row has: an error, and the row goes
    (the import cannot be applied anyway); the errors are then put back in row order."""
    first = (select(ROWS.c.external_id, func.min(ROWS.c.row).label("first")).where(
        ROWS.c.import_id == imported.id, ROWS.c.external_id.is_not(None))
        .group_by(ROWS.c.external_id).having(func.count() > 1).subquery())
    repeated = session.execute(select(ROWS.c.row, ROWS.c.points, first.c.first).join(
        first, and_(ROWS.c.external_id == first.c.external_id, ROWS.c.row > first.c.first))
        .where(ROWS.c.import_id == imported.id).order_by(ROWS.c.row)).all()
    if not repeated:
        return
    for found in repeated:
        tally.problem(Problem(found.row, "external_id", f"the same external_id as row {found.first}"))
        tally.points -= found.points
    session.execute(delete(ROWS).where(ROWS.c.import_id == imported.id, ROWS.c.row.in_([r.row for r in repeated])))
    tally.errors.sort(key=lambda problem: problem["row"])


def _fill(imported: Import, tally: Tally, directory: Directory) -> None:
    imported.rows = tally.rows
    imported.errors, imported.errors_total = tally.errors, tally.errors_total
    imported.members_new = sum(1 for customer in tally.customers if customer not in directory.members)
    imported.members_matched = len(tally.customers) - imported.members_new
    imported.points_total = tally.points


class _Hashing:
    """The upload as `open_table` reads it, hashed on the way: the digest of the whole file."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.digest = stream, hashlib.sha256()

    def readline(self, limit: int = -1) -> bytes:
        line = self.stream.readline(limit)
        self.digest.update(line)
        return line
