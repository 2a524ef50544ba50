"""`GET /api/reconciliations`: what reconciliation read and healed, for the token's shop only."""
from tests.helpers import OTHER_SHOP, SHOP, auth
from tests.plugin.shopify.test_client import GRAPHQL
from tests.webhooks.test_reconcile import node, page


def test_the_panel_lists_this_shops_runs_with_what_they_healed(app, client, platform):
    platform.post(GRAPHQL, json=page(node(9301, "20.00"), node(9302, "5.00", customer_id=None)))
    assert app.test_cli_runner().invoke(args=["reconcile", "--shop", SHOP]).exit_code == 0
    [run] = client.get("/api/reconciliations", headers=auth()).get_json()["runs"]
    assert {key: run[key] for key in ("orders_read", "missed_orders", "refunds", "cancellations", "left", "error")} \
        == {"orders_read": 2, "missed_orders": 1, "refunds": 0, "cancellations": 0, "left": 0, "error": None}


def test_another_shop_sees_none_of_them_and_a_missing_token_is_refused(app, client, platform, installed):
    platform.post(GRAPHQL, json=page(node(9401, "20.00")))
    assert app.test_cli_runner().invoke(args=["reconcile", "--shop", SHOP]).exit_code == 0
    assert client.get("/api/reconciliations", headers=auth(OTHER_SHOP)).get_json() == {"runs": []}
    assert client.get("/api/reconciliations").status_code == 401
