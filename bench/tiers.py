"""Part (b) with tiers on top of the earning rules: three tiers (an entry tier at 0, Silver
and Gold), the earning rules and warm product cache of bench/rules.py, the same orders.

Tier multipliers make an order's points depend on the orders its customer paid before, so
the check here is the ledger's own: every balance against its entries and every tier
figure against the orders it counts (verify-ledger), and every member in the tier their
figures give.
"""
from decimal import Decimal

from sqlalchemy import func, select, text

from bench import rules
from bench.payloads import SHOP
from plugin.db import utcnow
from plugin.models import Member, Tier

TIERS = (("Bronze", Decimal(0), Decimal(1)), ("Silver", Decimal(500), Decimal("1.25")),
         ("Gold", Decimal(2000), Decimal("1.5")))


def set_up(app) -> None:
    """The rules run's set-up, then the three tiers."""
    rules.set_up(app)
    with app.extensions["engine"].begin() as connection:
        connection.execute(text("TRUNCATE member_tier_totals, member_events, tiers RESTART IDENTITY CASCADE"))
        shop_id = connection.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": SHOP}).scalar()
        connection.execute(Tier.__table__.insert(), [
            dict(shop_id=shop_id, name=name, threshold=threshold, multiplier=multiplier, perks="", live=True,
                 created_at=utcnow()) for name, threshold, multiplier in TIERS])


def check(app) -> tuple[list, dict[str, int]]:
    """(tier figures that disagree with their orders, members per tier name)."""
    from plugin.db import transaction
    from plugin.loyalty.tiers.totals import verify_totals

    with app.app_context(), transaction() as session:
        names = dict(session.execute(select(Tier.id, Tier.name)).all())
        counts = session.execute(select(Member.tier_id, func.count()).group_by(Member.tier_id)).all()
        return verify_totals(session), {names.get(tier, "none"): count for tier, count in counts}
