"""Store sync: each member's balance and tier written to the store, so themes, emails and
flows can use them (SPEC "Member events and where they go").

What is written: the customer metafields `loyalty.points` (the balance) and `loyalty.tier`
(the tier's name), and the tag `loyalty-tier-<name>` for the current tier. Members to
write are the `store_sync` rows marked pending (plugin/models/store_sync.py says how they
are marked). The job runs every minute (plugin/schedule.py), which is what coalesces: a
member whose balance moved five times since the last run is written once, with the
figures of now. Values go 25 to a `metafieldsSet` call; only what differs from what the
store was last told is sent, so tags move only when the tier does and a second run sends
nothing. The Admin API client waits out THROTTLED answers; if the store is down the run
stops for that shop and the rows stay pending for the next run. Redacted customers, and
customers merged into another (customers/merge), are never written; a shop that turned
`store_sync_enabled` off is skipped until it turns it on.
"""
import logging
import re
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin.db import insert_for, is_busy, transaction, utcnow
from plugin.models import Member, MemberEvent, MemberEventKind, Program, Shop, StoreSync
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable, UserErrors
from plugin.shopify.customers import (
    METAFIELDS_PER_CALL,
    CustomerValue,
    add_tags,
    delete_metafields,
    refused_positions,
    remove_tags,
    set_metafields,
)
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

SYNC = StoreSync.__table__
NAMESPACE = "loyalty"
# Members read per round; a run goes on with further rounds until RUN_SECONDS are used.
ROUND = 500
RUN_SECONDS = 45.0


def mark_for_sync(session: Session, shop_id: int, member_ids: list[int]) -> None:
    """Mark members for the next sync (a tier change; balance changes mark themselves)."""
    if not member_ids:
        return
    stmt = insert_for(session, SYNC)
    stmt = stmt.on_conflict_do_update(index_elements=["member_id"],
                                      set_={"pending": True, "version": SYNC.c.version + 1})
    session.execute(stmt, [dict(member_id=member, shop_id=shop_id, pending=True, version=1)
                           for member in sorted(set(member_ids))])


def tier_tag(tier: str) -> str:
    return "loyalty-tier-" + (re.sub(r"[^a-z0-9]+", "-", tier.lower()).strip("-") or "tier")[:200]


@dataclass
class Pending:
    member_id: int
    customer_id: int
    version: int
    balance: int
    redacted: bool
    points: int | None  # what the store holds
    tier: str | None
    tag_tier: str | None
    current_tier: str | None = None


@dataclass
class Written:
    points: dict  # member id -> points written
    tier: dict  # member id -> tier written to the metafield
    tag_tier: dict  # member id -> tier whose tag the customer now carries
    failed: dict  # member id -> why the store refused it (not retried)


def sync_store() -> dict:
    """The periodic job: write every pending member of every shop that wants it."""
    with transaction() as session:
        shops = list(session.scalars(select(SYNC.c.shop_id).where(SYNC.c.pending.is_(True)).distinct()))
    deadline, written = time.monotonic() + RUN_SECONDS, {"members": 0, "calls": 0}
    for shop_id in shops:
        try:
            done = sync_shop(shop_id, deadline)
        except DBAPIError as error:
            if not is_busy(error):
                raise
            log.warning("store sync of shop %s stopped: the database was busy", shop_id)
            continue
        written["members"] += done["members"]
        written["calls"] += done["calls"]
    return written


def sync_shop(shop_id: int, deadline: float) -> dict:
    """Rounds of pending members of one shop until none is left, the store fails, or time is up."""
    totals, after = {"members": 0, "calls": 0}, 0
    while time.monotonic() < deadline:
        with transaction() as session:
            shop = session.get(Shop, shop_id)
            program = session.get(Program, shop_id)
            if shop is None or shop.access_token is None or program is None or not program.store_sync_enabled:
                return totals  # uninstalled or turned off: the rows wait, nothing is lost
            rows = _pending(session, shop_id, after)
        if not rows:
            return totals
        after = rows[-1].member_id
        client = AdminClient(shop_id, shop.domain)
        written, calls, stopped = _write(client, rows)
        with transaction() as session:
            _record(session, rows, written)
        totals["members"] += len(rows)
        totals["calls"] += calls
        if stopped:
            return totals
    return totals


def _pending(session: Session, shop_id: int, after: int) -> list[Pending]:
    found = session.execute(select(
        SYNC.c.member_id, Member.customer_id, SYNC.c.version, Member.balance, Member.redacted_at,
        Member.merged_into_id, SYNC.c.points, SYNC.c.tier, SYNC.c.tag_tier,
    ).join(Member, Member.id == SYNC.c.member_id).where(
        SYNC.c.shop_id == shop_id, SYNC.c.pending.is_(True), SYNC.c.member_id > after,
    ).order_by(SYNC.c.member_id).limit(ROUND)).all()
    # A customer merged into another no longer exists in the store: written as never, like a redacted one.
    rows = [Pending(r.member_id, r.customer_id, r.version, r.balance,
                    r.redacted_at is not None or r.merged_into_id is not None, r.points, r.tier, r.tag_tier)
            for r in found]
    tiers = current_tiers(session, [row.member_id for row in rows])
    for row in rows:
        row.current_tier = tiers.get(row.member_id)
    return rows


