"""Tiers as a batch of paid orders is priced and awarded (SPEC "Tiers": promotion on the spot).

Before pricing, `OrderTiers.load` reads the batch's members' figures; then, member by member
in arrival order, each order is priced at the multiplier of the tier its member holds
before it (`multiplier`), and counted (`count`), which may promote the member for their
next order: the crossing order earns at the old multiplier, a later order of the same
batch at the new one. A paid-membership product does the same for 12 months from the
order. After the award, `promote` writes the promotions (never a demotion: only `tick`
demotes). Everything is reckoned at each order's business time, so replaying old orders
gives the tiers of their time. An order whose refund or cancellation arrived before it
counts net of them, as the ledger will book it.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.earning.engine import Award, refund_lines_from_json, refund_points
from plugin.loyalty.earning.rules import OrderFacts, ProgramRules, order_counts, points_for
from plugin.loyalty.tiers.definitions import load_ladder
from plugin.loyalty.tiers.ladder import Ladder, micros
from plugin.loyalty.tiers.standing import Move, move_members
from plugin.loyalty.tiers.totals import TOTALS, business_day
from plugin.models import Member, OrderRecord, Program, RefundRecord

MEMBERS = Member.__table__
ORDERS = OrderRecord.__table__
REFUNDS = RefundRecord.__table__
PAID_MEMBERSHIP = timedelta(days=365)


@dataclass
class Standing:
    """One member's figures and tier as the batch goes along."""

    tier_id: int | None
    paid_tier_id: int | None = None
    paid_until: datetime | None = None
    rows: dict = field(default_factory=lambda: defaultdict(int))  # (grain, starts_on) -> units
    # (tier id, business time of the crossing order) for each promotion in the batch, in order:
    # each is its own move and event, so how orders fall into batches changes nothing.
    steps: list = field(default_factory=list)
    paid_bought: bool = False
    # The member row as `_read` locked it, which `promote` writes from: the lock holds until
    # the batch commits, so nothing can have moved the member in between.
    member_id: int | None = None
    held_tier_id: int | None = None
    tier_changes: int = 0


def _lock_members(session: Session, shop_id: int, customers: list[int]) -> None:
    """Create the batch's members (no points) so that `_read` can lock them all: a batch's
    multipliers depend on its members' earlier orders, so a second worker's batch for the
    same member must wait for this one's commit rather than price from what it read before
    (PostgreSQL; SQLite runs one writer at a time anyway). Customer-id order, as the ledger's
    own upsert locks them, so two batches cannot deadlock on the members they share."""
    if customers:
        session.execute(insert_for(session, MEMBERS).on_conflict_do_nothing().returning(MEMBERS.c.id),
                        [dict(shop_id=shop_id, customer_id=c, balance=0, lifetime_earned=0) for c in customers]).all()


