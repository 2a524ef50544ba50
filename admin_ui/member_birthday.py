"""`PATCH /api/members/<customer_id>`: the merchant changes a member's birthday (SPEC "Birthdays")."""
from flask import Blueprint, jsonify

from admin_ui.api import error, find_member, json_body, member_fields
from admin_ui.auth import committing
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.loyalty.fields import InvalidFields, parse_each
from plugin.loyalty.referrals.birthdays import parse_birthday, set_birthday

bp = Blueprint("member_birthday_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


def _birthday(value) -> str | None:
    return None if value is None else parse_birthday(value)


@bp.patch("/members/<customer_id>")
@documented("Change a member's birthday (null forgets it)", body={"birthday": "string or null"},
            answers={200: "the member", 404: "no such member in this shop", 422: "a bad birthday or field"})
@committing
def change_member(customer_id: str):
    member = find_member(customer_id)
    if member is None:
        return error(404, "no such member in this shop")
    try:
        values, errors = parse_each(json_body(), {"birthday": _birthday}, "cannot be changed here", "member fields")
    except InvalidFields as invalid:
        errors, values = invalid.fields, {}
    if errors:
        return error(422, "invalid member fields", fields=errors)
    if "birthday" in values:
        set_birthday(request_session(), member, values["birthday"], utcnow())
    return jsonify(member_fields(member))
