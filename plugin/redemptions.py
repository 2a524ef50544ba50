"""Redemptions: points become a single-use discount code, without ever being spent twice or lost.

1. `redeem_reward` locks the member's row, checks the balance, records the redemption
   (`pending`, with its code already chosen) and takes the points, in one transaction.
2. After that commit, `issue_code` makes the one Admin API call that creates the code.
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
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import new_session, utcnow
from plugin.ledger import reclaim_returned_points, return_redeemed_points, spend_points
from plugin.models import Member, Redemption, RedemptionStatus, Reward, Shop
from plugin.rewards import find_reward
from plugin.platform_auth import PlatformAuthError
from plugin.shopify_client import AdminClient, PlatformError, PlatformUnavailable
from plugin.tokens import NotInstalled

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread at checkout
CODE_LENGTH = 12  # 32**12 = 2**60 codes: unguessable
MAX_ISSUE_ATTEMPTS = 8
# A request waits for a few quick tries; a platform that stays slow is left to the retry job.
IN_REQUEST_LIMITS = {"max_attempts": 4, "max_wait": 2.0}
# A code used just before it expired may reach us hours later; wait before giving points back.
EXPIRY_GRACE = timedelta(hours=24)


class RedemptionRefused(Exception):
    """The redemption cannot be made; `status` is the HTTP answer (404, 409, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def new_code(shop_domain: str) -> str:
    """A readable shop prefix and 60 random bits, e.g. ROSEBUD-7QX2M9KD4HTP."""
    prefix = "".join(ch for ch in shop_domain.split(".")[0].upper() if ch.isalnum())[:8] or "LOYALTY"
    return f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def redeem_reward(session: Session, shop: Shop, customer_id: int, reward_id) -> Redemption:
    """Take the reward's points from the member and record a pending redemption."""
    member = session.scalar(select(Member).where(Member.shop_id == shop.id, Member.customer_id == customer_id)
                            .with_for_update())
    if member is None:
        raise RedemptionRefused(404, "no such member in this shop")
    reward = find_reward(session, shop.id, reward_id)
    if reward is None:
        raise RedemptionRefused(404, "no such reward in this shop")
    if not reward.active:
        raise RedemptionRefused(422, "this reward is not available any more")
    if member.balance < 0:
        raise RedemptionRefused(409, "the balance is negative: no reward can be redeemed until it is positive")
    if member.balance < reward.points_cost:
        raise RedemptionRefused(409, f"this reward costs {reward.points_cost} points; "
                                     f"the balance is {member.balance}")
    now = utcnow()
    redemption = Redemption(
        shop_id=shop.id, member_id=member.id, reward_id=reward.id, points=reward.points_cost,
        code=new_code(shop.domain), status=RedemptionStatus.PENDING, next_attempt_at=now,
        expires_at=now + timedelta(days=reward.code_lifetime_days) if reward.code_lifetime_days else None,
    )
    session.add(redemption)
    session.flush()
    spend_points(session, shop.id, member.id, redemption.id, reward.points_cost, f"Redeemed: {reward.name}")
    session.refresh(member)
    return redemption


def issue_code(redemption_id: int, **client_limits) -> RedemptionStatus:
    """Create the redemption's code on the platform; commits whatever it learns."""
    from plugin.jobs import schedule_code_retry

    session = new_session()
    try:
        with session.begin():
            redemption = session.scalar(select(Redemption).where(Redemption.id == redemption_id).with_for_update())
            if redemption is None or redemption.status is not RedemptionStatus.PENDING:
                return None if redemption is None else redemption.status
            _issue_locked(session, redemption, client_limits)
        if redemption.status is RedemptionStatus.PENDING:  # committed: now the retry may run
            schedule_code_retry(redemption.id, redemption.attempts, redemption.next_attempt_at - utcnow())
        return redemption.status
    finally:
        session.close()


def _issue_locked(session: Session, redemption: Redemption, client_limits: dict) -> None:
    from plugin.discounts import create_discount_code

    reward = session.get(Reward, redemption.reward_id)
    member = session.get(Member, redemption.member_id)
    shop = session.get(Shop, redemption.shop_id)
    client = AdminClient(shop.id, shop.domain, **client_limits)
    try:
        redemption.discount_id = create_discount_code(client, redemption, reward, member.customer_id,
                                                      redemption.created_at)
    except PlatformUnavailable as error:
        _postpone(session, redemption, str(error))
        return
    except PlatformAuthError as error:
        # The hourly token refresh failed: refused for good (4xx) or the platform is down.
        if error.status is not None and 400 <= error.status < 500:
            _fail(session, redemption, f"the store refused to renew our access: {error}")
        else:
            _postpone(session, redemption, str(error))
        return
    except (PlatformError, NotInstalled) as error:
        _fail(session, redemption, str(error))
        return
    redemption.status, redemption.issued_at, redemption.error = RedemptionStatus.ISSUED, utcnow(), None
    redemption.attempts += 1
    session.flush()


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
    return timedelta(seconds=30 * 2 ** (attempts - 1))


def _fail(session: Session, redemption: Redemption, reason: str) -> None:
    redemption.status, redemption.error = RedemptionStatus.FAILED, reason[:2000]
    return_redeemed_points(session, redemption.shop_id, redemption.member_id, redemption.id, redemption.points,
                           f"Code could not be created: points returned ({reason[:200]})")
    session.flush()
    log.warning("redemption %s failed: %s", redemption.id, reason)


def due_redemptions(session: Session, limit: int = 100) -> list[int]:
    return list(session.scalars(select(Redemption.id).where(
        Redemption.status == RedemptionStatus.PENDING, Redemption.next_attempt_at <= utcnow())
        .order_by(Redemption.id).limit(limit)))


def mark_codes_used(session: Session, shop_id: int, codes: list[str], order_id: int) -> int:
    """An order used these codes; returns how many of ours it marked (once per code)."""
    if not codes:
        return 0
    _reclaim_expired(session, shop_id, [code.upper() for code in codes])
    result = session.execute(update(Redemption).where(
        Redemption.shop_id == shop_id, Redemption.code.in_([code.upper() for code in codes]),
        Redemption.status.in_([RedemptionStatus.ISSUED, RedemptionStatus.PENDING, RedemptionStatus.EXPIRED]),
    ).values(status=RedemptionStatus.USED, order_id=order_id, used_at=utcnow()))
    return result.rowcount


def _reclaim_expired(session: Session, shop_id: int, codes: list[str]) -> None:
    # Rare: an order placed just before expiry, processed after the grace period returned
    # the points. The shopper had the discount, so the points are spent again.
    for redemption in session.scalars(select(Redemption).where(
            Redemption.shop_id == shop_id, Redemption.code.in_(codes),
            Redemption.status == RedemptionStatus.EXPIRED)):
        reclaim_returned_points(session, shop_id, redemption.member_id, redemption.id, redemption.points,
                                f"Code {redemption.code} was used after it expired: points spent again")


def expire_codes(session: Session) -> int:
    """Mark issued codes past expiry (and its grace) expired; maybe give their points back."""
    from plugin.models import Program

    due = session.scalars(select(Redemption).where(
        Redemption.status == RedemptionStatus.ISSUED, Redemption.expires_at <= utcnow() - EXPIRY_GRACE,
    ).with_for_update(skip_locked=True)).all()
    for redemption in due:
        redemption.status = RedemptionStatus.EXPIRED
        if session.get(Program, redemption.shop_id).return_points_on_expiry:
            return_redeemed_points(session, redemption.shop_id, redemption.member_id, redemption.id,
                                   redemption.points, f"Code {redemption.code} expired unused: points returned")
    session.flush()
    return len(due)


def redemption_json(redemption: Redemption) -> dict:
    return {
        "id": redemption.id, "reward_id": redemption.reward_id, "points": redemption.points,
        "code": redemption.code, "status": redemption.status.value,
        "expires_at": redemption.expires_at.isoformat() if redemption.expires_at else None,
        "order_id": None if redemption.order_id is None else str(redemption.order_id),
        "error": redemption.error if redemption.status is RedemptionStatus.FAILED else None,
        "created_at": redemption.created_at.isoformat(),
    }


def recent_redemptions(session: Session, member_id: int, limit: int = 20) -> list[Redemption]:
    return list(session.scalars(select(Redemption).where(Redemption.member_id == member_id)
                                .order_by(Redemption.id.desc()).limit(limit)))
