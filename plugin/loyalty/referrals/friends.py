"""Referrals: a member's friend asks for a welcome code, and the friend's first paid order pays the member.

1. `start_referral` checks the friend's email against the SPEC's refusals and the daily
   limits (DAILY_LIMIT and the shop's limits below it), under the shop's row lock (so the
   limits hold against concurrent requests), and records the referral in `creating` with
   its code already chosen. The request commits that.
2. `issue_welcome_code` (welcome_codes.py) then makes the one Admin API call, through the
   redemptions' path (`call_platform`: the same retries and the same adoption of a code
   that already exists).
   The code is kept to the store's segment of customers without orders (made once per
   shop), so an existing customer cannot use it. Made: `code_issued`. Not made: the row is
   deleted, so the email may try again and the refusal does not count toward the limits.
   A friend who then orders without the code is rejected, and the periodic job
   `withdraw_welcome_codes` (welcome_codes.py) switches that unused code off on the platform.
3. `complete_referrals` runs in the orders/paid batch: an order carrying a welcome code
   completes its referral (the referrer paid through the ledger, a `referral_completed`
   event) or rejects it with a reason. One conditional UPDATE moves a referral out of
   `code_issued`, so it completes at most once.
4. `reverse_cancelled_referral` runs with orders/cancelled: the points go back, once (the
   ledger's unique key). A cancellation that arrived before its paid order is found by the
   completion, which then reverses at once: the ledger ends the same in either order. So
   does an earlier paid order of the friend's that arrives after the referral completed:
   the referral is rejected after all and its points go back.

Emails compare by `plugin/loyalty/emails.email_key` (case, `+tags`, Gmail dots, Unicode
forms, quotes, trailing dots and IDNA domains). Members' emails are stored as given, so a
look-up narrows the shop's members in SQL (the key's domain as it may be written, and the
same start) and normalises the few candidates here.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.emails import MAX_EMAIL, domain_forms, email_key
from plugin.loyalty.events.member_events import record_event
from plugin.loyalty.ledger.bonuses import award_referral, reverse_referral
from plugin.loyalty.rewards.catalog import FRIEND_REWARD_KINDS
from plugin.loyalty.rewards.redemptions import new_code
from plugin.loyalty.shop_facts import business_zone
from plugin.models import (
    Member,
    MemberEventKind,
    OrderRecord,
    Program,
    Referral,
    ReferralStatus,
    Reward,
    Shop,
)

log = logging.getLogger(__name__)

REFERRALS = Referral.__table__
DAILY_LIMIT = 10  # welcome codes per referral link per day (SPEC "Referrals")
# Welcome codes per shop per day, read in the shop's zone, beyond the link's own limit: from
# one shopper's address when the app proxy names it; without one, to one email domain (the
# key's, so Gmail's aliases count as one) and in the whole shop. A public link then yields at
# most CLIENT_LIMIT codes to one person a day, whatever emails they make up.
CLIENT_LIMIT = 3
DOMAIN_LIMIT = 20
SHOP_LIMIT = 200
# A referral left `creating` this long lost its request half-way (the process died between
# the commit and the platform's answer): it no longer holds the friend's email.
CREATING_LEASE = timedelta(minutes=10)
EARLIER_ORDER = "the friend had already placed a paid order in this shop"


class Refusal(Enum):
    """Why a friend gets no welcome code; the storefront says it its own way (an HTTP status)."""

    NO_WELCOME_REWARD = "no_welcome_reward"
    INVALID_EMAIL = "invalid_email"
    REFERRERS_EMAIL = "referrers_email"
    DAILY_LIMIT = "daily_limit"
    CLIENT_LIMIT = "client_limit"
    DOMAIN_LIMIT = "domain_limit"
    SHOP_LIMIT = "shop_limit"
    ALREADY_INVITED = "already_invited"
    ALREADY_ORDERED = "already_ordered"
    LOOP = "loop"  # the friend invited the referrer


class ReferralRefused(Exception):
    """No welcome code for this request, for `reason`; the message says why, to the friend."""

    def __init__(self, reason: Refusal, message: str):
        super().__init__(message)
        self.reason = reason


def find_referrer(session: Session, shop_id: int, code: str) -> Member | None:
    """The member whose referral code this is (codes are shown upper case; typed in any case).

    A code of a member merged into another (customers/merge) is the kept member's now: the
    links the merged customer shared keep working and pay the account that holds their points."""
    member = session.scalar(select(Member).where(Member.shop_id == shop_id,
                                                 Member.referral_code == code.strip().upper()))
    if member is not None and member.merged_into_id is not None:
        return session.get(Member, member.merged_into_id)
    return member


def friend_reward(session: Session, program: Program) -> Reward | None:
    """The reward a friend's welcome code gives, if the program names one that is still offered."""
    if program.referral_reward_id is None:
        return None
    reward = session.get(Reward, program.referral_reward_id)
    usable = reward is not None and reward.shop_id == program.shop_id and reward.active and reward.deleted_at is None
    return reward if usable and reward.kind in FRIEND_REWARD_KINDS else None


