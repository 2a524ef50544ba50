"""`PATCH /api/members/<customer_id>`: the merchant changes a member's birthday (SPEC "Birthdays")
and gives the member a tier by hand (plugin/loyalty/tiers/grants.py)."""
from flask import Blueprint, jsonify

from admin_ui.api import error, find_member, json_body, member_fields
from admin_ui.auth import committing
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields, parse_each
from plugin.loyalty.referrals.birthdays import parse_birthday, set_birthday
from plugin.loyalty.rules.definitions import _moment
from plugin.loyalty.tiers.grants import grant_tier

bp = Blueprint("member_birthday_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


def _birthday(value) -> str | None:
    return None if value is None else parse_birthday(value)


def _tier_id(value) -> int | None:
    number = None if value is None else parse_id(value)
    if value is not None and number is None:
        raise ValueError("must be the id of a tier of this shop, or null to take a given tier back")
    return number


FIELDS = {"birthday": _birthday, "tier_id": _tier_id, "tier_until": _moment}


@bp.patch("/members/<customer_id>")
@documented("Change a member's birthday (null forgets it), or give them at least a tier until a time "
            "(`tier_id`, `tier_until`; null takes a given tier back, the next tier check places them)",
            body={"birthday": "string or null", "tier_id": "integer or null", "tier_until": "date-time or null"},
            answers={200: "the member", 404: "no such member in this shop", 422: "a bad birthday, tier or field"})
@committing
def change_member(customer_id: str):
    member = find_member(customer_id)
    if member is None:
        return error(404, "no such member in this shop")
    try:
        values, errors = parse_each(json_body(), FIELDS, "cannot be changed here", "member fields")
        if not errors and "tier_id" in values:
            grant_tier(request_session(), member, values["tier_id"], values.get("tier_until"), utcnow())
        elif "tier_until" in values:
            errors["tier_until"] = "is only read with a tier_id"
    except InvalidFields as invalid:
        errors, values = invalid.fields, {}
    if errors:
        request_session().rollback()
        return error(422, "invalid member fields", fields=errors)
    if "birthday" in values:
        set_birthday(request_session(), member, values["birthday"], utcnow())
    request_session().refresh(member)
    return jsonify(member_fields(member))
