"""Referrals: a friend's welcome code through the app proxy, and the referrer paid once for their first order.

Worked examples state every balance. The referrer is Ada (customer 7001, ada@example.com);
friends ask for codes at /proxy/r/<Ada's code> without being logged in, as the platform
forwards a logged-out visitor (an empty `logged_in_customer_id`).
"""
import json
import re

import pytest

from tests.helpers import OTHER_SHOP, SHOP, all_at_once, auth, balance, customer, member, order, proxy_url, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

REFERRAL_POINTS = 50
NEW_CUSTOMERS = "gid://shopify/Segment/55"
SEGMENT_MADE = {"data": {"segmentCreate": {"segment": {"id": NEW_CUSTOMERS}, "userErrors": []}}}


def set_program(client, shop: str = SHOP, **settings):
    response = client.patch("/api/program", json=settings, headers=auth(shop))
    assert response.status_code == 200, response.get_json()


def five_off(client, shop: str = SHOP) -> int:
    return next(r["id"] for r in client.get("/api/rewards", headers=auth(shop)).get_json()["rewards"]
                if r["name"] == "5 off your order")


@pytest.fixture
def ada(client, send, platform):
    """Referrals on (50 points; friends get the "5 off" reward); Ada is a member without orders."""
    set_program(client, referral_points=REFERRAL_POINTS, referral_reward_id=five_off(client))
    send("customers/create", customer(7001, "ada@example.com"))
    platform.post(GRAPHQL, json=SEGMENT_MADE)  # the store's segment of customers without orders, made once
    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/77"))
    return member(client)["referral_code"]


def ask(client, code: str, email: str, shop: str = SHOP):
    return client.post(proxy_url(f"/proxy/r/{code}", shop=shop, customer_id=""), data={"email": email})


def welcome_code(client, code: str, email: str) -> str:
    response = ask(client, code, email)
    assert response.status_code == 201, response.get_data(as_text=True)
    return re.search(r"<code>([A-Z0-9-]+)</code>", response.get_data(as_text=True)).group(1)


def friend_order(customer_id: int, email: str, code: str | None, **fields) -> dict:
    codes = [] if code is None else [{"code": code, "amount": "5.00", "type": "fixed_amount"}]
    return order(customer_id=customer_id, subtotal="60.00", email=email, discount_codes=codes,
                 customer={"id": customer_id, "email": email}, **fields)


def referrals(client, **query) -> dict:
    response = client.get("/api/referrals", query_string=query, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def graphql_calls(platform) -> list[dict]:
    return [json.loads(call.request.body) for call in platform.calls if call.request.url == GRAPHQL]


def test_a_member_has_a_stable_unguessable_referral_code_shown_in_the_api_and_the_page(client, ada):
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", ada)  # 31**10: about 49 random bits
    assert member(client)["referral_code"] == ada  # the same on every read
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert f"value='https://{SHOP}/apps/loyalty/r/{ada}'" in page and "Copy link" in page


def test_a_logged_out_friend_sees_the_page_and_gets_a_single_use_code_open_to_any_buyer(client, ada, platform):
    page = client.get(proxy_url(f"/proxy/r/{ada}", customer_id=""))
    assert page.status_code == 200 and "5 off your order" in page.get_data(as_text=True)
    response = ask(client, ada, "grace@example.com")
    html = response.get_data(as_text=True)
    code = re.search(r"<code>([A-Z0-9-]+)</code>", html).group(1)
    assert response.status_code == 201 and f"href='https://{SHOP}/discount/{code}'" in html
    segment, call = graphql_calls(platform)  # the shop's segment, made once, then the code
    assert segment["variables"] == {"name": "Loyalty: customers without orders (welcome codes)",
                                    "query": "number_of_orders = 0"}
    sent = call["variables"]["discount"]
    # Kept to customers without orders: an existing customer's checkout refuses it.
    assert sent["code"] == code and sent["usageLimit"] == 1
    assert sent["context"] == {"customerSegments": {"add": [NEW_CUSTOMERS]}}
    assert sent["customerGets"]["value"] == {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}}
    [listed] = referrals(client)["referrals"]
    assert listed["status"] == "code_issued" and listed["code"] == code
    assert listed["friend_email"] == "grace@example.com"
    assert listed["referrer_customer_id"] == "7001" and listed["order_id"] is None
    assert listed["referrer_name"] == "Ada Lovelace"  # the panel names the referrer
    welcome_code(client, ada, "lin@example.com")
    assert len(graphql_calls(platform)) == 3  # the segment is not made again


