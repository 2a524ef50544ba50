"""Redemptions: points become a single-use discount code, without ever being spent twice or lost.

1. `redeem_reward` locks the member's row, checks the balance, records the redemption
   (`pending`, with its code already chosen, and claimed by its maker: see `Taken`) and
   takes the points, in one transaction.
2. After that commit, the request makes the one Admin API call that creates the code, from
   what step 1 read (`issue_taken`); a retry job does the same from the row (`issue_code`).
   Success: `issued`. Refused for good (userErrors, revoked token): `failed`, and the points
   come back as a ledger entry in the same transaction. Throttled or down: still `pending`,
   retried later by a job with backoff, then failed (and refunded) after the last try.
3. An order carrying the code marks it `used`; codes past their expiry are marked `expired`
   and, if the program says so, give their points back.
Returning points is a `redemption_return` entry keyed on the redemption, so it can happen
at most once whatever path gets there first.
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Callable

from rq.timeouts import BaseTimeoutException
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from plugin.backoff import backoff
from plugin.db import is_busy, transaction, utcnow
from plugin.loyalty.events.member_events import record_event, record_events
from plugin.loyalty.ledger.spending import (
    InsufficientPoints,
    return_redeemed_points,
    spend_points,
)
from plugin.loyalty.rewards.catalog import find_reward
from plugin.loyalty.rewards.credit_intent import NoCurrency, credit_intent
from plugin.models import Member, MemberEventKind, Redemption, RedemptionStatus, Reward, Shop
from plugin.queue import request
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable
from plugin.shopify.discounts import CodeSpec, Offer, OfferKind, create_code
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.tokens import NotInstalled, has_usable_token

log = logging.getLogger(__name__)

REDEMPTIONS = Redemption.__table__
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread at checkout
CODE_LENGTH = 12  # 32**12 = 2**60 codes: unguessable
MAX_ISSUE_ATTEMPTS = 8
# A request waits for a few quick tries; a platform that stays slow is left to the retry job.
IN_REQUEST_LIMITS = {"max_attempts": 4, "max_wait": 2.0}
# A code used just before it expired may reach us hours later; wait before giving points back.
# How long a claimed code is left to its issuer before the retry job may try it again:
# longer than a whole job call with its retries (5 tries of up to 23 s, and the waits).
CLAIM_LEASE = timedelta(minutes=6)


class Refusal(Enum):
    """Why a redemption cannot be made; each edge says it its own way (an HTTP status, a notice)."""

    NOT_INSTALLED = "not_installed"  # no usable token: no code could be made
    NO_MEMBER = "no_member"
    NO_REWARD = "no_reward"
    UNAVAILABLE = "unavailable"  # the reward was deactivated
    NEGATIVE_BALANCE = "negative_balance"
    INSUFFICIENT = "insufficient"


class RedemptionRefused(Exception):
    """The redemption cannot be made, for `reason`; nothing was spent, but the caller must roll back."""

    def __init__(self, reason: Refusal, message: str):
        super().__init__(message)
        self.reason = reason


def new_code(shop_domain: str) -> str:
    """A readable shop prefix and 60 random bits, e.g. ROSEBUD-7QX2M9KD4HTP."""
    prefix = "".join(ch for ch in shop_domain.split(".")[0].upper() if ch.isalnum())[:8] or "LOYALTY"
    return f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Taken:
    """A redemption just recorded with its points taken, and what its code's first platform call needs.

    It is recorded already claimed (`next_attempt_at` a CLAIM_LEASE ahead), so once its
    transaction commits the request may call the platform at once, with no second
    transaction to claim it; the retry job leaves it alone until the lease lapses, which
    happens only if the request never records an outcome (its process died).
    """

    redemption: Redemption
    claim: "Claim | None"  # None for store credit, which is not a code
    customer_id: int
    balance: int  # the member's balance after the spend (the row was locked: exact at the commit)


def redeem_reward(session: Session, shop: Shop, customer_id: int, reward_id) -> Taken:
    """Take the reward's points from the member and record a pending redemption, claimed."""
    if shop.uninstalled_at is not None or not has_usable_token(shop):
        # Refused before anything moves: without a token no code can be made, and the points
        # would only come back through a failed redemption. An uninstall that lands after this
        # check is still caught by `issue_code`, which fails the code and returns the points.
        raise RedemptionRefused(Refusal.NOT_INSTALLED, "the app is not installed in this store (or must be opened "
                                "again from the store admin), so no discount code can be made; no points were spent")
    member = session.scalar(select(Member).where(Member.shop_id == shop.id, Member.customer_id == customer_id)
                            .with_for_update())
    if member is None:
        raise RedemptionRefused(Refusal.NO_MEMBER, "no such member in this shop")
    reward = find_reward(session, shop.id, reward_id)
    if reward is None:
        raise RedemptionRefused(Refusal.NO_REWARD, "no such reward in this shop")
    if not reward.active:
        raise RedemptionRefused(Refusal.UNAVAILABLE, "this reward is not available any more")
    if member.balance < 0:
        raise RedemptionRefused(Refusal.NEGATIVE_BALANCE,
                                "the balance is negative: no reward can be redeemed until it is positive")
    if member.balance < reward.points_cost:
        raise RedemptionRefused(Refusal.INSUFFICIENT, f"this reward costs {reward.points_cost} points; "
                                                      f"the balance is {member.balance}")
    now = utcnow()
    try:
        credit = credit_intent(shop, reward, now)  # store credit: plugin/loyalty/rewards/store_credit.py
    except NoCurrency as missing:
        raise RedemptionRefused(Refusal.UNAVAILABLE, str(missing)) from None
    # A code is recorded already claimed (a lease ahead: the request makes it next); store credit
    # is claimed by its own flow (store_credit.py), so it is due at once.
    redemption = Redemption(**{
        "shop_id": shop.id, "member_id": member.id, "reward_id": reward.id, "points": reward.points_cost,
        "code": new_code(shop.domain), "status": RedemptionStatus.PENDING,
        "next_attempt_at": now if credit else now + CLAIM_LEASE, "created_at": now,
        "expires_at": now + timedelta(days=reward.code_lifetime_days) if reward.code_lifetime_days else None,
        **credit})
    session.add(redemption)
    session.flush()
    try:
        spend_points(session, shop.id, member.id, redemption.id, reward.points_cost, f"Redeemed: {reward.name}")
    except InsufficientPoints as short:
        raise RedemptionRefused(Refusal.INSUFFICIENT, f"this reward costs {reward.points_cost} points; {short}") from None
    # Store credit makes no code: its flow reads what it needs when it claims (store_credit.py).
    claim = None if credit else Claim(_spec(redemption, reward, customer_id), reward_offer(reward), shop.id,
                                      shop.domain, shop)
    return Taken(redemption, claim, customer_id, member.balance - reward.points_cost)


