"""A code's life after it is issued: an order uses it, or it expires unused (the tick).

Both are conditional UPDATEs over the redemptions, so an order and the tick racing on one
code leave it either used or expired, never used with its points given back.
"""
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.ledger.spending import reclaim_returned_points, return_redeemed_points
from plugin.models import Program, Redemption, RedemptionStatus

# An issued code past its expiry is still honoured this long: an order placed just before
# expiry may be processed after it.
EXPIRY_GRACE = timedelta(hours=24)


def mark_codes_used(session: Session, shop_id: int, codes: list[str], order_id: int) -> int:
    """An order used these codes; returns how many of ours it marked (once per code).

    Two conditional UPDATEs, so a racing `expire_codes` cannot slip between a read and a
    write: whichever statement changes a row first wins it. Codes still issued or pending
    are marked first; a code that expired meanwhile (maybe with its points given back) is
    marked by the second, which spends those points again.
    """
    if not codes:
        return 0
    codes = [code.upper() for code in codes]
    live = _mark_used(session, shop_id, codes, order_id, [RedemptionStatus.ISSUED, RedemptionStatus.PENDING])
    lapsed = _mark_used(session, shop_id, codes, order_id, [RedemptionStatus.EXPIRED])
    for row in lapsed:
        # Rare: an order placed just before expiry, processed after the grace period returned
        # the points. The shopper had the discount, so the points are spent again.
        reclaim_returned_points(session, shop_id, row.member_id, row.id, row.points,
                                f"Code {row.code} was used after it expired: points spent again")
    return len(live) + len(lapsed)


def _mark_used(session: Session, shop_id: int, codes: list[str], order_id: int, statuses: list) -> list:
    return session.execute(update(Redemption).where(
        Redemption.shop_id == shop_id, Redemption.code.in_(codes), Redemption.status.in_(statuses),
    ).values(status=RedemptionStatus.USED, order_id=order_id, used_at=utcnow())
        .returning(Redemption.id, Redemption.member_id, Redemption.points, Redemption.code)
        .execution_options(synchronize_session=False)).all()


def expire_codes(session: Session, now: datetime) -> int:
    """Mark issued codes past expiry (and its grace) expired; maybe give their points back.

    One conditional UPDATE decides which codes expire, so a code an order marks used at
    the same moment is either used or expired, never used with its points returned.
    """
    expired = session.execute(update(Redemption).where(
        Redemption.status == RedemptionStatus.ISSUED, Redemption.expires_at <= now - EXPIRY_GRACE,
    ).values(status=RedemptionStatus.EXPIRED)
        .returning(Redemption.id, Redemption.shop_id, Redemption.member_id, Redemption.points, Redemption.code)
        .execution_options(synchronize_session=False)).all()
    returning = set(session.scalars(select(Program.shop_id).where(
        Program.shop_id.in_({row.shop_id for row in expired}), Program.return_points_on_expiry.is_(True))))
    for row in expired:
        if row.shop_id in returning:
            return_redeemed_points(session, row.shop_id, row.member_id, row.id, row.points,
                                   f"Code {row.code} expired unused: points returned")
    return len(expired)
