"""Referral guards against farmed welcome codes: per-address, per-domain and per-shop daily
limits (429, nothing written), and codes withdrawn when the friend orders without them.

Ada (7001) and Ben (7002) are members whose links friends use; the app proxy forwards the
shopper's address in X-Forwarded-For (SHOPIFY.md "App proxy").
"""
import json

import pytest
import responses

from plugin.loyalty.referrals import friends
from tests.helpers import SHOP, all_at_once, auth, customer, member, proxy_url, table_counts
from tests.plugin.loyalty.referrals.test_referrals import (
    REFERRAL_POINTS,
    SEGMENT_MADE,
    five_off,
    friend_order,
    referrals,
    set_program,
)
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created


@pytest.fixture
def links(client, send, platform):
    """Referrals on; Ada's and Ben's referral codes."""
    set_program(client, referral_points=REFERRAL_POINTS, referral_reward_id=five_off(client))
    send("customers/create", customer(7001, "ada@example.com"))
    send("customers/create", customer(7002, "ben@example.com", "Ben", "Okafor"))
    platform.post(GRAPHQL, json=SEGMENT_MADE)
    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/77"))
    return member(client, 7001)["referral_code"], member(client, 7002)["referral_code"]


def ask(client, code: str, email: str, address: str | None = None):
    headers = {} if address is None else {"X-Forwarded-For": address}
    return client.post(proxy_url(f"/proxy/r/{code}", customer_id=""), data={"email": email}, headers=headers)


def mutations(platform, name: str) -> list[dict]:
    return [json.loads(call.request.body) for call in platform.calls
            if call.request.url == GRAPHQL and name in json.loads(call.request.body)["query"]]


def test_one_address_gets_three_codes_a_day_across_links_then_429_and_nothing_changes(client, links, db, platform):
    ada, ben = links
    assert ask(client, ada, "f1@example.com", "203.0.113.7").status_code == 201
    assert ask(client, ben, "f2@example.net", "203.0.113.7").status_code == 201
    assert ask(client, ben, "f3@example.org", "203.0.113.7").status_code == 201
    before, calls = table_counts(db), len(platform.calls)
    refused = ask(client, ada, "f4@example.com", "203.0.113.7")
    assert refused.status_code == 429 and "from this device today" in refused.get_data(as_text=True)
    assert table_counts(db) == before and len(platform.calls) == calls
    assert ask(client, ada, "f4@example.com", "198.51.100.9").status_code == 201  # another shopper
    assert ask(client, ada, "f1@example.com", "203.0.113.7").status_code == 200  # her own code, shown again


def test_the_address_is_the_one_the_platform_wrote_not_what_the_browser_claimed(app, client, links, db, monkeypatch):
    ada, _ = links
    for n in range(3):  # the browser claims a new address each time; the platform's entry is last
        assert ask(client, ada, f"f{n}@example.com", f"10.0.0.{n}, 203.0.113.7").status_code == 201
    assert ask(client, ada, "f9@example.com", "10.0.0.99, 203.0.113.7").status_code == 429
    # Behind one proxy of our own, the platform's entry is the one before it.
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    assert ask(client, ada, "f9@example.com", "203.0.113.8, 192.0.2.1").status_code == 201
    addresses = {row[0] for row in db.execute(friends.select(friends.REFERRALS.c.client_address))}
    assert addresses == {"203.0.113.7", "203.0.113.8"}


@pytest.mark.parametrize("header", [None, "", "not-an-address", "unknown, , "])
def test_without_a_usable_address_one_email_domain_gets_twenty_codes_a_day(client, links, send, db, platform,
                                                                            header):
    ada, ben = links
    send("customers/create", customer(7003, "cy@example.com", "Cy", "Twombly"))
    cy = member(client, 7003)["referral_code"]
    for n in range(20):  # both links, past the link's own 10: the domain's limit is the shop's
        assert ask(client, ada if n < 10 else ben, f"friend{n}@example.com", header).status_code == 201
    before, calls = table_counts(db), len(platform.calls)
    refused = ask(client, cy, "Friend.20+x@EXAMPLE.com", header)
    assert refused.status_code == 429 and "for example.com addresses today" in refused.get_data(as_text=True)
    assert table_counts(db) == before and len(platform.calls) == calls
    assert ask(client, cy, "friend20@example.org", header).status_code == 201  # another domain


def test_without_an_address_the_shop_has_a_daily_limit_too(client, links, db, platform, monkeypatch):
    ada, ben = links
    monkeypatch.setattr(friends, "SHOP_LIMIT", 3)
    for n, link in enumerate([ada, ben, ada]):
        assert ask(client, link, f"f{n}@domain{n}.example").status_code == 201
    before = table_counts(db)
    refused = ask(client, ben, "f3@domain3.example")
    assert refused.status_code == 429 and "welcome codes for today" in refused.get_data(as_text=True)
    assert table_counts(db) == before
    known = ask(client, ben, "f3@domain3.example", "203.0.113.7")
    assert known.status_code == 201, known.get_data(as_text=True)  # a shopper's address is known