def issue_code(redemption_id: int, **client_limits) -> RedemptionStatus | None:
    """Create the redemption's code on the platform; commits whatever it learns.

    No transaction is open during the platform call. The redemption is first claimed with
    one conditional UPDATE (a lease on `next_attempt_at`), so two workers never call for the
    same code; the outcome is then written under the write lock, only if still pending.
    """
    with transaction() as session:
        claimed = _claim(session, redemption_id)
    if not isinstance(claimed, Claim):
        return claimed
    outcome = _create_on_platform(claimed, client_limits)
    with transaction() as session:
        redemption = _record_outcome(session, redemption_id, outcome)
    if redemption.status is RedemptionStatus.PENDING:  # committed: now the retry may run
        schedule_code_retry(redemption.id, redemption.attempts, redemption.next_attempt_at - utcnow())
    return redemption.status


@dataclass(frozen=True)
class Claim:
    """What the platform call needs, read while claiming: the code and its offer as plain values."""

    spec: CodeSpec
    offer: Offer
    shop_id: int
    shop_domain: str
    known_shop: Shop | None = None  # the shop's row as just read: its token needs no second read


def issue_taken(session: Session, taken: Taken) -> Redemption | None:
    """Make the code of a redemption the request has just committed (its points spent, its
    claim taken), and record the outcome in one more transaction of the request's `session`.

    Returns the redemption as recorded, or None when the database was too busy to record
    it: that must not turn into a 503 "nothing was changed", since a client told so would
    redeem again. The code then stays pending and the retry job finishes it once the claim
    lapses (adopting the code if the platform made it).
    """
    outcome = _create_on_platform(taken.claim, IN_REQUEST_LIMITS)
    try:
        redemption = _record_outcome(session, taken.redemption.id, outcome, taken)
        session.commit()
    except DBAPIError as error:
        session.rollback()
        if not is_busy(error):
            raise
        log.warning("redemption %s left pending: the database was busy (%s)", taken.redemption.id,
                    type(error.orig).__name__)
        return None
    if redemption.status is RedemptionStatus.PENDING:  # committed: now the retry may run
        schedule_code_retry(redemption.id, redemption.attempts, redemption.next_attempt_at - utcnow())
    return redemption


