"""`GET /api/at-risk` (the win-back list, JSON and streamed CSV) and the Members `at_risk` filter.

Orders are sent with `processed_at` counted back from today (the shop's zone is UTC here):
- Ada (7001): orders 100, 80 and 60 days ago: usual gap 20, 60 days quiet: at risk (3 gaps is the edge).
- Grace (7002): orders 200 and 190 days ago: gap 10, floored at 14; 190 days quiet: lapsed.
- Linus (7003): one order 10 days ago: active (a single order counts a gap of 30).
- Mary (7004): one order 50 days ago: at risk, but she spent her points: not on the win-back list.
"""
import csv
import io
from datetime import timedelta

import pytest

from plugin.db import utcnow
from tests.helpers import OTHER_SHOP, auth, customer, order, table_counts

ADA, GRACE, LINUS, MARY = 7001, 7002, 7003, 7004


def days_ago(days: int) -> str:
    return f"{(utcnow().date() - timedelta(days=days)).isoformat()}T10:00:00Z"


@pytest.fixture
def shop(client, send, installed):
    people = {ADA: ("ada@example.com", "Ada", "Lovelace", (100, 80, 60), "40.00"),
              GRACE: ("grace@example.com", "Grace", "Hopper", (200, 190), "50.00"),
              LINUS: ("linus@example.com", "Linus", "Torvalds", (10,), "40.00"),
              MARY: ("mary@example.com", "=Mary", "Jackson", (50,), "40.00")}
    for customer_id, (email, first, last, ago, subtotal) in people.items():
        send("customers/create", customer(customer_id, email, first, last))
        for days in ago:
            send("orders/paid", order(customer_id=customer_id, subtotal=subtotal, email=email,
                                      processed_at=days_ago(days)))
    spent = client.post(f"/api/members/{MARY}/adjustments", json={"points": -40, "reason": "spent in store"},
                        headers=auth())
    assert spent.status_code == 201, spent.get_json()


def at_risk(client, shop_domain=None, **query):
    response = client.get("/api/at-risk", query_string=query, headers=auth(shop_domain) if shop_domain else auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_win_back_list_holds_members_at_risk_or_lapsed_with_points_biggest_balance_first(client, shop):
    answer = at_risk(client)
    assert answer["total"] == 2 and answer["page"] == 1 and answer["per_page"] == 50
    assert answer["today"] == utcnow().date().isoformat()
    assert answer["members"] == [
        {"customer_id": str(ADA), "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
         "balance": 120, "last_order_on": days_ago(60)[:10], "days_since_last_order": 60, "usual_gap_days": 20,
         "status": "at_risk"},
        {"customer_id": str(GRACE), "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
         "balance": 100, "last_order_on": days_ago(190)[:10], "days_since_last_order": 190, "usual_gap_days": 14,
         "status": "lapsed"},
    ]


@pytest.mark.parametrize("query, customers", [
    ({"status": "at_risk"}, [ADA]),
    ({"status": "lapsed"}, [GRACE]),
    ({"sort": "balance", "direction": "asc"}, [GRACE, ADA]),
    ({"sort": "days_since"}, [GRACE, ADA]),
    ({"sort": "days_since", "direction": "asc"}, [ADA, GRACE]),
    ({"sort": "usual_gap"}, [ADA, GRACE]),
    ({"sort": "name", "direction": "asc"}, [ADA, GRACE]),
    ({"sort": "name", "direction": "desc"}, [GRACE, ADA]),
    ({"page": "2"}, []),
])
def test_the_list_is_filtered_by_status_and_sorted_by_any_column(client, shop, query, customers):
    assert [int(m["customer_id"]) for m in at_risk(client, **query)["members"]] == customers


def test_the_csv_is_the_whole_list_streamed_in_the_chosen_order(client, shop):
    response = client.get("/api/at-risk", query_string={"format": "csv", "sort": "days_since"}, headers=auth())
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="at-risk-{utcnow().date()}.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["customer_id", "first_name", "last_name", "email", "balance", "last_order_on", "days_since_last_order",
         "usual_gap_days", "status"],
        [str(GRACE), "Grace", "Hopper", "grace@example.com", "100", days_ago(190)[:10], "190", "14", "lapsed"],
        [str(ADA), "Ada", "Lovelace", "ada@example.com", "120", days_ago(60)[:10], "60", "20", "at_risk"],
    ]


def test_a_name_a_spreadsheet_would_run_is_written_as_text(client, shop, send):
    send("orders/paid", order(customer_id=MARY, subtotal="10.00", email="mary@example.com",
                              processed_at=days_ago(49)))  # 10 points to spend; two close orders: lapsed
    body = client.get("/api/at-risk", query_string={"format": "csv"}, headers=auth()).get_data(as_text=True)
    assert f"{MARY},'=Mary,Jackson,mary@example.com,10," in body


def test_the_members_page_filters_members_at_risk_whatever_their_balance(client, shop):
    answer = client.get("/api/members", query_string={"at_risk": "1", "sort": "balance"}, headers=auth()).get_json()
    assert [m["customer_id"] for m in answer["members"]] == [str(ADA), str(MARY)] and answer["total"] == 2
    searched = client.get("/api/members", query_string={"at_risk": "1", "query": "mary"}, headers=auth()).get_json()
    assert [m["customer_id"] for m in searched["members"]] == [str(MARY)]
    everyone = client.get("/api/members", headers=auth()).get_json()
    assert everyone["total"] == 4


def test_another_shop_sees_none_of_these_members(client, shop):
    assert at_risk(client, OTHER_SHOP) == {**at_risk(client, OTHER_SHOP), "members": [], "total": 0}
    other = client.get("/api/members", query_string={"at_risk": "1"}, headers=auth(OTHER_SHOP)).get_json()
    assert other["total"] == 0


@pytest.mark.parametrize("path, query, field", [
    ("/api/at-risk", {"status": "active"}, "status"),
    ("/api/at-risk", {"sort": "email"}, "sort"),
    ("/api/at-risk", {"direction": "up"}, "direction"),
    ("/api/at-risk", {"page": "0"}, "page"),
    ("/api/at-risk", {"page": "100001"}, "page"),
    ("/api/at-risk", {"page": "two"}, "page"),
    ("/api/at-risk", {"format": "xlsx"}, "format"),
    ("/api/members", {"at_risk": "yes"}, "at_risk"),
    ("/api/members", {"at_risk": "0"}, "at_risk"),
])
def test_a_bad_query_is_refused_naming_the_field_and_changes_nothing(client, shop, db, path, query, field):
    before = table_counts(db)
    response = client.get(path, query_string=query, headers=auth())
    assert response.status_code == 422 and response.get_json()["error"] == "invalid query"
    assert field in response.get_json()["fields"]
    assert table_counts(db) == before


def test_the_list_needs_a_session_token_or_an_api_key(client, shop):
    assert client.get("/api/at-risk").status_code == 401
    assert client.get("/api/at-risk", query_string={"format": "csv"}).status_code == 401
