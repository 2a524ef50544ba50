"""Part (b) with the program engine on: ten active earning rules and a warm product cache.

The same order mix as the no-rules run, drained by the same code in one process, so the two
figures are a ratio of one run. The rules cover every kind of match the engine reads from
the product cache (type, tag, collection) and from the lines (sku, vendor), a campaign,
and bonuses per item and per order. Every product of the mix is cached, fresh, as the
products/* webhooks would have left it.
"""
from decimal import Decimal

from sqlalchemy import text

from bench.payloads import PRODUCTS, SHOP, product_id
from plugin.db import utcnow
from plugin.models import CachedProduct, EarningRuleRecord

RULES = (
    dict(name="2x tins", kind="multiplier", match_field="product_type", match_value="Tins", multiplier=Decimal(2)),
    dict(name="1.5x blends", kind="multiplier", match_field="product_tag", match_value="blend",
         multiplier=Decimal("1.5")),
    dict(name="3x teaware", kind="multiplier", match_field="collection_id", match_value="9001",
         multiplier=Decimal(3)),
    dict(name="1.25x Rosebud", kind="multiplier", match_field="vendor", match_value="rosebud",
         multiplier=Decimal("1.25")),
    dict(name="Autumn campaign", kind="multiplier", match_field="any", match_value=None, multiplier=Decimal("1.1"),
         starts_at=utcnow().replace(year=2026, month=11, day=1), ends_at=utcnow().replace(year=2026, month=12, day=1)),
    dict(name="25 per whisk", kind="bonus_points", match_field="sku", match_value="WHSK", points=25, per="item"),
    dict(name="10 per chai", kind="bonus_points", match_field="sku", match_value="CHAI", points=10, per="item"),
    dict(name="50 over 100", kind="bonus_points", match_field="any", match_value=None, points=50, per="order",
         min_subtotal=Decimal(100)),
    dict(name="20 for a teapot", kind="bonus_points", match_field="product_type", match_value="Teaware", points=20,
         per="order"),
    dict(name="5 per tasting set", kind="bonus_points", match_field="product_tag", match_value="gift", points=5,
         per="item"),
)
FACTS = {"OOLO": ("Tins", ["loose"], [9002]), "SENC": ("Pouches", ["loose"], []), "EARL": ("Tins", ["blend"], []),
         "WHSK": ("Teaware", [], [9001]), "POT1": ("Teaware", ["gift"], [9001]), "CHAI": ("Pouches", ["blend"], []),
         "ROOI": ("Pouches", [], []), "TSET": ("Sets", ["gift", "blend"], [9001]), "GIFT": ("Gift cards", [], [])}


def set_up(app) -> None:
    """Clear the ledger of the no-rules run, then add the rules and warm the product cache."""
    engine = app.extensions["engine"]
    with engine.begin() as connection:
        # CASCADE: the tables that hang off these (point lots, member events, ...) go with them.
        connection.execute(text("TRUNCATE webhook_events, ledger_entries, orders, refunds, members, "
                                "earning_rules, products, redemptions RESTART IDENTITY CASCADE"))
        shop_id = connection.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": SHOP}).scalar()
        blank = dict.fromkeys(("match_value", "multiplier", "points", "per", "min_subtotal", "starts_at", "ends_at"))
        connection.execute(EarningRuleRecord.__table__.insert(), [
            dict(blank, shop_id=shop_id, active=True, created_at=utcnow(), updated_at=utcnow(), **rule)
            for rule in RULES])
        skus = [sku for _, sku, _ in PRODUCTS] + ["GIFT"]
        connection.execute(CachedProduct.__table__.insert(), [
            dict(shop_id=shop_id, product_id=product_id(sku), product_type=FACTS[sku][0], vendor="Rosebud",
                 tags=FACTS[sku][1], collection_ids=FACTS[sku][2], fetched_at=utcnow(),
                 collections_fetched_at=utcnow()) for sku in skus])


def expected_points(app, orders) -> int:
    """What the engine gives these orders, computed order by order outside the batch path."""
    from plugin.db import transaction
    from plugin.loyalty.orders import shop_context
    from plugin.loyalty.rules.definitions import price_orders
    from webhooks.handlers import orders_paid

    with app.app_context(), transaction() as session:
        shop = shop_context(session, SHOP)
        return sum(price_orders(session, shop, [orders_paid.order_facts(order.payload)])[0][order.order_id].points
                   for order in orders)