def test_a_completed_referral_pays_the_referrer_once(client, ada, send):
    code = welcome_code(client, ada, "grace@example.com")
    assert balance(client) == 0
    paid = friend_order(8001, "grace@example.com", code, processed_at="2026-11-20T10:00:00Z")
    send("orders/paid", paid)
    assert balance(client) == 50 and balance(client, 8001) == 60  # Ada +50, Grace her order's 60
    send("orders/paid", paid)  # delivered again
    assert balance(client) == 50
    ada_now = member(client)
    [entry] = [e for e in ada_now["ledger"] if e["kind"] == "referral"]
    assert entry["delta"] == 50 and entry["source"] == {"type": "order", "id": str(paid["id"])}
    assert entry["order_id"] is None  # not the friend's order's points: her refunds never touch it
    events = client.get("/api/member-events", query_string={"kind": "referral_completed"}, headers=auth()).get_json()
    assert [e["data"] for e in events["events"]] == [{"friend_order_id": str(paid["id"]), "points": 50}]
    listed = referrals(client)
    assert listed["referrals"][0]["status"] == "completed" and listed["referrals"][0]["order_id"] == str(paid["id"])
    assert listed["totals"] == {"invited": 1, "completed": 1, "points_paid": 50, "revenue": "60"}


def test_the_friends_second_order_pays_nothing_more(client, ada, send):
    code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code))
    assert balance(client) == 50
    send("orders/paid", friend_order(8001, "grace@example.com", None))
    assert balance(client) == 50 and balance(client, 8001) == 120
    send("orders/paid", friend_order(8001, "grace@example.com", code))  # the code again, somehow
    assert balance(client) == 50


def test_a_friend_who_had_already_bought_is_rejected_with_the_reason(client, ada, send, platform):
    code = welcome_code(client, ada, "grace@example.com")
    # She bought first with another address on the same account, then used the code.
    send("orders/paid", friend_order(8001, "grace.h@example.org", None))
    send("orders/paid", friend_order(8001, "grace@example.com", code))
    assert balance(client) == 0
    [rejected] = referrals(client, status="rejected")["referrals"]
    assert rejected["reason"] == "the friend had already placed a paid order in this shop"


@pytest.mark.parametrize("who, email, reason", [
    (7001, "someone@example.com", "the order was placed by the referrer (same customer)"),
    (9001, "  ADA+Second@Example.com ", "the order was placed with the referrer's email"),
])
def test_a_self_referral_is_rejected_and_its_reason_recorded(client, ada, send, who, email, reason):
    code = welcome_code(client, ada, "friend-of-ada@example.com")
    send("orders/paid", friend_order(who, email, code))
    assert balance(client) == (60 if who == 7001 else 0)  # Ada's own order earns its points; no referral
    [rejected] = referrals(client)["referrals"]
    assert rejected["status"] == "rejected" and rejected["reason"] == reason and rejected["points"] == 0
    assert referrals(client)["totals"]["points_paid"] == 0


def test_a_cancelled_friend_order_takes_the_referral_points_back(client, ada, send):
    code = welcome_code(client, ada, "grace@example.com")
    paid = friend_order(8001, "grace@example.com", code)
    send("orders/paid", paid)
    assert balance(client) == 50
    send("orders/cancelled", {"id": paid["id"], "cancelled_at": "2026-11-21T10:00:00Z"})
    assert balance(client) == 0 and balance(client, 8001) == 0
    send("orders/cancelled", {"id": paid["id"], "cancelled_at": "2026-11-21T10:00:00Z"})  # again
    assert balance(client) == 0
    kinds = sorted((e["kind"], e["delta"]) for e in member(client)["ledger"])
    assert kinds == [("referral", 50), ("referral_reversal", -50)]
    totals = referrals(client)["totals"]
    assert totals["points_paid"] == 0 and totals["revenue"] == "0" and totals["completed"] == 1


def test_a_cancellation_that_arrives_before_its_paid_order_leaves_the_same_ledger(client, ada, send):
    code = welcome_code(client, ada, "grace@example.com")
    paid = friend_order(8001, "grace@example.com", code)
    send("orders/cancelled", {"id": paid["id"], "cancelled_at": "2026-11-21T10:00:00Z"})
    assert balance(client) == 0
    send("orders/paid", paid)
    assert balance(client) == 0 and balance(client, 8001) == 0
    kinds = sorted((e["kind"], e["delta"]) for e in member(client)["ledger"])
    assert kinds == [("referral", 50), ("referral_reversal", -50)]
    assert referrals(client)["referrals"][0]["reversed_at"] is not None