def issue_redemption_code(redemption_id: int) -> str | None:
    """The job: (re)try creating a pending redemption's discount code."""
    status = issue_code(redemption_id)
    return None if status is None else status.value


def schedule_code_retry(redemption_id: int, attempts: int, delay: timedelta) -> None:
    """Retry a pending code later: a job at that time (in-process, the periodic upkeep does)."""
    request("issue-code", redemption_id, job_id=f"issue-code-{redemption_id}-{attempts}", delay=delay)


def retry_due_codes() -> dict:
    """The periodic job (every minute): retry the pending codes whose retry is due."""
    with transaction() as session:
        due = due_redemptions(session)
    for redemption_id in due:
        try:
            issue_code(redemption_id)
        except BaseTimeoutException:
            raise  # the job ran out of time: RQ must see it
        except Exception:
            # One redemption that cannot be handled must not hold back every other shop's.
            log.exception("retrying redemption %s failed", redemption_id)
    return {"retried": len(due)}


def _claim(session: Session, redemption_id: int) -> Claim | RedemptionStatus | None:
    """The redemption's claim if this caller may issue it now; else its current status
    (None if there is no such redemption)."""
    now = utcnow()
    claimed = session.execute(update(Redemption).where(
        Redemption.id == redemption_id, Redemption.status == RedemptionStatus.PENDING,
        Redemption.next_attempt_at <= now, Redemption.credit_amount.is_(None),  # store credit has its own flow
    ).values(next_attempt_at=now + CLAIM_LEASE).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return session.scalar(select(Redemption.status).where(Redemption.id == redemption_id))
    redemption = session.get(Redemption, redemption_id, populate_existing=True)
    shop = session.get(Shop, redemption.shop_id)
    reward = session.get(Reward, redemption.reward_id)
    customer_id = session.get(Member, redemption.member_id).customer_id
    return Claim(_spec(redemption, reward, customer_id), reward_offer(reward), shop.id, shop.domain)


def _spec(redemption: Redemption, reward: Reward, customer_id: int) -> CodeSpec:
    return CodeSpec(redemption.code, f"Loyalty reward: {reward.name}", customer_id, redemption.created_at,
                    redemption.expires_at)


@dataclass(frozen=True)
class PlatformOutcome:
    discount_id: str | None = None
    postpone: str | None = None  # worth another try later
    fail: str | None = None  # refused for good


def _create_on_platform(claim: Claim, client_limits: dict) -> PlatformOutcome:
    return call_platform(claim.shop_id, claim.shop_domain, {**client_limits, "known": claim.known_shop},
                         lambda client: create_code(client, claim.spec, claim.offer))


def reward_offer(reward: Reward) -> Offer:
    """What a reward's code gives, as the platform is told (referral welcome codes too)."""
    combines = reward.combines_with or {}
    return Offer(OfferKind(reward.kind.value), reward.value, reward.min_subtotal,
                 with_product_discounts=bool(combines.get("product_discounts")),
                 with_order_discounts=bool(combines.get("order_discounts")),
                 with_shipping_discounts=bool(combines.get("shipping_discounts")), product_id=reward.product_id)


def call_platform(shop_id: int, shop_domain: str, client_limits: dict,
                  create: Callable[[AdminClient], str]) -> PlatformOutcome:
    """Make one code with `create` (which returns its node id) and sort the answer: made,
    worth another try later, or refused for good. Referral welcome codes use it too."""
    client = AdminClient(shop_id, shop_domain, **client_limits)
    try:
        return PlatformOutcome(discount_id=create(client))
    except PlatformUnavailable as error:
        return PlatformOutcome(postpone=str(error))
    except PlatformAuthError as error:
        # The hourly token refresh failed: refused for good (4xx) or the platform is down.
        if error.status is not None and 400 <= error.status < 500:
            return PlatformOutcome(fail=f"the store refused to renew our access: {error}")
        return PlatformOutcome(postpone=str(error))
    except (PlatformError, NotInstalled) as error:
        return PlatformOutcome(fail=str(error))


def _record_outcome(session: Session, redemption_id: int, outcome: PlatformOutcome,
                    taken: Taken | None = None) -> Redemption:
    """Write what the platform answered, only if the code is still pending (an order may have
    used it meanwhile: what it recorded stands). `taken` is the request's own redemption,
    just made: a success is then written without reading the row back."""
    if taken is not None and outcome.discount_id is not None and _record_issued(session, taken, outcome.discount_id):
        return taken.redemption
    redemption = session.scalar(select(Redemption).where(Redemption.id == redemption_id).with_for_update()
                                .execution_options(populate_existing=True))
    if redemption.status is not RedemptionStatus.PENDING:
        return redemption  # an order used the code meanwhile: what it recorded stands
    if outcome.postpone is not None:
        _postpone(session, redemption, outcome.postpone)
    elif outcome.fail is not None:
        _fail(session, redemption, outcome.fail)
    else:
        redemption.status, redemption.issued_at, redemption.error = RedemptionStatus.ISSUED, utcnow(), None
        redemption.discount_id = outcome.discount_id
        redemption.attempts += 1
        session.flush()
        record_event(session, redemption.shop_id, redemption.member_id, MemberEventKind.REWARD_ISSUED,
                     str(redemption.id), {"redemption_id": redemption.id, "code": redemption.code})
    return redemption


def _record_issued(session: Session, taken: Taken, discount_id: str) -> bool:
    """The request's code exists: `issued` and its event; False if the code is not pending any more.

    One conditional UPDATE, whose WHERE decides as the row lock of a read-then-write would;
    the row in memory is then brought up to date with what it wrote, not read back.
    """
    redemption = taken.redemption
    values = {"status": RedemptionStatus.ISSUED, "issued_at": utcnow(), "error": None, "discount_id": discount_id,
              "attempts": redemption.attempts + 1}  # the claim's holder is the only one counting tries
    written = session.execute(update(REDEMPTIONS).where(
        REDEMPTIONS.c.id == redemption.id, REDEMPTIONS.c.status == RedemptionStatus.PENDING).values(values)).rowcount
    if written != 1:
        return False
    for name, value in values.items():
        set_committed_value(redemption, name, value)
    record_events(session, redemption.shop_id, MemberEventKind.REWARD_ISSUED, [(
        redemption.member_id, taken.customer_id, str(redemption.id), {"redemption_id": redemption.id,
                                                                       "code": redemption.code})])
    return True


def _postpone(session: Session, redemption: Redemption, reason: str) -> None:
    redemption.attempts += 1
    redemption.error = reason
    if redemption.attempts >= MAX_ISSUE_ATTEMPTS:
        _fail(session, redemption, f"gave up after {redemption.attempts} tries: {reason}")
        return
    redemption.next_attempt_at = utcnow() + retry_delay(redemption.attempts)
    session.flush()
    log.warning("redemption %s postponed (try %s): %s", redemption.id, redemption.attempts, reason)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... about an hour in all before giving the points back."""
    return backoff(attempts, first=timedelta(seconds=30), factor=2)


def _fail(session: Session, redemption: Redemption, reason: str) -> None:
    redemption.status, redemption.error = RedemptionStatus.FAILED, reason[:2000]
    return_redeemed_points(session, redemption.shop_id, redemption.member_id, redemption.id, redemption.points,
                           f"Code could not be created: points returned ({reason[:200]})")
    session.flush()
    log.warning("redemption %s failed: %s", redemption.id, reason)


def due_redemptions(session: Session, limit: int = 100) -> list[int]:
    return list(session.scalars(select(Redemption.id).where(
        Redemption.status == RedemptionStatus.PENDING, Redemption.next_attempt_at <= utcnow(),
        Redemption.credit_amount.is_(None))
        .order_by(Redemption.id).limit(limit)))


def redemption_json(redemption: Redemption) -> dict:
    """A store-credit redemption has no code; it says what it credits instead (`store_credit`)."""
    credit = redemption.credit_amount is not None
    return {
        "id": redemption.id, "reward_id": redemption.reward_id, "points": redemption.points,
        "code": None if credit else redemption.code, "status": redemption.status.value,
        "store_credit": {"amount": f"{redemption.credit_amount:f}", "currency": redemption.credit_currency}
        if credit else None,
        "expires_at": redemption.expires_at.isoformat() if redemption.expires_at else None,
        "order_id": None if redemption.order_id is None else str(redemption.order_id),
        "error": redemption.error if redemption.status is RedemptionStatus.FAILED else None,
        "created_at": redemption.created_at.isoformat(),
    }


def recent_redemptions(session: Session, member_id: int, limit: int = 20) -> list[Redemption]:
    return list(session.scalars(select(Redemption).where(Redemption.member_id == member_id)
                                .order_by(Redemption.id.desc()).limit(limit)))
