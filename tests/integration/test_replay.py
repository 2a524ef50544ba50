"""Recorded webhook sequences replayed end to end, each ending in a checked ledger state."""

import pytest

from tests.helpers import RECORDINGS, SHOP, auth, balance, member

ADA, GRACE, ALAN, EDSGER, BARBARA, KATHERINE = (115310627314723954 + n for n in range(6))


def replay(app, name: str, *extra: str):
    result = app.test_cli_runner().invoke(args=["replay", str(RECORDINGS / name), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def deltas(client, customer_id: int) -> list[tuple[str, int]]:
    return sorted((e["kind"], e["delta"]) for e in member(client, customer_id)["ledger"])


def test_normal_order_earns_its_subtotal_less_the_gift_card(app, client, settle):
    output = replay(app, "normal_order.jsonl")
    settle()
    assert "sent 2 webhooks: 2 × 200" in output
    ada = member(client, ADA)
    # 109.50 subtotal - 25.00 gift card = 84.50 -> 84 points; the signup bonus defaults to 0.
    assert (ada["balance"], ada["lifetime_earned"], ada["email"]) == (84, 84, "ada@example.com")
    assert [(e["kind"], e["reason"], e["source"]) for e in ada["ledger"]] == [
        ("order_award", "Order #1001 paid", {"type": "order", "id": "820982911946154508"})]


def test_duplicate_delivery_earns_once(app, client, settle):
    replay(app, "duplicate_delivery.jsonl")
    settle()
    assert deltas(client, GRACE) == [("order_award", 30)]


def test_partial_refund_takes_back_the_returned_item(app, client, settle):
    replay(app, "partial_refund.jsonl")
    settle()
    assert balance(client, ALAN) == 40
    assert deltas(client, ALAN) == [("order_award", 60), ("refund_reversal", -20)]


def test_cancellation_after_a_refund_takes_only_what_is_left(app, client, settle):
    replay(app, "cancel_after_refund.jsonl")
    settle()
    assert balance(client, EDSGER) == 0
    assert deltas(client, EDSGER) == [("cancel_reversal", -5), ("order_award", 80), ("refund_reversal", -75)]


def test_refund_arriving_before_its_order_still_takes_its_points(app, client, settle):
    replay(app, "refund_before_order.jsonl")
    settle()
    assert balance(client, BARBARA) == 25
    assert deltas(client, BARBARA) == [("order_award", 50), ("refund_reversal", -25)]


def test_many_orders_of_one_customer_at_once_add_up_exactly(app, client, settle, live_server):
    output = replay(app, "many_orders_at_once.jsonl", "--url", live_server, "--concurrency", "16")
    settle()
    assert "sent 50 webhooks: 50 × 200" in output
    katherine = member(client, KATHERINE)
    assert (katherine["balance"], katherine["lifetime_earned"]) == (1725, 1725)
    assert len(katherine["ledger"]) == 50


def test_replaying_everything_twice_changes_nothing_the_second_time(app, client, settle):
    replay(app, ".")
    settle()
    first = {c: balance(client, c) for c in (ADA, GRACE, ALAN, EDSGER, BARBARA, KATHERINE)}
    output = replay(app, ".")
    settle()
    assert {c: balance(client, c) for c in first} == first == {
        ADA: 84, GRACE: 30, ALAN: 40, EDSGER: 0, BARBARA: 25, KATHERINE: 1725}
    assert "× 200" in output
    verify = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert verify.exit_code == 0 and "every balance plus pending points equals" in verify.output


def test_replay_with_the_wrong_secret_is_refused_and_reported(app, client, installed, settle):
    result = app.test_cli_runner().invoke(args=["replay", str(RECORDINGS / "normal_order.jsonl"),
                                                "--secret", "not-the-app-secret"])
    settle()
    assert result.exit_code == 1
    assert "2 × 401" in result.output
    assert client.get("/api/members", headers=auth(SHOP)).get_json()["total"] == 0


@pytest.mark.parametrize("bad, says", [('{"topic": "orders/paid"}', "lacks shop, webhook_id, payload"),
                                       ("not json", "Expecting value")])
def test_replay_of_a_broken_recording_file_says_what_is_wrong(app, tmp_path, bad, says):
    path = tmp_path / "broken.json"
    path.write_text(bad)
    result = app.test_cli_runner().invoke(args=["replay", str(path)])
    assert result.exit_code == 1
    assert "cannot read the recordings" in result.output and says in result.output