def test_a_referral_loop_pays_once(client, ada, send, db):
    code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code))
    assert balance(client) == 50
    grace = member(client, 8001)["referral_code"]
    before = table_counts(db)
    refused = ask(client, grace, "ada@example.com")  # Ada has no paid order: only the loop rule stops this
    assert refused.status_code == 409 and "This friend invited you" in refused.get_data(as_text=True)
    assert table_counts(db) == before and balance(client) == 50 and balance(client, 8001) == 60


def test_a_loop_that_gets_a_code_before_its_first_half_completes_is_rejected_at_the_order(client, ada, send):
    # Ada invites Grace's address, Grace (a member already) invites Ada before anyone orders.
    send("customers/create", customer(8001, "grace@example.com"))
    grace = member(client, 8001)["referral_code"]
    ada_code = welcome_code(client, grace, "ada.lovelace@example.com")  # an address of Ada's we do not know
    grace_code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", grace_code))
    assert balance(client) == 50  # Ada is paid for Grace
    send("orders/paid", friend_order(7001, "ada@example.com", ada_code))
    assert balance(client, 8001) == 60 and balance(client) == 50 + 60  # Grace is not paid for Ada: a loop
    [rejected] = referrals(client, status="rejected")["referrals"]
    assert rejected["referrer_customer_id"] == "8001" and "referral loop" in rejected["reason"]


@pytest.mark.parametrize("case, status, message", [
    ("malformed email", 422, "valid email address"),
    ("referrer's own email", 422, "That is the email of the person who invited you"),
    ("email with a paid order", 409, "already ordered from this store"),
])
def test_a_refused_welcome_code_request_says_why_and_changes_nothing(client, ada, send, db, platform, case, status,
                                                                     message):
    email = {"malformed email": "not-an-email", "referrer's own email": " ADA+friends@example.com",
             "email with a paid order": "hopper@example.com"}[case]
    send("orders/paid", friend_order(8002, "hopper@example.com", None))
    welcome_code(client, ada, "grace@example.com")
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, ada, email)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert "<code>" not in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls


@pytest.mark.parametrize("again", ["grace@example.com", "Grace+Shop@Example.com ", "ｇｒａｃｅ@example.com."])
def test_asking_again_for_the_same_friend_shows_the_same_code_and_makes_none(client, ada, db, platform, again):
    first = welcome_code(client, ada, "grace@example.com")
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, ada, again)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f"<code>{first}</code>" in html
    assert f"href='https://{SHOP}/discount/{first}'" in html
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls
    assert referrals(client)["totals"]["invited"] == 1


def test_another_members_link_for_an_invited_friend_is_refused(client, ada, send, db, platform):
    welcome_code(client, ada, "grace@example.com")
    send("customers/create", customer(8002, "hopper@example.com"))
    hopper = member(client, 8002)["referral_code"]
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, hopper, "Grace@example.com")
    assert response.status_code == 409 and "already been invited" in response.get_data(as_text=True)
    assert "<code>" not in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls


def test_asking_again_after_the_code_was_used_is_refused(client, ada, send, db):
    code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code))
    before = table_counts(db)
    response = ask(client, ada, "grace@example.com")
    assert response.status_code == 409 and "<code>" not in response.get_data(as_text=True)
    assert table_counts(db) == before


def test_gmail_addresses_compare_without_dots(client, ada):
    first = welcome_code(client, ada, "grace.hopper@gmail.com")
    again = ask(client, ada, "GraceHopper+x@googlemail.com")
    assert again.status_code == 200 and f"<code>{first}</code>" in again.get_data(as_text=True)


def test_an_unknown_referral_code_is_a_404_page(client, ada, db):
    before = table_counts(db)
    for response in (client.get(proxy_url("/proxy/r/NOSUCHCODE", customer_id="")),
                     ask(client, "NOSUCHCODE", "grace@example.com"), ask(client, ada, "grace@example.com",
                                                                          shop=OTHER_SHOP)):
        assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"
    assert table_counts(db) == before


def test_the_eleventh_code_of_the_day_is_refused_with_429(client, ada, db, platform):
    for n in range(10):
        welcome_code(client, ada, f"friend{n}@example.com")
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, ada, "friend10@example.com")
    assert response.status_code == 429 and "10 welcome codes for today" in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls
    assert referrals(client)["totals"]["invited"] == 10
    assert ask(client, ada, "friend3@example.com").status_code == 200  # a friend's own code is still shown