def friend_reward_problem(session: Session, shop_id: int, reward_id: int) -> dict[str, str]:
    """{"referral_reward_id": why} unless the id names an active amount or percentage reward of this shop."""
    # Locked: a reward being deactivated at the same moment is either seen inactive here, or
    # sees this program's choice once it commits (plugin/loyalty/rewards/catalog.py).
    reward = session.scalar(select(Reward).where(Reward.id == reward_id).with_for_update())
    if reward is None or reward.shop_id != shop_id or reward.deleted_at is not None:
        return {"referral_reward_id": "no such reward in this shop"}
    if not reward.active or reward.kind not in FRIEND_REWARD_KINDS:
        return {"referral_reward_id": "must be an active amount_off or percentage_off reward"}
    return {}


def start_referral(session: Session, shop: Shop, referrer: Member, email: str, now: datetime,
                   client: str | None = None) -> Referral:
    """Record a friend's referral with its code chosen, or raise ReferralRefused (nothing written).
    A friend this link already gave an unused code gets that referral back (`code_issued`):
    the same code again, no new one and nothing counted toward the limits. `client` is the
    shopper's address where the request names it (the per-address limit)."""
    program = shop.program
    reward = friend_reward(session, program)
    if program.referral_points <= 0 or reward is None:
        raise ReferralRefused(Refusal.NO_WELCOME_REWARD,
                              "This store does not offer a welcome reward for friends right now.")
    key = email_key(email)
    if key is None:
        raise ReferralRefused(Refusal.INVALID_EMAIL,
                              f"Please enter a valid email address (up to {MAX_EMAIL} characters).")
    # The limits' lock: the shop's row, so codes counted across referrers hold together. NO KEY:
    # rows that merely reference the shop (orders, entries) are not held up.
    session.execute(select(Shop.id).where(Shop.id == shop.id).with_for_update(key_share=True))
    if key == email_key(referrer.email):
        raise ReferralRefused(Refusal.REFERRERS_EMAIL,
                              "That is the email of the person who invited you: share the link with a friend.")
    issued = _issued_before(session, shop.id, referrer.id, key)
    if issued is not None:
        return issued  # one code per friend: asking again shows the same code, made once
    _refuse_taken_email(session, shop.id, referrer, key)
    _refuse_past_limits(session, shop, referrer.id, key, client, now)
    row = dict(shop_id=shop.id, referrer_id=referrer.id, friend_email=email.strip(), email_key=key,
               code=new_code(shop.domain), reward_id=reward.id, status=ReferralStatus.CREATING, points=0,
               created_at=now, client_address=client)
    made = session.execute(insert_for(session, REFERRALS).values(**row).on_conflict_do_nothing()
                           .returning(REFERRALS.c.id)).first()
    if made is None:  # a concurrent request for the same friend got there first
        raise ReferralRefused(Refusal.ALREADY_INVITED, "This friend has already been invited to this store.")
    return session.get(Referral, made.id)


