from tests.helpers import balance, order, refund, signed_webhook


def test_order_then_refund(client, settle):
    paid = order(subtotal="40.00")
    assert signed_webhook(client, "orders/paid", paid).status_code == 200
    settle()
    assert balance(client) == 40
    assert signed_webhook(client, "refunds/create", refund(paid["id"], "10.00")).status_code == 200
    settle()
    assert balance(client) == 30