def test_refusals_do_not_count_toward_the_daily_limit(client, ada):
    for n in range(12):
        assert ask(client, ada, "ada@example.com").status_code == 422
    for n in range(10):
        welcome_code(client, ada, f"friend{n}@example.com")


def test_a_proxy_request_without_a_valid_signature_is_refused(client, ada, db):
    before = table_counts(db)
    url = proxy_url(f"/proxy/r/{ada}", customer_id="").replace("signature=", "signature=0")
    assert client.post(url, data={"email": "grace@example.com"}).status_code == 401
    assert client.get(f"/proxy/r/{ada}?shop={SHOP}").status_code == 401
    assert table_counts(db) == before


def answers_in_turn(platform, *bodies) -> None:
    """The Admin API answers these, in turn (the last one from then on)."""
    platform.reset()
    platform.add_passthru("http://127.0.0.1")
    for body in bodies:
        platform.post(GRAPHQL, json=body)


def test_a_code_the_platform_will_not_make_leaves_no_referral_and_the_friend_may_ask_again(client, ada, db, platform):
    answers_in_turn(platform, SEGMENT_MADE, {"data": {"discountCodeBasicCreate": {
        "codeDiscountNode": None, "userErrors": [{"field": ["code"], "message": "Bad", "code": "INVALID"}]}}})
    before = table_counts(db)
    response = ask(client, ada, "grace@example.com")
    assert response.status_code == 503 and "<code>" not in response.get_data(as_text=True)
    assert table_counts(db) == before
    platform.replace("POST", GRAPHQL, json=created())
    welcome_code(client, ada, "grace@example.com")


def test_a_code_that_turns_out_to_exist_is_adopted(client, ada, platform):
    # The mutation answers TAKEN (an earlier try reached the platform and its answer was
    # lost); the look-up finds the code, and the friend gets it.
    taken = [{"field": ["code"], "message": "Code must be unique", "code": "TAKEN"}]
    answers_in_turn(platform, SEGMENT_MADE, {"data": {"discountCodeBasicCreate": {"codeDiscountNode": None,
                                                                                "userErrors": taken}}},
                    {"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/9"}}})
    code = welcome_code(client, ada, "grace@example.com")
    assert [c["variables"].get("code") for c in graphql_calls(platform)][-1] == code
    assert referrals(client)["referrals"][0]["status"] == "code_issued"


@pytest.mark.parametrize("settings, field", [
    ({"referral_points": -1}, "referral_points"),
    ({"referral_points": "50"}, "referral_points"),
    ({"birthday_bonus": 1.5}, "birthday_bonus"),
    ({"referral_reward_id": "abc"}, "referral_reward_id"),
    ({"referral_reward_id": 999999}, "referral_reward_id"),
    ({"referral_reward_id": "free shipping"}, "referral_reward_id"),
    ({"referral_reward_id": "inactive"}, "referral_reward_id"),
    ({"referral_reward_id": "other shop's"}, "referral_reward_id"),
])
def test_bad_referral_settings_get_a_422_per_field_and_change_nothing(client, installed, db, settings, field):
    rewards = client.get("/api/rewards", headers=auth()).get_json()["rewards"]
    named = {"free shipping": next(r["id"] for r in rewards if r["kind"] == "free_shipping"),
             "inactive": client.post("/api/rewards", json={"name": "Old", "kind": "amount_off", "value": "1",
                                                           "points_cost": 10, "active": False},
                                     headers=auth()).get_json()["id"],
             "other shop's": five_off(client, OTHER_SHOP)}
    settings = {k: named.get(v, v) if isinstance(v, str) else v for k, v in settings.items()}
    before, program = table_counts(db), client.get("/api/program", headers=auth()).get_json()
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert table_counts(db) == before and client.get("/api/program", headers=auth()).get_json() == program


def test_referrals_list_filters_by_status_and_refuses_a_bad_one(client, installed, ada, send):
    welcome_code(client, ada, "grace@example.com")
    assert referrals(client, status="completed")["referrals"] == []
    assert len(referrals(client, status="code_issued")["referrals"]) == 1
    response = client.get("/api/referrals", query_string={"status": "creating"}, headers=auth())
    assert response.status_code == 422 and "status" in response.get_json()["fields"]
    assert client.get("/api/referrals", headers=auth(OTHER_SHOP)).get_json()["referrals"] == []


