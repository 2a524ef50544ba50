"""Imports as the API and the CLI show them."""
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from plugin.loyalty.imports.applying import already_imported
from plugin.models import Import, ImportRow, ImportStatus, Member

PAGE = 100
SAMPLE = 10


def import_json(session: Session, imported: Import) -> dict:
    return {"id": imported.id, "status": imported.status.value, "kind": imported.kind, "format": imported.format,
            "rows": imported.rows, "rows_done": imported.rows_done or 0,
            "members_matched": imported.members_matched, "members_new": imported.members_new,
            "points_total": imported.points_total, "errors": imported.errors, "errors_total": imported.errors_total,
            "already_imported": imported.status.value != "applied" and already_imported(session, imported),
            "not_reverted": imported.not_reverted, "created_at": imported.created_at.isoformat(),
            "applied_at": imported.applied_at.isoformat() if imported.applied_at else None,
            "reverted_at": imported.reverted_at.isoformat() if imported.reverted_at else None}


def recent_imports(session: Session, shop_id: int) -> list[Import]:
    return list(session.scalars(select(Import).where(Import.shop_id == shop_id).order_by(Import.id.desc())
                                .limit(PAGE)))


def import_sample(session: Session, imported: Import) -> list[dict]:
    """The first matched rows with the member's balance now and after the apply (a customer
    not yet a member starts from 0); only while the import is a preview."""
    if imported.status is not ImportStatus.PREVIEWED:
        return []
    rows = session.execute(select(ImportRow.row, ImportRow.customer_id, ImportRow.email, ImportRow.points,
                                  Member.balance).outerjoin(Member, and_(
                                      Member.shop_id == imported.shop_id, Member.customer_id == ImportRow.customer_id))
                           .where(ImportRow.import_id == imported.id).order_by(ImportRow.row).limit(SAMPLE)).all()
    return [{"row": r.row, "customer_id": str(r.customer_id), "email": r.email, "points": r.points,
             "before": r.balance or 0, "after": (r.balance or 0) + r.points} for r in rows]