def _refuse_past_limits(session: Session, shop: Shop, referrer_id: int, key: str, client: str | None,
                        now: datetime) -> None:
    """Raise ReferralRefused past a daily limit; the counts are of codes made (or being made) today."""
    today = select(func.count()).select_from(REFERRALS).where(
        REFERRALS.c.shop_id == shop.id, REFERRALS.c.created_at >= _shop_midnight(shop, now))
    if session.scalar(today.where(REFERRALS.c.referrer_id == referrer_id)) >= DAILY_LIMIT:
        raise ReferralRefused(Refusal.DAILY_LIMIT,
                              f"This invitation link has made its {DAILY_LIMIT} welcome codes for today. "
                              "Please try again tomorrow.")
    if client is not None:
        if session.scalar(today.where(REFERRALS.c.client_address == client)) >= CLIENT_LIMIT:
            raise ReferralRefused(Refusal.CLIENT_LIMIT,
                                  "Welcome codes have already been made from this device today. "
                                  "Please try again tomorrow.")
        return
    domain = key.rpartition("@")[2]
    if session.scalar(today.where(REFERRALS.c.email_key.like(f"%@{_like(domain)}", escape="\\"))) >= DOMAIN_LIMIT:
        raise ReferralRefused(Refusal.DOMAIN_LIMIT,
                              f"This store has made its welcome codes for {domain} addresses today. "
                              "Please try again tomorrow.")
    if session.scalar(today) >= SHOP_LIMIT:
        raise ReferralRefused(Refusal.SHOP_LIMIT,
                              "This store has made its welcome codes for today. Please try again tomorrow.")


def _issued_before(session: Session, shop_id: int, referrer_id: int, key: str) -> Referral | None:
    """This link's unused welcome code for the same friend (however the email is written)."""
    return session.scalar(select(Referral).where(
        Referral.shop_id == shop_id, Referral.email_key == key, Referral.referrer_id == referrer_id,
        Referral.status == ReferralStatus.CODE_ISSUED))


def _refuse_taken_email(session: Session, shop_id: int, referrer: Member, key: str) -> None:
    session.execute(delete(REFERRALS).where(
        REFERRALS.c.shop_id == shop_id, REFERRALS.c.email_key == key,
        REFERRALS.c.status == ReferralStatus.CREATING, REFERRALS.c.created_at < utcnow() - CREATING_LEASE))
    if session.scalar(select(REFERRALS.c.id).where(REFERRALS.c.shop_id == shop_id, REFERRALS.c.email_key == key)):
        raise ReferralRefused(Refusal.ALREADY_INVITED, "This friend has already been invited to this store.")
    friends = members_with_email(session, shop_id, key)
    if any(_has_paid_order(session, shop_id, friend.customer_id) for friend in friends):
        raise ReferralRefused(Refusal.ALREADY_ORDERED,
                              "This email belongs to a customer who has already ordered from this store: "
                              "welcome codes are for new customers.")
    if any(_referred(session, friend.id, referrer) for friend in friends):
        raise ReferralRefused(Refusal.LOOP, "This friend invited you: a referral cannot go back the other way.")


def members_with_email(session: Session, shop_id: int, key: str) -> list[Member]:
    """The shop's members whose email normalises to `key`."""
    local, _, domain = key.rpartition("@")
    # The domain as it may be written (either Gmail, an IDNA domain in either form, a trailing
    # dot) and, past Gmail's dots, the same start, quoted or not: a superset the key narrows.
    start = _like(local[:1] if domain == "gmail.com" else local)
    patterns = [f"{quote}{start}%@{_like(form)}{dot}" for form in domain_forms(domain)
                for quote in ("", '"') for dot in ("", ".")]
    candidates = session.scalars(select(Member).where(
        Member.shop_id == shop_id, or_(*[func.lower(Member.email).like(p, escape="\\") for p in patterns])))
    return [member for member in candidates if email_key(member.email) == key]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_paid_order(session: Session, shop_id: int, customer_id: int, before: datetime | None = None,
                    other_than: int | None = None) -> bool:
    query = select(OrderRecord.id).where(OrderRecord.shop_id == shop_id, OrderRecord.customer_id == customer_id,
                                         OrderRecord.earned_points.is_not(None))
    if other_than is not None:
        query = query.where(OrderRecord.order_id != other_than)
    if before is not None:
        query = query.where(OrderRecord.paid_at < before)
    return session.scalar(query.limit(1)) is not None