def test_concurrent_requests_never_pass_the_daily_limit_nor_invite_a_friend_twice(client, ada, live_server, db):
    import requests

    def post(email: str) -> int:
        url = live_server + proxy_url(f"/proxy/r/{ada}", customer_id="")
        return requests.post(url, data={"email": email}, timeout=30).status_code

    same = all_at_once(4, lambda n: post("grace@example.com"))
    # One code is made; the others find it being made (409) or made (200: the same code).
    assert same.count(201) == 1 and set(same) <= {200, 201, 409}, same
    answers = all_at_once(12, lambda n: post(f"friend{n}@example.com"))
    assert sorted(answers) == [201] * 9 + [429] * 3
    assert referrals(client)["totals"]["invited"] == 10


@pytest.mark.parametrize("known_as", ["customer", "email only"])
def test_a_redacted_friend_leaves_no_email_in_the_referrals(client, ada, send, known_as):
    code = welcome_code(client, ada, "Grace@Example.com")
    if known_as == "customer":
        send("orders/paid", friend_order(8001, "grace@example.com", code))
    send("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "orders_to_redact": [],
                              "customer": {"id": 8001, "email": "grace@example.com", "phone": None}})
    [listed] = referrals(client)["referrals"]
    assert listed["friend_email"] == "(redacted)" and "grace" not in json.dumps(referrals(client)).lower()
    assert listed["status"] == ("completed" if known_as == "customer" else "code_issued")
    assert balance(client) == (50 if known_as == "customer" else 0)  # the referrer keeps what was paid


def test_an_earlier_order_of_the_friend_that_arrives_late_undoes_the_referral(client, ada, send):
    code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code),
         headers={"X-Shopify-Triggered-At": "2026-11-20T12:00:00Z"})
    assert balance(client) == 50
    send("orders/paid", friend_order(8001, "grace@example.com", None),  # paid the day before, delivered late
         headers={"X-Shopify-Triggered-At": "2026-11-19T12:00:00Z"})
    assert balance(client) == 0 and balance(client, 8001) == 120
    [rejected] = referrals(client)["referrals"]
    assert rejected["status"] == "rejected"
    assert rejected["reason"] == "the friend had already placed a paid order in this shop"
    send("orders/paid", friend_order(8001, "grace@example.com", None),
         headers={"X-Shopify-Triggered-At": "2026-11-18T12:00:00Z"})  # and another: nothing more moves
    assert balance(client) == 0
    assert sorted((e["kind"], e["delta"]) for e in member(client)["ledger"]) == [("referral", 50),
                                                                                ("referral_reversal", -50)]


def test_referral_points_are_pending_like_order_points_and_a_tick_releases_them(app, client, ada, send):
    from datetime import timedelta

    from plugin.db import utcnow

    set_program(client, pending_days=14)
    placed = utcnow() + timedelta(days=1)  # the friend's order's own time: the window runs from it
    code = welcome_code(client, ada, "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code, processed_at=placed.isoformat()))
    ada_now = member(client)
    assert (ada_now["balance"], ada_now["pending"]) == (0, 50)
    assert (member(client, 8001)["balance"], member(client, 8001)["pending"]) == (0, 60)
    result = app.test_cli_runner().invoke(args=["tick", "--now", (placed + timedelta(days=14)).isoformat()])
    assert result.exit_code == 0, result.output
    assert (member(client)["balance"], member(client)["pending"]) == (50, 0)
    assert (member(client, 8001)["balance"], member(client, 8001)["pending"]) == (60, 0)
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def test_a_cancellation_while_referral_points_are_pending_takes_them_from_pending(app, client, ada, send):
    from datetime import timedelta

    from plugin.db import utcnow

    set_program(client, pending_days=14)
    code = welcome_code(client, ada, "grace@example.com")
    paid = friend_order(8001, "grace@example.com", code, processed_at=utcnow().isoformat())
    send("orders/paid", paid)
    assert (member(client)["balance"], member(client)["pending"]) == (0, 50)
    send("orders/cancelled", {"id": paid["id"], "cancelled_at": utcnow().isoformat()})
    assert (member(client)["balance"], member(client)["pending"]) == (0, 0)
    app.test_cli_runner().invoke(args=["tick", "--now", (utcnow() + timedelta(days=15)).isoformat()])
    assert (member(client)["balance"], member(client)["pending"]) == (0, 0)
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
