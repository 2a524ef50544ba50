"""`verify-ledger` checks every shop at once: its statements do not grow with the number of shops.

It used to check shop by shop, about six statements per shop; a deployment with thousands of
shops paid thousands of round trips for one audit. Now every shop's figures are checked in a
few grouped statements, and only if those fail (test_overflow_bounds: a shop whose figures
cannot be read) does it fall back to shop by shop. What it reports is the same either way.
"""
from sqlalchemy import event, text

from plugin.db import engine
from tests.helpers import SHOP, order

SHOPS = [SHOP] + [f"verify-{n}.myshopify.com" for n in range(4)]


def verify(app) -> tuple[int, str, int]:
    """(exit code, output, SQL statements) of one `verify-ledger`."""
    count = [0]

    def counted(*_args):
        count[0] += 1

    with app.app_context():
        target = engine()
    event.listen(target, "before_cursor_execute", counted)
    try:
        result = app.test_cli_runner().invoke(args=["verify-ledger"])
    finally:
        event.remove(target, "before_cursor_execute", counted)
    return result.exit_code, result.output, count[0]


def test_verify_ledger_costs_the_same_statements_for_one_shop_as_for_five(app, send):
    send("orders/paid", order(subtotal="10.00"), shop=SHOPS[0])
    one = verify(app)
    for shop in SHOPS[1:]:
        send("orders/paid", order(subtotal="20.00"), shop=shop)
    five = verify(app)
    assert one[0] == five[0] == 0, five[1]
    assert "every balance plus pending points equals the sum of its entries" in five[1]
    assert five[2] == one[2] <= 12  # was about 6 more per shop


def test_verify_ledger_names_each_shop_whose_figures_disagree_and_only_those(app, send, db):
    for shop in SHOPS:
        send("orders/paid", order(subtotal="10.00"), shop=shop)
    for shop in (SHOPS[1], SHOPS[3]):
        db.execute(text("UPDATE members SET balance = balance + 1 WHERE shop_id = "
                        "(SELECT id FROM shops WHERE domain = :d)"), {"d": shop})
    db.execute(text("UPDATE member_tier_totals SET points = points + 5 WHERE grain = 'year' AND shop_id = "
                    "(SELECT id FROM shops WHERE domain = :d)"), {"d": SHOPS[2]})
    code, output, statements = verify(app)
    assert code != 0
    lines = [line for line in output.splitlines() if line.startswith("shop ")]
    assert sorted(line.split()[1] for line in lines) == sorted([SHOPS[1], SHOPS[2], SHOPS[3]])
    assert f"shop {SHOPS[1]} customer 7001: balance 11 + pending 0 but entries sum to 10" in output
    assert f"shop {SHOPS[2]} member " in output and "tier figures for 20" in output
    assert "3 figure(s) disagree with their ledger or orders; 0 shop(s) could not be verified" in output
    assert statements <= 12
