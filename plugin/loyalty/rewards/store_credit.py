"""Store credit: points become the shopper's store credit, never credited twice, never lost.

The platform's `storeCreditAccountCredit` has no idempotency key and no webhook (SHOPIFY.md
10), so the redemption is run like a payment whose answer can be lost:
1. `redeem_reward` (redemptions.py) takes the points and records the intent (amount,
   currency, expiry) in one transaction, committed before any call.
2. `grant_credit` claims the redemption (a lease, as codes do) and notes when a credit was
   first sent. The credit is sent exactly once per claim: the client's own retries are off,
   since a retry after a timeout could credit the shopper a second time.
3. An answer that was lost (timeout, 5xx, throttled) leaves the outcome unknown: the
   redemption stays `pending`, and the next claim first reads the customer's store credit
   transactions. A credit of the same amount and currency, made since the first send and
   not already paying for another redemption, is ours: the redemption is `issued` without
   another call. Only when none is there is the credit sent again.
4. A refusal known to have credited nothing (userErrors, a refused token, a bad request)
   fails the redemption and gives the points back, like a code that could not be made.
   After MAX_ISSUE_ATTEMPTS unknown outcomes, the points come back only once a reading of
   the account has shown no credit; a reading that fails keeps the redemption pending.

Once credited, the money is the shopper's: no code of ours lapses, and an order paid with it
(or a refund of that order) moves no redemption points (SPEC "Points rules").
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from rq.timeouts import BaseTimeoutException
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from plugin.db import is_busy, transaction, utcnow
from plugin.loyalty.events.member_events import record_event
from plugin.loyalty.ledger.spending import return_redeemed_points
from plugin.loyalty.rewards.redemptions import CLAIM_LEASE, IN_REQUEST_LIMITS, MAX_ISSUE_ATTEMPTS, retry_delay
from plugin.models import Member, MemberEventKind, Redemption, RedemptionStatus, Shop
from plugin.queue import request
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable, UserErrors
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.store_credit import Credit, credit, credit_transactions
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

# Our clock and the platform's may differ: a credit stamped slightly before our send is still ours.
CLOCK_SKEW = timedelta(minutes=5)
# An account that cannot be read is tried again at least this often, however many tries it took.
MAX_DELAY = timedelta(hours=6)


@dataclass(frozen=True)
class CreditClaim:
    """What one try needs, read while claiming: the intent and what is already accounted for."""

    redemption_id: int
    shop_id: int
    shop_domain: str
    credit: Credit
    sent_at: datetime  # when the first credit call was sent
    attempts: int  # earlier tries whose outcome was unknown
    taken: frozenset[str]  # credit transactions that already pay for this member's other redemptions


@dataclass(frozen=True)
class CreditOutcome:
    transaction_id: str | None = None  # credited: the platform's transaction
    unknown: str | None = None  # the call may or may not have landed: read the account before another
    fail: str | None = None  # known to have credited nothing: the points come back


def grant_credit(redemption_id: int, **client_limits) -> RedemptionStatus | None:
    """Credit a pending store-credit redemption; commits whatever it learns."""
    with transaction() as session:
        claimed = _claim(session, redemption_id)
    if not isinstance(claimed, CreditClaim):
        return claimed
    outcome = settle(claimed, client_limits)
    with transaction() as session:
        redemption = _record(session, redemption_id, outcome)
        status, attempts, due = redemption.status, redemption.attempts, redemption.next_attempt_at
    if status is RedemptionStatus.PENDING:  # committed: now the retry may run
        request("grant-credit", redemption_id, job_id=f"grant-credit-{redemption_id}-{attempts}", delay=due - utcnow())
    return status


def grant_credit_in_request(redemption_id: int) -> RedemptionStatus:
    """`grant_credit` for a request whose points are already spent: a busy database leaves the
    redemption pending for the periodic retry rather than answering "nothing was changed"."""
    try:
        return grant_credit(redemption_id, **IN_REQUEST_LIMITS)
    except DBAPIError as error:
        if not is_busy(error):
            raise
        log.warning("store credit %s left pending: the database was busy", redemption_id)
        return RedemptionStatus.PENDING


def grant_store_credit(redemption_id: int) -> str | None:
    """The job: (re)try a pending store credit."""
    status = grant_credit(redemption_id)
    return None if status is None else status.value


def retry_due_credits() -> dict:
    """The periodic job (every minute): the pending store credits whose retry is due."""
    with transaction() as session:
        due = list(session.scalars(select(Redemption.id).where(
            Redemption.status == RedemptionStatus.PENDING, Redemption.next_attempt_at <= utcnow(),
            Redemption.credit_amount.is_not(None)).order_by(Redemption.id).limit(100)))
    for redemption_id in due:
        try:
            grant_credit(redemption_id)
        except BaseTimeoutException:
            raise
        except Exception:
            log.exception("retrying store credit %s failed", redemption_id)  # the others still run
    return {"retried": len(due)}


def _claim(session: Session, redemption_id: int) -> CreditClaim | RedemptionStatus | None:
    now = utcnow()
    claimed = session.execute(update(Redemption).where(
        Redemption.id == redemption_id, Redemption.status == RedemptionStatus.PENDING,
        Redemption.next_attempt_at <= now, Redemption.credit_amount.is_not(None),
    ).values(next_attempt_at=now + CLAIM_LEASE).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return session.scalar(select(Redemption.status).where(Redemption.id == redemption_id))
    redemption = session.get(Redemption, redemption_id, populate_existing=True)
    if redemption.credit_sent_at is None:
        redemption.credit_sent_at = now  # committed before the call goes out
    shop = session.get(Shop, redemption.shop_id)
    customer_id = session.get(Member, redemption.member_id).customer_id
    taken = frozenset(session.scalars(select(Redemption.credit_transaction_id).where(
        Redemption.shop_id == shop.id, Redemption.member_id == redemption.member_id,
        Redemption.credit_transaction_id.is_not(None))))
    wanted = Credit(customer_id, redemption.credit_amount, redemption.credit_currency, redemption.credit_expires_at)
    return CreditClaim(redemption.id, shop.id, shop.domain, wanted, redemption.credit_sent_at, redemption.attempts,
                       taken)


def settle(claim: CreditClaim, client_limits: dict) -> CreditOutcome:
    """Find an earlier credit whose answer was lost, else send one; no transaction is open."""
    if claim.attempts > 0:
        try:
            found = find_credit(AdminClient(claim.shop_id, claim.shop_domain, **client_limits), claim)
        except (PlatformError, PlatformAuthError, NotInstalled) as error:
            return CreditOutcome(unknown=f"the store credit account could not be read: {error}")
        if found is not None:
            return CreditOutcome(transaction_id=found)
        if claim.attempts >= MAX_ISSUE_ATTEMPTS:
            return CreditOutcome(fail=f"no store credit was made after {claim.attempts} tries")
    return _send(claim, client_limits)


def _send(claim: CreditClaim, client_limits: dict) -> CreditOutcome:
    # One try per call, whatever the caller allows: the mutation must not be repeated blind.
    writer = AdminClient(claim.shop_id, claim.shop_domain, **{**client_limits, "max_attempts": 1})
    try:
        return CreditOutcome(transaction_id=credit(writer, claim.credit))
    except UserErrors as refused:
        return CreditOutcome(fail=f"the store refused the store credit: {refused}")
    except PlatformUnavailable as error:
        return CreditOutcome(unknown=str(error))
    except PlatformAuthError as error:
        # The token refresh failed before anything was sent: refused for good (4xx) or down.
        if error.status is not None and 400 <= error.status < 500:
            return CreditOutcome(fail=f"the store refused to renew our access: {error}")
        return CreditOutcome(unknown=str(error))
    except (PlatformError, NotInstalled) as error:
        return CreditOutcome(fail=str(error))


def find_credit(client: AdminClient, claim: CreditClaim) -> str | None:
    """The oldest credit of the intended amount and currency made since the first send that
    pays for nothing else yet, or None."""
    since = claim.sent_at - CLOCK_SKEW
    ours = [t for t in credit_transactions(client, claim.credit.customer_id)
            if t.amount == claim.credit.amount and t.currency == claim.credit.currency
            and t.created_at >= since and t.id not in claim.taken]
    return min(ours, key=lambda t: t.created_at).id if ours else None


def _record(session: Session, redemption_id: int, outcome: CreditOutcome) -> Redemption:
    redemption = session.scalar(select(Redemption).where(Redemption.id == redemption_id).with_for_update()
                                .execution_options(populate_existing=True))
    if redemption.status is not RedemptionStatus.PENDING:
        return redemption
    if outcome.transaction_id is not None and _issued(session, redemption, outcome.transaction_id):
        return redemption
    if outcome.fail is not None:
        redemption.status, redemption.error = RedemptionStatus.FAILED, outcome.fail[:2000]
        return_redeemed_points(session, redemption.shop_id, redemption.member_id, redemption.id, redemption.points,
                               f"Store credit could not be made: points returned ({outcome.fail[:200]})")
        session.flush()
        log.warning("store credit %s failed: %s", redemption.id, outcome.fail)
        return redemption
    _postpone(session, redemption, outcome.unknown or "the credit was found paying for another redemption")
    return redemption


def _issued(session: Session, redemption: Redemption, transaction_id: str) -> bool:
    """Record the credit; False if another redemption claimed that transaction meanwhile."""
    try:
        with session.begin_nested():
            redemption.status, redemption.issued_at, redemption.error = RedemptionStatus.ISSUED, utcnow(), None
            redemption.credit_transaction_id = transaction_id
            redemption.attempts += 1
            session.flush()
    except IntegrityError:
        session.refresh(redemption)
        return False
    record_event(session, redemption.shop_id, redemption.member_id, MemberEventKind.REWARD_ISSUED,
                 str(redemption.id), {"redemption_id": redemption.id, "code": None, "store_credit": {
                     "amount": f"{redemption.credit_amount:f}", "currency": redemption.credit_currency}})
    return True


def _postpone(session: Session, redemption: Redemption, reason: str) -> None:
    redemption.attempts += 1
    redemption.error = reason[:2000]
    redemption.next_attempt_at = utcnow() + min(retry_delay(redemption.attempts), MAX_DELAY)
    session.flush()
    log.warning("store credit %s unknown (try %s): %s", redemption.id, redemption.attempts, reason)
