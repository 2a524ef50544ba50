"""Issue 21's worked example: aliases of the referrer's email no longer farm referrals.

John's address is `John.Doe+shop@gmail.com`. Before the one normaliser, a trailing dot, the
full-width form and a quoted local part each passed as a new friend, and orders from second
accounts with those emails completed three referrals (+150 points here). Now each is John,
at the app proxy's form and at the paid order; and an address past RFC 5321's 254
characters is refused at the form.
"""
import pytest

from tests.helpers import balance, customer, member, table_counts
from tests.plugin.loyalty.referrals.test_referrals import (
    GRAPHQL,
    ask,
    created,
    five_off,
    friend_order,
    graphql_calls,
    referrals,
    set_program,
    welcome_code,
)

JOHN = "John.Doe+shop@gmail.com"
ALIASES = ["johndoe@gmail.com.", "ｊｏｈｎｄｏｅ@gmail.com", '"johndoe"@gmail.com', "J.O.H.N.Doe@googlemail.com"]


@pytest.fixture
def john(client, send, platform):
    """Referrals on (50 points; friends get "5 off"); John is customer 7001, without orders."""
    set_program(client, referral_points=50, referral_reward_id=five_off(client))
    send("customers/create", customer(7001, JOHN))
    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/77"))
    return member(client)["referral_code"]


@pytest.mark.parametrize("alias", ALIASES)
def test_an_alias_of_the_referrers_email_gets_no_welcome_code(client, john, db, platform, alias):
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, john, alias)
    assert response.status_code == 422
    assert "That is the email of the person who invited you" in response.get_data(as_text=True)
    assert "<code>" not in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls


def test_second_accounts_with_the_aliases_complete_no_referral(client, john, send):
    for number, alias in enumerate(ALIASES):
        code = welcome_code(client, john, f"friend{number}@example.com")  # a stranger's address
        send("orders/paid", friend_order(9001 + number, alias, code))
    assert balance(client) == 0
    listed = referrals(client)
    assert {r["status"] for r in listed["referrals"]} == {"rejected"}
    assert {r["reason"] for r in listed["referrals"]} == {"the order was placed with the referrer's email"}
    assert listed["totals"]["points_paid"] == 0


def test_an_alias_of_a_customer_who_ordered_is_that_customer(client, john, send, db):
    send("orders/paid", friend_order(8001, '"Grace.Hopper"@GMAIL.com.', None))
    before = table_counts(db)
    response = ask(client, john, "ｇｒａｃｅｈｏｐｐｅｒ+new@googlemail.com")
    assert response.status_code == 409 and "already ordered from this store" in response.get_data(as_text=True)
    assert table_counts(db) == before


def test_the_same_friend_in_another_form_gets_the_same_code(client, john, db, platform):
    first = welcome_code(client, john, "anna@bücher.de")
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, john, "Anna+2@XN--BCHER-KVA.DE.")
    assert response.status_code == 200 and f"<code>{first}</code>" in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls


@pytest.mark.parametrize("length", [255, 300, 1000])
def test_an_email_longer_than_254_characters_is_refused_naming_the_field(client, john, db, platform, length):
    email = "a" * (length - len("@example.com")) + "@example.com"
    before, calls = table_counts(db), len(graphql_calls(platform))
    response = ask(client, john, email)
    assert response.status_code == 422
    assert "valid email address (up to 254 characters)" in response.get_data(as_text=True)
    assert table_counts(db) == before and len(graphql_calls(platform)) == calls


def test_an_email_of_254_characters_is_accepted(client, john):
    welcome_code(client, john, "a" * (254 - len("@example.com")) + "@example.com")
