"""The apply job: a large import applied in batches, away from the request that asked.

`POST /api/imports/<id>/apply` on a file past INLINE_ROWS only marks the import `applying`
(applying.py `start_apply`) and asks for this job once that commits; the answer is 202 and
the panel polls `rows_done` / `rows`. The job applies every applying import to its end, a
batch of customers per transaction (`apply_batch`), so memory stays flat, webhooks wait at
most one batch for the write lock, and a crash loses at most the batch it was in: the
periodic "imports" job (plugin/schedule.py) picks an unfinished import up again. Two runs
at once take turns batch by batch on the import's row lock (SQLite: the write lock).
"""
from collections.abc import Callable

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import reading_session, transaction
from plugin.loyalty.imports.applying import apply_batch
from plugin.models import Import, ImportStatus
from plugin.queue import request

INLINE_ROWS = 5000  # a file this small is applied in the request that asks (a second or so)


def apply_after_commit(session: Session, import_id: int) -> None:
    """Ask for the apply job once this transaction commits (never before: it would find
    the import still `previewed` and leave it to the periodic run)."""
    orm_event.listen(session, "after_commit", lambda _: request_apply(import_id), once=True)


def request_apply(import_id: int) -> None:
    request("apply-imports", job_id=f"apply-import-{import_id}")


def apply_pending_imports() -> int:
    """Every `applying` import, to its end; the rows applied."""
    session = reading_session()
    try:
        # Past orders (kind `orders`) are the past-orders job's (webhooks/past_orders.py).
        pending = session.scalars(select(Import.id).where(Import.status == ImportStatus.APPLYING,
                                                          Import.kind != "orders").order_by(Import.id)).all()
    finally:
        session.close()
    return sum(apply_in_batches(import_id) for import_id in pending)


def apply_in_batches(import_id: int, progress: Callable[[Import], None] | None = None) -> int:
    """Apply one import batch by batch, each committed, calling `progress` after each; the
    rows this call applied."""
    applied = 0
    while True:
        with transaction() as session:
            imported = session.scalar(select(Import).where(Import.id == import_id).with_for_update())
            if imported is None:
                return applied
            before = imported.rows_done
            more = apply_batch(session, imported)
            applied += imported.rows_done - before
            if progress is not None:
                progress(imported)
        if not more:
            return applied
