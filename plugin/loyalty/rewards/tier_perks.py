"""Tier perks that apply themselves: a segment per tier and an automatic discount for it.

(It lives with the rewards because it turns a reward into a discount, as codes do; the
tiers package says what a tier wants: plugin/loyalty/tiers/perk_rules.py.)

A tier may name a perk: a free-shipping or percentage-off reward of the catalog. Its
members get it at checkout without a code and without spending points, the platform's way
since API 2025-10 (SHOPIFY.md 11): one customer segment per tier, whose query is the
`loyalty-tier-<name>` tag the store sync keeps on each member (events/store_sync.py), and
one automatic discount whose `context` names that segment. A promotion or demotion moves
the tag, and with it the perk; nothing per member is written here.

The tier row says what is wanted and what the platform holds (segment and discount ids).
Any change that matters (a perk set, changed or dropped, the tier renamed or deleted, the
perk reward edited: catalog.update_reward) marks the tier `pending` (perk_rules.py); `sync_perk` then makes
the platform match, outside any transaction, and records each id as it learns it:
- wanted and missing: create the segment, then the discount;
- wanted and present: update both (a discount that changes between free shipping and a
  percentage is deleted and made again, as the platform has separate mutations);
- no longer wanted (perk dropped, tier deleted): delete the discount, then the segment.
A platform that is down leaves the tier pending, retried with backoff (`sync_due_perks`,
periodic); a refusal marks it `failed` with the platform's words, shown on the tier.
The claim is a lease on `perk_next_attempt_at`; a change made while a sync runs moves that
time back to now, which the sync sees when it records, so the change is synced next.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin.db import is_busy, transaction, utcnow
from plugin.loyalty.events.store_sync import tier_tag
from plugin.loyalty.rewards.redemptions import (
    CLAIM_LEASE,
    IN_REQUEST_LIMITS,
    MAX_ISSUE_ATTEMPTS,
    retry_delay,
    reward_offer,
)
from plugin.loyalty.tiers.perk_rules import FAILED, PENDING, PERK_KINDS, SYNCED
from plugin.models import Reward, Shop, Tier
from plugin.shopify.automatic_discounts import create_automatic, delete_automatic, discount_kind, update_automatic
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable
from plugin.shopify.discounts import Offer
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.segments import create_segment, delete_segment, tag_query, update_segment
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Plan:
    """What one sync needs, read while claiming, as plain values."""

    tier_id: int
    shop_id: int
    shop_domain: str
    lease: datetime
    title: str  # the discount's title: shoppers read it at checkout
    segment_name: str
    tag: str
    offer: Offer | None  # None: the tier should have no perk on the platform
    starts_at: datetime
    held: dict = field(default_factory=dict)  # segment_id, discount_id, discount_kind


@dataclass
class Result:
    held: dict
    error: str | None = None
    retry: bool = False


def sync_shop_perks(shop_id: int, **client_limits) -> None:
    """Sync this shop's tiers whose perk is due (a request that just changed one)."""
    with transaction() as session:
        due = list(session.scalars(select(Tier.id).where(
            Tier.shop_id == shop_id, Tier.perk_state == PENDING, Tier.perk_next_attempt_at <= utcnow())))
    for tier_id in due:
        sync_perk(tier_id, **client_limits)


def sync_shop_perks_in_request(shop_id: int) -> None:
    """After a request committed a change: a few quick tries; a platform that stays slow, or a
    database too busy now, is left to the periodic sync (the change itself is saved)."""
    try:
        sync_shop_perks(shop_id, **IN_REQUEST_LIMITS)
    except DBAPIError as error:
        if not is_busy(error):
            raise
        log.warning("tier perks of shop %s left pending: the database was busy", shop_id)


def sync_due_perks() -> dict:
    """The periodic job: every shop's tiers whose perk sync is due."""
    with transaction() as session:
        due = list(session.scalars(select(Tier.id).where(
            Tier.perk_state == PENDING, Tier.perk_next_attempt_at <= utcnow()).order_by(Tier.id).limit(100)))
    for tier_id in due:
        try:
            sync_perk(tier_id)
        except Exception:
            log.exception("syncing the perk of tier %s failed", tier_id)  # the others still run
    return {"synced": len(due)}