class OrderTiers:
    def __init__(self, ladder: Ladder, window: str, zone, rules: ProgramRules, done: set[int]):
        self.ladder, self.window, self.zone, self.rules, self.done = ladder, window, zone, rules, done
        self.standings: dict[int, Standing] = {}
        # Each batch member's counted amount, all years (the sum MAX_MEMBER_MICROS bounds), read
        # by `_read` under the members' lock: the ledger's booking clamps with it (totals.book_orders).
        self.counted: dict[int, int] = {}
        self.cancelled: set[int] = set()  # orders waiting with their reversals: _read_reversals
        self.refunds: dict[int, list] = defaultdict(list)

    @classmethod
    def load(cls, session: Session, shop, orders: list[OrderFacts]) -> "OrderTiers | None":
        """The batch's members as they stand; None when the shop has no tiers (nothing to do)."""
        # The program's tier settings come with the shop's context (read with the shop, once per batch).
        ladder = load_ladder(session, shop.id, shop.tier_basis)
        if not ladder.by_id:  # (a deleted tier still multiplies for its members until the tick)
            return None
        customers = sorted({o.customer_id for o in orders if o.customer_id is not None})
        _lock_members(session, shop.id, customers)
        # One read of the batch's known orders: those already awarded, and those cancelled first.
        known = session.execute(select(ORDERS.c.order_id, ORDERS.c.earned_points, ORDERS.c.cancelled_at).where(
            ORDERS.c.shop_id == shop.id, ORDERS.c.order_id.in_([o.order_id for o in orders]))).all()
        done = {row.order_id for row in known if row.earned_points is not None}
        tiers = cls(ladder, shop.tier_window, shop.zone, shop.rules, done)
        tiers.cancelled = {row.order_id for row in known if row.earned_points is None and row.cancelled_at is not None}
        # A refund that came first made its order's row (ledger.reverse_refund), so only orders
        # already known can have refunds waiting: most batches have none and skip that read.
        tiers._read_refunds(session, shop.id, [row.order_id for row in known if row.earned_points is None])
        earliest = min((tiers._moment(o) for o in orders), default=utcnow())
        tiers._read(session, shop.id, customers, shop.tier_basis, business_day(earliest, tiers.zone))
        return tiers

    def _read(self, session: Session, shop_id: int, customers: list[int], basis: str, earliest: date) -> None:
        members = session.execute(select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.tier_id,
                                         MEMBERS.c.paid_tier_id, MEMBERS.c.paid_until, MEMBERS.c.tier_changes).where(
            MEMBERS.c.shop_id == shop_id, MEMBERS.c.customer_id.in_(customers))
            .order_by(MEMBERS.c.customer_id).with_for_update()).all()
        self.standings = {c: Standing(None) for c in customers}
        by_member = {}
        for m in members:
            self.standings[m.customer_id] = Standing(m.tier_id, m.paid_tier_id, m.paid_until, member_id=m.id,
                                                     held_tier_id=m.tier_id, tier_changes=m.tier_changes)
            by_member[m.id] = self.standings[m.customer_id]
        column = TOTALS.c.points if basis == "points_earned" else TOTALS.c.amount_micros
        grain = "day" if self.window == "rolling_12_months" else "year"
        rows = TOTALS.c.grain == "year"
        if grain == "day":  # a rolling window of this batch reaches 365 days before its earliest order
            rows = or_(rows, and_(TOTALS.c.grain == "day", TOTALS.c.starts_on > earliest - timedelta(days=365)))
        query = select(TOTALS.c.member_id, TOTALS.c.grain, TOTALS.c.starts_on, column.label("units"),
                       TOTALS.c.amount_micros).where(TOTALS.c.member_id.in_(list(by_member)), rows)
        self.counted = dict.fromkeys(by_member, 0)
        for row in session.execute(query):
            if row.grain == "year":
                self.counted[row.member_id] += row.amount_micros
            if row.grain == grain:
                by_member[row.member_id].rows[(grain, row.starts_on)] += row.units

    def _read_refunds(self, session: Session, shop_id: int, order_ids: list[int]) -> None:
        """Cancellations (read by `load` with the batch's orders) and refunds that arrived
        before their orders: the ledger applies them as it awards, so the order counts net of
        them here too. Counted whole, an order cancelled before it was paid promoted its
        member (a `tier_changed` event told to subscribers, and the member's next orders
        priced at a tier they never held) until the next tick took it back."""
        if not order_ids:
            return
        for row in session.execute(select(REFUNDS.c.order_id, REFUNDS.c.refunded_subtotal, REFUNDS.c.lines).where(
                REFUNDS.c.shop_id == shop_id, REFUNDS.c.order_id.in_(order_ids), REFUNDS.c.applied.is_(False))
                .order_by(REFUNDS.c.id)):
            self.refunds[row.order_id].append((row.refunded_subtotal, refund_lines_from_json(row.lines)))

    def _net_units(self, order: OrderFacts, priced: Award) -> int:
        """What the order counts once the reversals waiting for it are applied, reckoned as
        the ledger does (ledger._apply_refund: each takes what the refunded lines earned,
        capped at what is left; a cancellation takes everything)."""
        if order.order_id in self.cancelled:
            return 0
        points, amount, tier = priced.points, micros(priced.eligible), priced.tier_multiplier or Decimal(1)
        for subtotal, lines in self.refunds.get(order.order_id, ()):
            wanted = refund_points(priced.lines, lines, self.rules.points_per_currency_unit, tier) \
                if priced.lines and lines else points_for(subtotal * tier, self.rules.points_per_currency_unit)
            points -= max(min(wanted, points), 0)
            amount -= min(micros(subtotal), amount)
        return points if self.ladder.basis == "points_earned" else amount

    def multiplier(self, order: OrderFacts) -> Decimal:
        standing = self.standings.get(order.customer_id)
        return self.ladder.multiplier(standing.tier_id) if standing else Decimal(1)

    def label(self, order: OrderFacts) -> str:
        standing = self.standings.get(order.customer_id)
        name = self.ladder.name(standing.tier_id) if standing else None
        return f"{name} tier" if name else "Tier multiplier"

    def count(self, order: OrderFacts, priced: Award) -> None:
        """Add a priced order to its member's figures and promote them for what follows."""
        if order.order_id in self.done or order.customer_id is None or not order_counts(order, self.rules):
            return
        self.done.add(order.order_id)
        standing = self.standings[order.customer_id]
        moment = self._moment(order)
        day = order.business_day or business_day(moment, self.zone)
        units = self._net_units(order, priced)
        standing.rows[("year", date(day.year, 1, 1))] += units
        standing.rows[("day", day)] += units
        if order.order_id not in self.cancelled:  # cancelled before it was paid: nothing was bought
            self._buy_membership(standing, order, moment)
        reached = self.ladder.standing(self._qualifying(standing, day), standing.paid_tier_id, standing.paid_until,
                                       moment)
        best = self.ladder.higher(standing.tier_id, reached)
        if best != standing.tier_id:
            standing.tier_id = best
            standing.steps.append((best, moment))

    @staticmethod
    def _moment(order: OrderFacts) -> datetime:
        return order.business_time or order.paid_at or utcnow()

    def _buy_membership(self, standing: Standing, order: OrderFacts, moment: datetime) -> None:
        """A paid-membership product: its tier for 12 months from the order, unless a higher
        paid tier is still running; buying the same tier again runs 12 months from the new order."""
        bought = self.ladder.paid_tier_for({line.product_id for line in order.lines})
        if bought is None:
            return
        running = standing.paid_until is not None and standing.paid_until > moment
        if running and self.ladder.rank(standing.paid_tier_id) > self.ladder.rank(bought.id):
            return
        until = moment + PAID_MEMBERSHIP
        if running and standing.paid_tier_id == bought.id:
            until = max(until, standing.paid_until)
        standing.paid_tier_id, standing.paid_until, standing.paid_bought = bought.id, until, True

    def _qualifying(self, standing: Standing, today: date) -> int:
        rows = standing.rows
        if self.window == "lifetime":
            return sum(units for (grain, _), units in rows.items() if grain == "year")
        if self.window == "calendar_year":
            return max(rows.get(("year", date(today.year, 1, 1)), 0), rows.get(("year", date(today.year - 1, 1, 1)), 0))
        start = today - timedelta(days=365)
        return sum(units for (grain, day), units in rows.items() if grain == "day" and start < day <= today)

    def promote(self, session: Session, shop_id: int) -> int:
        """Write the batch's promotions and paid memberships; returns how many members moved."""
        # From the rows `_read` locked (Standing.member_id): no second read of the members.
        moving = [(c, s) for c, s in self.standings.items() if (s.steps or s.paid_bought) and s.member_id is not None]
        if not moving:
            return 0
        paid = [dict(m_id=s.member_id, tier=s.paid_tier_id, until=s.paid_until) for _, s in moving if s.paid_bought]
        if paid:
            session.execute(update(MEMBERS).where(MEMBERS.c.id == bindparam("m_id"))
                            .values(paid_tier_id=bindparam("tier"), paid_until=bindparam("until")), paid)
        moves = []
        for customer_id, standing in moving:
            held, changes = standing.held_tier_id, standing.tier_changes
            # Only promotions: nothing here ever takes a member down.
            for tier_id, at in standing.steps:
                if self.ladder.rank(tier_id) > self.ladder.rank(held):
                    moves.append(Move(standing.member_id, customer_id, changes, held, tier_id, at))
                    held, changes = tier_id, changes + 1
        return move_members(session, shop_id, self.ladder, moves)