def current_tiers(session: Session, member_ids: list[int]) -> dict[int, str | None]:
    """Each member's tier name, from its latest `tier_changed` event (`data.to`)."""
    tiers: dict[int, str | None] = {}
    for member, data in session.execute(select(MemberEvent.member_id, MemberEvent.data).where(
            MemberEvent.member_id.in_(member_ids), MemberEvent.kind == MemberEventKind.TIER_CHANGED)
            .order_by(MemberEvent.member_id, MemberEvent.id.desc())):
        if member not in tiers:
            tiers[member] = (data or {}).get("to")
    return tiers


def _write(client: AdminClient, rows: list[Pending]) -> tuple[Written, int, bool]:
    """Send what differs; returns what was written, the calls made, and whether the store
    stopped answering (the rest waits for the next run)."""
    written, calls = Written({}, {}, {}, {}), 0
    live = [row for row in rows if not row.redacted]
    values = [value for row in live for value in _values(row)]
    try:
        for start in range(0, len(values), METAFIELDS_PER_CALL):
            calls += _set_values(client, values[start:start + METAFIELDS_PER_CALL], rows, written)
        removed = [CustomerValue(row.customer_id, NAMESPACE, "tier", "single_line_text_field", None)
                   for row in live if row.current_tier is None and row.tier is not None]
        for start in range(0, len(removed), METAFIELDS_PER_CALL):
            delete_metafields(client, removed[start:start + METAFIELDS_PER_CALL])
            calls += 1
            for value in removed[start:start + METAFIELDS_PER_CALL]:
                written.tier[_member(rows, value.customer_id)] = None
        for row in live:
            if row.current_tier != row.tag_tier and row.member_id not in written.failed:
                calls += _move_tag(client, row, written)
    except (PlatformUnavailable, PlatformAuthError, NotInstalled) as error:
        log.warning("store sync stopped for shop %s (%s); the rest goes next run", client.shop_id, error)
        return written, calls, True
    except PlatformError as error:  # revoked token, missing scope: nothing will work this run
        log.warning("store sync refused for shop %s: %s", client.shop_id, error)
        return written, calls, True
    return written, calls, False


def _values(row: Pending) -> list[CustomerValue]:
    values = []
    if row.points != row.balance:
        values.append(CustomerValue(row.customer_id, NAMESPACE, "points", "number_integer", str(row.balance)))
    if row.current_tier is not None and row.current_tier != row.tier:
        values.append(CustomerValue(row.customer_id, NAMESPACE, "tier", "single_line_text_field", row.current_tier))
    return values


def _member(rows: list[Pending], customer_id: int) -> int:
    return next(row.member_id for row in rows if row.customer_id == customer_id)


def _set_values(client: AdminClient, chunk: list[CustomerValue], rows: list[Pending], written: Written) -> int:
    """One metafieldsSet call (two if the platform refused some values: those are left out
    and recorded as failed, and the rest is sent again, since the call is all or nothing)."""
    try:
        set_metafields(client, chunk)
    except UserErrors as refused:
        bad = refused_positions(refused.errors) or set(range(len(chunk)))
        for position in bad:
            written.failed[_member(rows, chunk[position].customer_id)] = str(refused)[:500]
        rest = [value for position, value in enumerate(chunk) if position not in bad]
        return 1 + (_set_values(client, rest, rows, written) if rest else 0)
    for value in chunk:
        target = written.points if value.key == "points" else written.tier
        target[_member(rows, value.customer_id)] = int(value.value) if value.key == "points" else value.value
    return 1


def _move_tag(client: AdminClient, row: Pending, written: Written) -> int:
    calls = 0
    try:
        if row.tag_tier is not None:
            remove_tags(client, row.customer_id, [tier_tag(row.tag_tier)])
            calls += 1
        if row.current_tier is not None:
            add_tags(client, row.customer_id, [tier_tag(row.current_tier)])
            calls += 1
    except UserErrors as refused:  # a customer deleted from the store, say: not worth retrying
        written.failed[row.member_id] = str(refused)[:500]
        return calls + 1
    written.tag_tier[row.member_id] = row.current_tier
    return calls


def _record(session: Session, rows: list[Pending], written: Written) -> None:
    """Keep what the store now holds; clear `pending` for members fully written (or not to be
    written) whose version did not move since they were read."""
    now = utcnow()
    # In customer-id order, the order in which the ledger's batches lock members (and, through
    # the trigger, their store_sync rows), so this and a batch never wait on each other in a circle.
    rows = sorted(rows, key=lambda row: row.customer_id)
    for row in rows:
        changes = {}
        if row.member_id in written.points:
            changes["points"] = written.points[row.member_id]
        if row.member_id in written.tier:
            changes["tier"] = written.tier[row.member_id]
        if row.member_id in written.tag_tier:
            changes["tag_tier"] = written.tag_tier[row.member_id]
        if changes or row.member_id in written.failed:
            session.execute(update(SYNC).where(SYNC.c.member_id == row.member_id).values(
                **changes, synced_at=now, error=written.failed.get(row.member_id)))
    done = [dict(m=row.member_id, v=row.version) for row in rows if _complete(row, written)]
    if done:
        session.execute(update(SYNC).where(SYNC.c.member_id == bindparam("m"), SYNC.c.version == bindparam("v"))
                        .values(pending=False).execution_options(synchronize_session=False), done)


def _complete(row: Pending, written: Written) -> bool:
    if row.redacted or row.member_id in written.failed:
        return True
    points = written.points.get(row.member_id, row.points)
    tier = written.tier.get(row.member_id, row.tier)
    tag_tier = written.tag_tier.get(row.member_id, row.tag_tier)
    return points == row.balance and tier == row.current_tier and tag_tier == row.current_tier