def test_concurrent_requests_from_one_address_never_pass_its_limit(client, links, live_server, db):
    import requests

    ada, ben = links

    def post(n: int) -> int:
        url = live_server + proxy_url(f"/proxy/r/{ada if n % 2 else ben}", customer_id="")
        return requests.post(url, data={"email": f"racer{n}@example.com"}, headers={"X-Forwarded-For": "203.0.113.50"},
                             timeout=30).status_code

    answers = all_at_once(8, post)
    assert sorted(answers) == [201] * 3 + [429] * 5, answers
    assert referrals(client)["totals"]["invited"] == 3


def test_a_friend_who_orders_without_the_code_is_rejected_and_the_code_withdrawn_once(app, client, links, send,
                                                                                     platform):
    ada, _ = links
    code = _code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "Grace@Example.com", None))  # she bought without it
    [rejected] = referrals(client, status="rejected")["referrals"]
    assert rejected["code"] == code and rejected["reason"].startswith("the friend ordered without the welcome code")
    assert rejected["order_id"] is None and member(client, 7001)["balance"] == 0
    platform.post(GRAPHQL, json={"data": {"discountCodeDeactivate": {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/77"}, "userErrors": []}}})
    with app.app_context():
        from plugin.schedule import run_periodic

        assert run_periodic("welcome-codes") == 1
        assert run_periodic("welcome-codes") == 0  # withdrawn once
    [sent] = mutations(platform, "discountCodeDeactivate")
    assert sent["variables"] == {"id": "gid://shopify/DiscountCodeNode/77"}
    send("orders/paid", friend_order(8001, "grace@example.com", code))  # the code, somehow, after all
    assert member(client, 7001)["balance"] == 0 and referrals(client, status="rejected")["referrals"][0]["code"] == code


def test_a_platform_that_cannot_answer_leaves_the_code_to_withdraw_next_time(app, client, links, send, platform):
    ada, _ = links
    _code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", None))
    platform.replace(responses.POST, GRAPHQL, status=503)
    with app.app_context():
        from plugin.schedule import run_periodic

        assert run_periodic("welcome-codes") == 0
        platform.replace(responses.POST, GRAPHQL, json={"data": {"discountCodeDeactivate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/77"}, "userErrors": []}}})
        assert run_periodic("welcome-codes") == 1


def test_a_redacted_friend_leaves_no_address(client, links, send, db):
    ada, _ = links
    _code(client, ada, "grace@example.com", "203.0.113.7")
    send("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 8001, "email": "grace@example.com"},
                              "orders_to_redact": []})
    assert [row[0] for row in db.execute(friends.select(friends.REFERRALS.c.client_address))] == [None]


def _code(client, link: str, email: str, address: str | None = None) -> str:
    response = ask(client, link, email, address)
    assert response.status_code == 201, response.get_data(as_text=True)
    return next(r["code"] for r in referrals(client)["referrals"] if r["friend_email"] == email)


def patterns(client) -> dict:
    response = client.get("/api/referrals/patterns", headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_patterns_name_many_friends_from_one_address_unused_codes_and_shared_addresses(client, links, send, db):
    ada, ben = links
    assert patterns(client) == {"addresses": [], "unused_codes": [], "shared_marks": []}
    codes = [_code(client, ada, f"f{n}@example.com", "203.0.113.7") for n in range(3)]
    grace, lin = _code(client, ben, "grace@example.com"), _code(client, ben, "lin@example.com")
    home = {"address1": "1 Elm St", "zip": "10001", "country_code": "US"}
    send("orders/paid", friend_order(8001, "grace@example.com", grace, shipping_address=home))
    send("orders/paid", friend_order(8002, "lin@example.com", lin,
                                     shipping_address={**home, "address1": " 1  ELM st "}))  # written differently
    found = patterns(client)
    [address] = found["addresses"]
    assert (address["address"], address["friends"], address["referrers"], address["used"]) == (
        "203.0.113.7", 3, ["Ada Lovelace"], 0)
    [shared] = found["shared_marks"]
    assert (shared["kind"], shared["friends"], shared["referrers"]) == ("shipping address", 2, ["Ben Okafor"])
    assert found["unused_codes"] == []  # not two weeks old yet
    db.execute(friends.update(friends.REFERRALS).where(friends.REFERRALS.c.code.in_(codes)).values(
        created_at=friends.utcnow() - friends.timedelta(days=15)))
    db.commit()
    [unused] = patterns(client)["unused_codes"]
    assert (unused["referrer_name"], unused["unused"], sorted(unused["referral_ids"])) == (
        "Ada Lovelace", 3, sorted(address["referral_ids"]))
    stored = db.execute(friends.select(friends.REFERRALS.c.friend_marks).where(
        friends.REFERRALS.c.code == grace)).scalar_one()
    assert stored and all(len(mark.partition(":")[2]) == 16 and "Elm" not in mark for mark in stored)  # digests only