def sync_perk(tier_id: int, **client_limits) -> str | None:
    """Make the platform match the tier's perk; returns the tier's perk state after."""
    with transaction() as session:
        plan = _claim(session, tier_id)
    if plan is None:
        return None
    result = _apply(plan, AdminClient(plan.shop_id, plan.shop_domain, **client_limits))
    with transaction() as session:
        return _record(session, plan, result)


def _claim(session: Session, tier_id: int) -> Plan | None:
    now = utcnow()
    lease = now + CLAIM_LEASE
    claimed = session.execute(update(Tier).where(
        Tier.id == tier_id, Tier.perk_state == PENDING, Tier.perk_next_attempt_at <= now,
    ).values(perk_next_attempt_at=lease).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return None
    tier = session.get(Tier, tier_id, populate_existing=True)
    shop = session.get(Shop, tier.shop_id)
    reward = None if tier.perk_reward_id is None else session.get(Reward, tier.perk_reward_id)
    wanted = tier.live and reward is not None and reward.active and reward.kind in PERK_KINDS
    return Plan(tier.id, shop.id, shop.domain, tier.perk_next_attempt_at,
                title=f"{reward.name} ({tier.name} members)" if wanted else "",
                segment_name=f"Loyalty tier {tier.name} (#{tier.id})", tag=tier_tag(tier.name),
                offer=reward_offer(reward) if wanted else None, starts_at=tier.created_at,
                held={"segment_id": tier.perk_segment_id, "discount_id": tier.perk_discount_id,
                      "discount_kind": tier.perk_discount_kind})


def _apply(plan: Plan, client: AdminClient) -> Result:
    """The platform calls; `held` follows each one, so what was done is recorded even when a
    later call fails."""
    held = dict(plan.held)
    try:
        if plan.offer is None:
            _remove(client, held)
        else:
            _put(client, plan, held)
    except PlatformUnavailable as error:
        return Result(held, str(error), retry=True)
    except PlatformAuthError as error:
        return Result(held, str(error), retry=error.status is None or error.status >= 500)
    except (PlatformError, NotInstalled) as error:
        return Result(held, str(error))
    return Result(held)


def _remove(client: AdminClient, held: dict) -> None:
    if held["discount_id"]:
        delete_automatic(client, held["discount_id"])
        held["discount_id"] = held["discount_kind"] = None
    if held["segment_id"]:
        delete_segment(client, held["segment_id"])
        held["segment_id"] = None


def _put(client: AdminClient, plan: Plan, held: dict) -> None:
    query = tag_query(plan.tag)
    if held["segment_id"]:
        update_segment(client, held["segment_id"], plan.segment_name, query)
    else:
        held["segment_id"] = create_segment(client, plan.segment_name, query)
    kind = discount_kind(plan.offer)
    if held["discount_id"] and held["discount_kind"] != kind:
        delete_automatic(client, held["discount_id"])
        held["discount_id"] = held["discount_kind"] = None
    if held["discount_id"]:
        update_automatic(client, held["discount_id"], plan.title, plan.offer, held["segment_id"], plan.starts_at)
    else:
        held["discount_id"] = create_automatic(client, plan.title, plan.offer, held["segment_id"], plan.starts_at)
        held["discount_kind"] = kind


def _record(session: Session, plan: Plan, result: Result) -> str | None:
    tier = session.scalar(select(Tier).where(Tier.id == plan.tier_id).with_for_update()
                          .execution_options(populate_existing=True))
    tier.perk_segment_id = result.held["segment_id"]
    tier.perk_discount_id = result.held["discount_id"]
    tier.perk_discount_kind = result.held["discount_kind"]
    changed_meanwhile = tier.perk_state == PENDING and tier.perk_next_attempt_at != plan.lease
    if changed_meanwhile:
        return tier.perk_state  # due now: the next sync brings the platform to the newer wish
    if result.error is None:
        tier.perk_state = SYNCED if plan.offer is not None else None
        tier.perk_error, tier.perk_attempts, tier.perk_next_attempt_at = None, 0, None
    elif result.retry and tier.perk_attempts + 1 < MAX_ISSUE_ATTEMPTS:
        tier.perk_attempts += 1
        tier.perk_error = result.error[:2000]
        tier.perk_next_attempt_at = utcnow() + retry_delay(tier.perk_attempts)
    else:
        tier.perk_state, tier.perk_error, tier.perk_next_attempt_at = FAILED, result.error[:2000], None
        log.warning("the perk of tier %s could not be synced: %s", tier.id, result.error)
    session.flush()
    return tier.perk_state
