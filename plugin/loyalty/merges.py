"""customers/merge: the platform made two customers one, so their two members become one.

The kept customer's member receives what the merged customer's member held: points,
pending points and lots (plugin/loyalty/ledger/merging.py, an entry on each side), tier
figures and the tier they earn (a merge never lowers a tier on the spot; the tick does),
a paid membership still running, the codes of its redemptions, its referrals and the
referral code it shared (friends' links keep working: `find_referrer` follows the merge),
and its orders, so a later refund or cancellation of one of them takes back from the
kept member. Orders naming the merged customer that arrive later are credited to the kept
one (`follow_merges`), also when the merged customer was no member yet. Replayed, a merge
finds the merged member already merged and changes nothing; a merge the platform reports as failed or still running changes nothing either.
"""
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.ledger.merging import Moved, fold_member
from plugin.loyalty.members import ensure_member
from plugin.loyalty.tiers.definitions import load_ladder
from plugin.loyalty.tiers.standing import Move, move_members
from plugin.loyalty.tiers.totals import business_day, fold_totals, qualifying, shop_zone
from plugin.models import Member, OrderRecord, Program, Redemption, Referral

MEMBERS = Member.__table__
COMPLETED = "completed"


@dataclass(frozen=True)
class MergeReport:
    """A customers/merge as the platform reports it."""

    kept_customer_id: int
    merged_customer_id: int
    status: str


def customers_merged(session: Session, shop_id: int, report: MergeReport, now: datetime | None = None) -> Moved | None:
    """Fold the merged customer's member into the kept customer's; what moved, or None if nothing did."""
    if report.status != COMPLETED or report.kept_customer_id == report.merged_customer_id:
        return None
    gone = session.execute(select(Member.id, Member.merged_into_id).where(
        Member.shop_id == shop_id, Member.customer_id == report.merged_customer_id)).first()
    if gone is not None and gone.merged_into_id is not None:
        return None  # merged before: a replay
    # A customer who was no member yet becomes one, merged at once, so an order of theirs
    # that arrives late (delivered late, or found by reconciliation) follows the merge too.
    gone_id = gone.id if gone is not None else ensure_member(session, shop_id, report.merged_customer_id)
    now = now or utcnow()
    kept = session.execute(select(Member.id, Member.merged_into_id).where(
        Member.shop_id == shop_id, Member.customer_id == report.kept_customer_id)).first()
    # A kept customer without a member yet gets one; one merged away itself hands on to its own keeper.
    kept_id = ensure_member(session, shop_id, report.kept_customer_id) if kept is None else (
        kept.merged_into_id or kept.id)
    if kept_id == gone_id:
        return None  # the kept customer was merged into this one before: they are one already
    moved = fold_member(session, shop_id, kept_id, gone_id, now)
    if moved is None:
        return None
    kept_customer = session.scalar(select(Member.customer_id).where(Member.id == kept_id))
    _hand_over(session, shop_id, kept_id, kept_customer, gone_id, report.merged_customer_id)
    fold_totals(session, shop_id, kept_id, gone_id)
    _settle_tier(session, shop_id, kept_id, gone_id, now)
    return moved


def _hand_over(session: Session, shop_id: int, kept_id: int, kept_customer: int, gone_id: int,
               gone_customer: int) -> None:
    """What points are owed by or to: orders, redemptions' codes, referrals made and received."""
    session.execute(update(OrderRecord).where(OrderRecord.shop_id == shop_id, OrderRecord.customer_id == gone_customer)
                    .values(customer_id=kept_customer).execution_options(synchronize_session=False))
    session.execute(update(Redemption).where(Redemption.member_id == gone_id).values(member_id=kept_id)
                    .execution_options(synchronize_session=False))
    session.execute(update(Referral).where(Referral.referrer_id == gone_id).values(referrer_id=kept_id)
                    .execution_options(synchronize_session=False))
    session.execute(update(Referral).where(Referral.shop_id == shop_id, Referral.friend_customer_id == gone_customer)
                    .values(friend_customer_id=kept_customer).execution_options(synchronize_session=False))


def _settle_tier(session: Session, shop_id: int, kept_id: int, gone_id: int, now: datetime) -> None:
    """The kept member holds the higher of the two tiers, or what the joined figures earn if
    higher still, and the later-ending paid membership."""
    program = session.get(Program, shop_id)
    ladder = load_ladder(session, shop_id, program.tier_basis)
    members = {row.id: row for row in session.execute(select(
        MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.tier_id, MEMBERS.c.tier_changes, MEMBERS.c.paid_tier_id,
        MEMBERS.c.paid_until).where(MEMBERS.c.id.in_([kept_id, gone_id])))}
    kept, gone = members[kept_id], members[gone_id]
    paid_tier, paid_until = kept.paid_tier_id, kept.paid_until
    if gone.paid_until is not None and (paid_until is None or gone.paid_until > paid_until):
        paid_tier, paid_until = gone.paid_tier_id, gone.paid_until
        session.execute(update(MEMBERS).where(MEMBERS.c.id == kept_id).values(paid_tier_id=paid_tier,
                                                                              paid_until=paid_until))
    figure = qualifying(session, shop_id, program.tier_basis, program.tier_window,
                        business_day(now, shop_zone(session, shop_id)), [kept_id]).get(kept_id, 0)
    target = ladder.higher(ladder.standing(figure, paid_tier, paid_until, now),
                           ladder.higher(kept.tier_id, gone.tier_id))
    move_members(session, shop_id, ladder, [Move(kept_id, kept.customer_id, kept.tier_changes, kept.tier_id,
                                                 target, now)])


def follow_merges(session: Session, shop_id: int, orders: list[OrderFacts]) -> list[OrderFacts]:
    """The orders with each merged customer replaced by the customer it was merged into.

    One indexed read per batch; the rows are locked (customer-id order, as the batch's own
    upsert locks them), so a merge running at the same moment either finishes first, and
    its link is read here, or waits for this batch and then moves what it credited."""
    customers = sorted({order.customer_id for order in orders if order.customer_id is not None})
    if not customers:
        return orders
    rows = session.execute(select(MEMBERS.c.customer_id, MEMBERS.c.merged_into_id).where(
        MEMBERS.c.shop_id == shop_id, MEMBERS.c.customer_id.in_(customers))
        .order_by(MEMBERS.c.customer_id).with_for_update()).all()
    merged = {row.customer_id: row.merged_into_id for row in rows if row.merged_into_id is not None}
    if not merged:
        return orders
    kept = dict(session.execute(select(MEMBERS.c.id, MEMBERS.c.customer_id).where(
        MEMBERS.c.id.in_(set(merged.values())))).all())
    return [replace(order, customer_id=kept[merged[order.customer_id]]) if order.customer_id in merged else order
            for order in orders]