def end_cancelled_membership(session: Session, shop_id: int, record) -> None:
    """A paid order cancelled after it was paid: the membership it bought (still the member's
    running one, to the instant) ends, and the next tick takes the member to the tier their
    figures give (demotion happens only in `tick`). Without this a cancellation that arrived
    after its order left the paid tier running for 12 months, where one that arrived first
    bought nothing (OrderTiers._read_reversals): the order of arrival decided the tier."""
    facts = record.facts or {}
    product_ids = {line.get("product_id") for line in facts.get("lines", ())}
    if record.customer_id is None or not product_ids - {None}:
        return
    program = session.get(Program, shop_id)
    bought = load_ladder(session, shop_id, program.tier_basis).paid_tier_for(product_ids)
    if bought is None:
        return
    moment = datetime.fromisoformat(facts["business_time"]) if facts.get("business_time") else record.paid_at
    held = session.execute(select(MEMBERS.c.id, MEMBERS.c.paid_tier_id, MEMBERS.c.paid_until).where(
        MEMBERS.c.shop_id == shop_id, MEMBERS.c.customer_id == record.customer_id)).first()
    # A later purchase of the same tier ran from its own order: that one is not undone here.
    if held is not None and held.paid_tier_id == bought.id and moment is not None \
            and held.paid_until == moment + PAID_MEMBERSHIP:
        session.execute(update(MEMBERS).where(MEMBERS.c.id == held.id).values(paid_tier_id=None, paid_until=None))