def _referred(session: Session, friend_member_id: int, referrer: Member) -> bool:
    """Whether `friend_member_id` once invited `referrer`: A invites B, then B invites A is a loop."""
    key = email_key(referrer.email)
    if key is None:
        return False
    return session.scalar(select(REFERRALS.c.id).where(
        REFERRALS.c.referrer_id == friend_member_id, REFERRALS.c.email_key == key)) is not None


def _shop_midnight(shop: Shop, now: datetime) -> datetime:
    """The start of `now`'s day in the shop's time zone: the day the limits count."""
    local = now.astimezone(business_zone(shop.iana_timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Verdict:
    completed: bool
    reason: str | None = None


def complete_referrals(session: Session, shop_id: int, orders: list[OrderFacts]) -> int:
    """Paid orders that carry welcome codes complete (or reject) their referrals; returns how
    many completed. A friend who orders without their code is no longer new: the referral is
    rejected and its unused code withdrawn (`withdraw_welcome_codes`). One query finds the
    batch's referrals, by code or by the friends' emails."""
    _reject_undone_by_earlier_orders(session, shop_id, orders)
    by_code = {code.upper(): order for order in orders if order.discount_codes for code in order.discount_codes}
    by_email = {}
    for order in orders:
        key = None if order.test or order.cancelled else email_key(order.email)
        if key is not None:
            by_email.setdefault(key, order)
    if not by_code and not by_email:
        return 0
    referrals = session.scalars(select(Referral).where(
        Referral.shop_id == shop_id, Referral.status == ReferralStatus.CODE_ISSUED,
        or_(Referral.code.in_(by_code), Referral.email_key.in_(by_email))).order_by(Referral.id)).all()
    completed = 0
    for referral in referrals:
        if referral.code in by_code:
            completed += _settle(session, referral, by_code[referral.code])
        else:
            _reject_without_code(session, referral, by_email[referral.email_key])
    return completed


def _reject_without_code(session: Session, referral: Referral, order: OrderFacts) -> None:
    reason = f"the friend ordered without the welcome code (order {order.name or order.order_id})"
    session.execute(update(REFERRALS).where(REFERRALS.c.id == referral.id,
                                            REFERRALS.c.status == ReferralStatus.CODE_ISSUED).values(
        status=ReferralStatus.REJECTED, friend_customer_id=order.customer_id, completed_at=utcnow(),
        friend_marks=list(order.shopper_marks) or None, reason=reason))


def _reject_undone_by_earlier_orders(session: Session, shop_id: int, orders: list[OrderFacts]) -> None:
    """A friend's paid order that arrives after their referral completed, but was paid
    before the order that completed it, shows the friend was not new: the referral is
    rejected after all and its points go back, as if the orders had arrived in order."""
    customers = {order.customer_id for order in orders if order.customer_id is not None}
    if not customers:
        return
    completed = session.execute(select(Referral.id, Referral.referrer_id, Referral.order_id,
                                       Referral.friend_customer_id, OrderRecord.paid_at).join(
        OrderRecord, (OrderRecord.shop_id == Referral.shop_id) & (OrderRecord.order_id == Referral.order_id)).where(
        Referral.shop_id == shop_id, Referral.status == ReferralStatus.COMPLETED,
        Referral.friend_customer_id.in_(customers))).all()
    for row in completed:
        if not _has_paid_order(session, shop_id, row.friend_customer_id, before=row.paid_at, other_than=row.order_id):
            continue
        moved = session.execute(update(REFERRALS).where(
            REFERRALS.c.id == row.id, REFERRALS.c.status == ReferralStatus.COMPLETED).values(
            status=ReferralStatus.REJECTED, reason=EARLIER_ORDER)).rowcount
        if moved == 1:
            reverse_referral(session, shop_id, row.referrer_id, row.order_id,
                             f"Referral reversed: the friend had already ordered before order {row.order_id}")


def _settle(session: Session, referral: Referral, order: OrderFacts) -> bool:
    referrer = session.get(Member, referral.referrer_id)
    verdict = _verdict(session, referral, referrer, order)
    points, pending_days = session.execute(select(Program.referral_points, Program.pending_days)
                                           .where(Program.shop_id == referral.shop_id)).one()
    values = dict(order_id=order.order_id, friend_customer_id=order.customer_id, order_total=order.total_price,
                  completed_at=utcnow(), friend_marks=list(order.shopper_marks) or None)
    if verdict.completed:
        values.update(status=ReferralStatus.COMPLETED, points=points)
    else:
        values.update(status=ReferralStatus.REJECTED, reason=verdict.reason)
    moved = session.execute(update(REFERRALS).where(REFERRALS.c.id == referral.id,
                                                    REFERRALS.c.status == ReferralStatus.CODE_ISSUED)
                            .values(**values)).rowcount
    if moved != 1 or not verdict.completed:
        return False  # another order completed it meanwhile, or it is rejected: nobody is paid
    award_referral(session, referral.shop_id, referrer.id, order.order_id, points,
                   f"Referral: a friend's first order {order.name or order.order_id} was paid",
                   earned_at=order.business_time or order.paid_at, pending_days=pending_days)
    record_event(session, referral.shop_id, referrer.id, MemberEventKind.REFERRAL_COMPLETED, str(order.order_id),
                 {"friend_order_id": str(order.order_id), "points": points})
    if _cancelled(session, referral.shop_id, order.order_id):  # its cancellation arrived first
        reverse_cancelled_referral(session, referral.shop_id, order.order_id)
    return True


def _verdict(session: Session, referral: Referral, referrer: Member, order: OrderFacts) -> Verdict:
    if order.customer_id is not None and order.customer_id == referrer.customer_id:
        return Verdict(False, "the order was placed by the referrer (same customer)")
    key = email_key(order.email)
    if key is not None and key == email_key(referrer.email):
        return Verdict(False, "the order was placed with the referrer's email")
    if order.customer_id is None:
        return Verdict(True)
    paid_at = session.scalar(select(OrderRecord.paid_at).where(OrderRecord.shop_id == referral.shop_id,
                                                               OrderRecord.order_id == order.order_id))
    if _has_paid_order(session, referral.shop_id, order.customer_id, before=paid_at, other_than=order.order_id):
        return Verdict(False, EARLIER_ORDER)
    friend = session.scalar(select(Member.id).where(Member.shop_id == referral.shop_id,
                                                    Member.customer_id == order.customer_id))
    if friend is not None and _referred(session, friend, referrer):
        return Verdict(False, "the friend had invited the referrer (a referral loop)")
    return Verdict(True)


def _cancelled(session: Session, shop_id: int, order_id: int) -> bool:
    return session.scalar(select(OrderRecord.cancelled_at).where(
        OrderRecord.shop_id == shop_id, OrderRecord.order_id == order_id)) is not None


def reverse_cancelled_referral(session: Session, shop_id: int, order_id: int) -> int:
    """The friend's order was cancelled: its referral's points go back, once; returns how many."""
    referral = session.scalar(select(Referral).where(
        Referral.shop_id == shop_id, Referral.order_id == order_id, Referral.status == ReferralStatus.COMPLETED)
        .with_for_update())
    if referral is None:
        return 0  # no referral completed by this order (yet: a later orders/paid reverses at once)
    taken = reverse_referral(session, shop_id, referral.referrer_id, order_id,
                             f"Referral reversed: the friend's order {order_id} was cancelled")
    if referral.reversed_at is None:
        referral.reversed_at = utcnow()
        session.flush()
    return taken


def forget_referred_friend(session: Session, shop_id: int, customer_id: int, email: str | None) -> int:
    """customers/redact: the friend's email goes from their referrals (by the customer the
    referral's order named, or by the email the request names); the referral's outcome stays.
    The key becomes the row's id, so the friend could be invited again, as a stranger."""
    key = email_key(email)
    match = REFERRALS.c.friend_customer_id == customer_id
    if key is not None:
        match = or_(match, REFERRALS.c.email_key == key)
    ids = session.scalars(select(REFERRALS.c.id).where(REFERRALS.c.shop_id == shop_id, match)).all()
    for referral_id in ids:
        session.execute(update(REFERRALS).where(REFERRALS.c.id == referral_id).values(
            friend_email="(redacted)", email_key=f"redacted-{referral_id}", client_address=None,
            friend_marks=None))
    return len(ids)
