"""Reading a shop's referrals back: the list (`GET /api/referrals`) and the panel's totals.

Referrals still being created (`creating`: the platform call in flight) are not listed:
they have no code a friend could use yet, and most of them last a second.
"""
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from plugin.loyalty.fields import InvalidFields
from plugin.models import LedgerEntry, Member, Referral, ReferralStatus
from plugin.models.ledger import EntryKind

LISTED = (ReferralStatus.CODE_ISSUED, ReferralStatus.COMPLETED, ReferralStatus.REJECTED)
LIMIT = 200


def parse_status(value: str | None) -> ReferralStatus | None:
    if not value:
        return None
    try:
        status = ReferralStatus(value)
    except ValueError:
        status = None
    if status not in LISTED:
        raise InvalidFields({"status": "must be one of " + ", ".join(s.value for s in LISTED)})
    return status


def list_referrals(session: Session, shop_id: int, status: ReferralStatus | None) -> list[tuple[Referral, Member]]:
    """The shop's newest referrals with their referrer, optionally of one status."""
    query = select(Referral, Member).join(Member, Member.id == Referral.referrer_id).where(
        Referral.shop_id == shop_id, Referral.status.in_([status] if status else LISTED))
    return [tuple(row) for row in session.execute(query.order_by(Referral.id.desc()).limit(LIMIT)).all()]


def referral_totals(session: Session, shop_id: int) -> dict:
    """Friends invited, referrals completed, points paid (net of reversals) and the revenue of
    referred orders (completed, not cancelled), in the shop's money as a string."""
    completed = Referral.status == ReferralStatus.COMPLETED
    counted = select(
        func.count().label("invited"),
        func.coalesce(func.sum(case((completed, 1), else_=0)), 0).label("completed"),
    ).where(Referral.shop_id == shop_id, Referral.status.in_(LISTED))
    invited, done = session.execute(counted).one()
    totals = session.scalars(select(Referral.order_total).where(
        Referral.shop_id == shop_id, completed, Referral.reversed_at.is_(None))).all()
    points = session.scalar(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
        LedgerEntry.shop_id == shop_id,
        LedgerEntry.kind.in_([EntryKind.REFERRAL, EntryKind.REFERRAL_REVERSAL])))
    # int(): PostgreSQL's SUM of a bigint is a numeric, which would travel as a string.
    return {"invited": int(invited), "completed": int(done), "points_paid": int(points),
            "revenue": str(sum((t for t in totals if t is not None), Decimal(0)))}
