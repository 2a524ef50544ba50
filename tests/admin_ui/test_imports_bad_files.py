"""Every bad file the issue names, sent to `POST /api/imports`: the answer says what is wrong
(row and field), and nothing that holds points changes."""
import io

import pytest

from tests.admin_ui.test_imports_api import act, ada, points_of, upload  # noqa: F401 (ada: a fixture)
from tests.helpers import auth, balance, table_counts

FILE_REFUSALS = {
    "not CSV (a PNG)": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1,
                        "the file is not UTF-8 text: save it as CSV UTF-8"),
    "not CSV (an Excel workbook)": (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml\n", 1,
                                    "the file holds binary data: it is not a CSV text file"),
    "not CSV (JSON)": (b'{"customers": [{"id": 7001, "points": 10}]}\n', 1,
                       "the header has no column points, customer_id or email"),
    "wrong encoding (Latin-1)": ("customer_id,points,tier\n7001,10,Bronze\n7002,5,Argent doré\n".encode("latin-1"), 3,
                                 "the file is not UTF-8 text: save it as CSV UTF-8"),
    "a missing column": (b"customer_id,balance\n7001,10\n", 1, "the header has no column points"),
    "10 MB of one line": (b"customer_id,points\n" + b"7001," + b"9" * (10 * 1024 * 1024), 2,
                          "a line is longer than 64 KB: this is not a points export"),
    "an empty file": (b"", 1, "the file is empty: a header row is needed"),
    "an unclosed quote": (b'customer_id,points\n7001,"10\n', 2, None),
}


@pytest.mark.parametrize("name", list(FILE_REFUSALS))
def test_a_file_that_is_not_a_readable_csv_table_is_refused_and_nothing_is_kept(client, db, ada, name):
    body, row, message = FILE_REFUSALS[name]
    before = table_counts(db)

    response = upload(client, body)

    assert response.status_code == 422, response.get_json()
    problem = response.get_json()["errors"][0]
    assert problem["row"] == row
    if message is not None:
        assert problem["message"] == message
    assert table_counts(db) == before


ROW_ERRORS = {
    "a formula in a cell": ("balances", b"customer_id,email,points\n7001,\"=cmd|' /C calc'!A0\",10\n",
                            [(2, "email")]),
    "a formula in a reason": ("history", b"customer_id,points,created_at,reason\n7001,5,2026-01-01,@SUM(A1)\n",
                              [(2, "reason")]),
    "a formula as points": ("balances", b"customer_id,points\n7001,=1+2\n", [(2, "points")]),
    "negative balances": ("balances", b"customer_id,points\n7001,-50\n7002,10\n", [(2, "points")]),
    "duplicate external_id": ("history", b"customer_id,points,created_at,external_id\n"
                                          b"7001,5,2026-01-01,x-1\n7002,5,2026-01-02,x-1\n", [(3, "external_id")]),
    "one customer twice in balances": ("balances", b"customer_id,points\n7001,5\n7001,6\n", [(3, "customer_id")]),
    "no customer at all": ("balances", b"customer_id,email,points\n,,5\n", [(2, "customer_id")]),
    "not a number": ("balances", b"customer_id,points\n7001,ten\n", [(2, "points")]),
    "a date that is not ISO": ("history", b"customer_id,points,created_at\n7001,5,01/02/2026\n", [(2, "created_at")]),
    "a future date": ("balances", b"customer_id,points,earned_at\n7001,5,2999-01-01\n", [(2, "earned_at")]),
    "a bad birthday": ("balances", b"customer_id,points,birthday\n7001,5,02-30\n", [(2, "birthday")]),
    "a bad customer id": ("balances", b"customer_id,points\nabc,5\n", [(2, "customer_id")]),
    "too many points": ("balances", b"customer_id,points\n7001,99999999999999999999\n", [(2, "points")]),
}


@pytest.mark.parametrize("name", list(ROW_ERRORS))
def test_a_row_that_cannot_be_read_is_listed_and_blocks_the_apply(client, db, ada, name):
    kind, body, expected = ROW_ERRORS[name]
    before = points_of(db)

    found = upload(client, body, kind=kind)

    assert found.status_code == 201, found.get_json()
    assert [(e["row"], e["field"]) for e in found.get_json()["errors"]] == expected
    assert all(e["message"] for e in found.get_json()["errors"])
    refused = act(client, found.get_json()["id"], "apply")
    assert refused.status_code == 422
    assert points_of(db) == before and balance(client) == 40


def test_a_formula_is_refused_with_a_message_that_says_why(client, ada):
    found = upload(client, b"customer_id,email,points\n7001,=HYPERLINK(\"x\"),10\n").get_json()
    assert "formula" in found["errors"][0]["message"]


@pytest.mark.parametrize("fields, bad", [({"kind": "everything"}, "kind"), ({"format": "excel"}, "format")])
def test_an_unknown_kind_or_format_is_refused(client, db, ada, fields, bad):
    before = table_counts(db)
    response = client.post("/api/imports", data={"file": (io.BytesIO(b"customer_id,points\n7001,1\n"), "a.csv"),
                                                 **fields}, headers=auth(), content_type="multipart/form-data")
    assert response.status_code == 422 and bad in response.get_json()["fields"]
    assert table_counts(db) == before


def test_an_upload_without_a_file_is_refused(client, db, ada):
    before = table_counts(db)
    response = client.post("/api/imports", data={"kind": "balances"}, headers=auth(),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.get_json()["fields"]
    assert table_counts(db) == before


def test_a_bom_and_columns_in_any_order_are_read(client, ada):
    found = upload(client, "\ufeffPoints,Customer_ID,notes\n10,7001,ignored\n".encode()).get_json()
    assert found["errors"] == [] and found["points_total"] == 10
