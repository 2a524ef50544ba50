"""Reconciliation against a mocked Admin API: pages, throttling, outages, orders too large.

The shop is installed through the real token exchange (the `platform` fixture); the orders
query is answered by `responses`, in the platform's GraphQL shapes. The CLI runs in this
process, so the mock answers it on both passes; the webhooks go through the signed intake.
"""
import json

from sqlalchemy import func, select

from plugin.models import LedgerEntry, OrderRecord, ReconciliationRun
from tests.helpers import SHOP, balance, order
from tests.plugin.shopify.test_client import GRAPHQL, throttled

ADA = 7001


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount}}


def node(order_id: int, subtotal: str, customer_id: int | None = ADA, status: str = "PAID", refunds=(),
         cancelled_at: str | None = None, more_lines: bool = False) -> dict:
    """An Order as the reconciliation query selects it: one line worth the subtotal."""
    line_id = order_id * 10
    return {
        "id": f"gid://shopify/Order/{order_id}", "legacyResourceId": str(order_id), "name": f"#{order_id % 10000}",
        "email": "ada@example.com", "test": False, "tags": [], "processedAt": "2026-12-01T10:00:00Z",
        "createdAt": "2026-12-01T10:00:00Z", "updatedAt": "2026-12-07T10:00:00Z", "cancelledAt": cancelled_at,
        "displayFinancialStatus": status, "discountCodes": [],
        "customer": None if customer_id is None else {"id": f"gid://shopify/Customer/{customer_id}"},
        "subtotalPriceSet": money(subtotal), "totalPriceSet": money(subtotal),
        "lineItems": {"nodes": [{"id": f"gid://shopify/LineItem/{line_id}", "sku": "TEA", "vendor": "Rosebud",
                                 "quantity": 1, "isGiftCard": False, "product": {"id": "gid://shopify/Product/11"},
                                 "originalUnitPriceSet": money(subtotal), "discountAllocations": []}],
                      "pageInfo": {"hasNextPage": more_lines}},
        "refunds": [{"id": f"gid://shopify/Refund/{refund_id}", "createdAt": "2026-12-02T10:00:00Z",
                     "refundLineItems": {"nodes": [{"quantity": 1, "subtotalSet": money(amount),
                                                    "lineItem": {"id": f"gid://shopify/LineItem/{line_id}",
                                                                 "isGiftCard": False}}],
                                         "pageInfo": {"hasNextPage": False}}}
                    for refund_id, amount in refunds],
    }


def page(*nodes: dict, cursor: str | None = None) -> dict:
    return {"data": {"orders": {"nodes": list(nodes), "pageInfo": {"hasNextPage": cursor is not None,
                                                                   "endCursor": cursor}}},
            "extensions": {"cost": {"requestedQueryCost": 842, "actualQueryCost": 12, "throttleStatus": {
                "maximumAvailable": 2000, "currentlyAvailable": 1988, "restoreRate": 100}}}}


def reconcile(app, *options: str):
    return app.test_cli_runner().invoke(args=["reconcile", "--shop", SHOP, *options])


def orders_queries(platform) -> list[dict]:
    return [json.loads(call.request.body)["variables"] for call in platform.calls if call.request.url == GRAPHQL]


def test_pages_are_followed_through_throttling_and_what_was_missed_is_applied(app, client, platform, send, db):
    send("orders/paid", order(order_id=9001, customer_id=ADA, subtotal="40.00"))
    platform.post(GRAPHQL, json=throttled(available=100, requested=842))
    platform.post(GRAPHQL, json=page(node(9001, "40.00", refunds=[(7001, "15.00")]), cursor="c1"))
    platform.post(GRAPHQL, json=page(node(9002, "25.00"), node(9003, "30.00", cancelled_at="2026-12-03T10:00:00Z"),
                                     node(9004, "99.00", customer_id=None)))
    result = reconcile(app, "--since", "2026-12-06T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert ("4 orders updated since 2026-12-06T00:00:00+00:00; healed 2 missed orders, 1 refunds, "
            "1 cancellations") in result.output
    # 40 - 15 refunded + 25 missed; the cancelled one (30) earned nothing, the guest's nothing.
    assert balance(client) == 40 - 15 + 25
    paid_at = db.scalar(select(OrderRecord.paid_at).where(OrderRecord.order_id == 9002))
    assert paid_at.isoformat() == "2026-12-01T10:00:00+00:00"  # its processedAt: no delivery says otherwise
    first, again, second = orders_queries(platform)
    assert first == again == {"first": 5, "after": None, "sortKey": "UPDATED_AT",
                              "query": "updated_at:>='2026-12-06T00:00:00Z'"}
    assert second["after"] == "c1"


def test_an_outage_is_reported_keeps_the_watermark_and_changes_nothing(app, client, platform, db):
    platform.post(GRAPHQL, json=page(node(9101, "10.00")))
    assert reconcile(app).exit_code == 0
    mark = db.scalar(select(func.max(ReconciliationRun.until)))
    entries = db.scalar(select(func.count()).select_from(LedgerEntry))
    platform.replace("POST", GRAPHQL, status=503)
    result = reconcile(app)
    assert result.exit_code == 1 and "failed: PlatformUnavailable" in result.output
    assert db.scalar(select(func.max(ReconciliationRun.until))) == mark
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == entries == 1
    last = db.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc())).first()
    assert (last.until, last.since) == (None, mark)


def test_an_order_with_more_lines_than_a_page_is_skipped_never_half_awarded(app, client, platform, db):
    platform.post(GRAPHQL, json=page(node(9201, "500.00", more_lines=True), node(9202, "20.00")))
    result = reconcile(app)
    assert result.exit_code == 0 and "1 skipped" in result.output
    assert balance(client) == 20


def test_a_shop_not_installed_is_refused_and_nothing_is_asked(app, platform, db):
    result = app.test_cli_runner().invoke(args=["reconcile", "--shop", "nobody.myshopify.com"])
    assert result.exit_code == 1 and "not an installed shop" in result.output
    bad = app.test_cli_runner().invoke(args=["reconcile", "--shop", "not a domain"])
    assert bad.exit_code == 2
    assert orders_queries(platform) == []
    assert db.scalar(select(func.count()).select_from(ReconciliationRun)) == 0


def test_with_a_product_rule_its_facts_are_looked_up_first_and_a_down_platform_keeps_the_watermark(
        app, client, platform, db):
    from tests.plugin.loyalty.rules.test_product_cache import DOUBLE_TEA, add_rule
    from tests.plugin.loyalty.rules.test_product_cache import node as product_node
    from tests.plugin.loyalty.rules.test_product_cache import nodes

    add_rule(client, DOUBLE_TEA)
    products_up = {"answer": True}

    def answer(request):
        body = json.loads(request.body)
        if "orders(" in body["query"]:
            return 200, {}, json.dumps(page(node(9501, "40.00")))  # one line of product 11, Tea
        return (200, {}, json.dumps(nodes(product_node(11, "Tea")))) if products_up["answer"] else (503, {}, "")

    platform.add_callback("POST", GRAPHQL, callback=answer)
    products_up["answer"] = False
    waiting = reconcile(app)
    assert waiting.exit_code == 0 and "1 waiting for product facts" in waiting.output
    assert balance(client) is None  # never earned at a guessed rate
    assert db.scalar(select(func.max(ReconciliationRun.until))) is None  # read again next time
    products_up["answer"] = True
    healed = reconcile(app)
    assert "healed 1 missed orders" in healed.output
    assert balance(client) == 80  # the tea doubled
