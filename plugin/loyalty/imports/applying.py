"""Applying a previewed import, and reverting an applied one (SPEC "imports").

Apply: refused while the preview listed errors, or when the same bytes are applied in this
shop already (`already_imported`; the unique `applied_digest` is the database's last word);
a second apply of the same import finds it applied and changes nothing. `start_apply` marks
it `applying`; `apply_batch` then applies BATCH customers at a time (the request for a small
file, the apply job or the CLI for a large one: jobs.py), counting `rows_done`. Rows go per
customer (members made for customers who were not yet members), their points through
plugin/loyalty/ledger/imports.py, then birthdays and tier floors. Nothing here records a
member event: no `tier_changed`, no e-mails. The store sync sees the balances through its
triggers (migration 0015) and the tiers through `mark_for_sync`.

Revert: member by member, what the import's points still hold is taken back; the answer
keeps how many points were already spent (`not_reverted`). A second revert changes nothing.
"""
from itertools import groupby

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.events.store_sync import mark_for_sync
from plugin.loyalty.imports.floors import set_tier_floors
from plugin.loyalty.ledger.imports import credit_import, revert_member_import
from plugin.loyalty.members import ensure_member
from plugin.models import EntryKind, Import, ImportRow, ImportStatus, LedgerEntry, Member

BATCH = 1000
ROWS = ImportRow.__table__


class ImportRefused(Exception):
    """The import cannot be applied or reverted now. `code` says why, for the edges to map:
    NOT_NOW (its status or its errors forbid it) or ALREADY (these bytes are applied here)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


NOT_NOW, ALREADY = "not_now", "already_imported"


def find_import(session: Session, shop_id: int, import_id: int, lock: bool = False) -> Import | None:
    query = select(Import).where(Import.shop_id == shop_id, Import.id == import_id)
    return session.scalar(query.with_for_update() if lock else query)


def already_imported(session: Session, imported: Import) -> bool:
    return session.scalar(select(Import.id).where(
        Import.shop_id == imported.shop_id, Import.applied_digest == imported.digest,
        Import.id != imported.id).limit(1)) is not None


def start_apply(session: Session, imported: Import) -> bool:
    """Mark a previewed import `applying` (the caller locked it); False when it is applying
    or applied already, which changes nothing. Its rows then go in batches (`apply_batch`)."""
    if imported.status in (ImportStatus.APPLYING, ImportStatus.APPLIED):
        return False
    if imported.status is not ImportStatus.PREVIEWED or imported.errors_total:
        raise ImportRefused("only a previewed import without errors can be applied", NOT_NOW)
    if already_imported(session, imported):
        raise ImportRefused("this file was already imported in this shop", ALREADY)
    # Flushed first: a concurrent apply of the same bytes waits on, then fails, the unique
    # index (IntegrityError, which the edges answer as `already_imported`).
    imported.applied_digest, imported.status, imported.rows_done = imported.digest, ImportStatus.APPLYING, 0
    session.flush()
    return True


def apply_batch(session: Session, imported: Import) -> bool:
    """Apply the next BATCH customers of an applying import (the caller locked it) and count
    their rows in `rows_done`; True while rows remain. The rows applied are deleted with
    them (the ledger holds what they said from here on), so a batch interrupted by a crash
    is rolled back whole and the next run starts where the last commit left off."""
    if imported.status is not ImportStatus.APPLYING or imported.kind == "orders":
        return False
    customers = session.scalars(select(ROWS.c.customer_id).where(ROWS.c.import_id == imported.id).distinct()
                                .order_by(ROWS.c.customer_id).limit(BATCH)).all()
    if not customers:
        imported.status, imported.applied_at = ImportStatus.APPLIED, utcnow()
        session.flush()
        return False
    rows = session.execute(select(ROWS).where(ROWS.c.import_id == imported.id, ROWS.c.customer_id.in_(customers))
                           .order_by(ROWS.c.customer_id, ROWS.c.earned_at, ROWS.c.row)).all()
    reason = f"Imported from {imported.format}"
    for customer, group in groupby(rows, key=lambda r: r.customer_id):
        _apply_customer(session, imported, customer, list(group), reason)
    session.execute(delete(ROWS).where(ROWS.c.import_id == imported.id, ROWS.c.customer_id.in_(customers)))
    imported.rows_done += len(rows)
    session.flush()
    return True


def apply_import(session: Session, imported: Import) -> Import:
    """The whole apply in the caller's transaction (the caller locked the import): for files
    small enough to wait for; larger ones go to the apply job (imports/jobs.py)."""
    start_apply(session, imported)
    while apply_batch(session, imported):
        pass
    return imported


def _apply_customer(session: Session, imported: Import, customer: int, rows: list, reason: str) -> None:
    member = ensure_member(session, imported.shop_id, customer, rows[0].email)
    for row in rows:
        credit_import(session, imported.shop_id, member, row.points, f"{imported.id}:{row.row}", reason,
                      row.earned_at or imported.created_at)
    birthday = next((row.birthday for row in rows if row.birthday), None)
    if birthday:
        session.execute(update(Member).where(Member.id == member).values(birthday=birthday, birthday_saved_at=utcnow())
                        .execution_options(synchronize_session=False))
    tier = next((row.tier_id for row in rows if row.tier_id), None)
    if tier is not None and set_tier_floors(session, imported.shop_id, [(member, tier)], utcnow()):
        mark_for_sync(session, imported.shop_id, [member])


def revert_import(session: Session, imported: Import) -> Import:
    """Take back what an applied import still holds (the caller locked it)."""
    if imported.status is ImportStatus.REVERTED:
        return imported
    if imported.status is not ImportStatus.APPLIED:
        raise ImportRefused("only an applied import can be reverted", NOT_NOW)
    if imported.kind == "orders":  # order awards, which refunds and cancellations take back
        raise ImportRefused("points for past orders are order awards: they are not reverted", NOT_NOW)
    members = session.scalars(select(LedgerEntry.member_id).where(
        LedgerEntry.shop_id == imported.shop_id, LedgerEntry.kind == EntryKind.IMPORT,
        LedgerEntry.source_id.like(f"{imported.id}:%")).distinct().order_by(LedgerEntry.member_id)).all()
    spent, reason = 0, f"Import {imported.id} reverted"
    for member in members:
        spent += revert_member_import(session, imported.shop_id, member, imported.id, reason).spent
    imported.status, imported.reverted_at = ImportStatus.REVERTED, utcnow()
    imported.applied_digest, imported.not_reverted = None, spent
    session.flush()
    return imported
