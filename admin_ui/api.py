"""The admin JSON API (`/api/...`): authorise, call one service, shape the answer."""
from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest

from admin_ui.auth import committing
from admin_ui.openapi import documented
from admin_ui.presenters import program_json
from plugin.db import request_session, utcnow
from plugin.ids import JSONTooDeep, load_json, parse_id
from plugin.loyalty.adjustments import NeedsConfirmation, adjust, parse_adjustment, undo_adjustment
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.ledger.bonuses import NotReversible
from plugin.loyalty.ledger.lifecycle import next_expiry
from plugin.loyalty.members import (
    PAGE_SIZE,
    entry_json,
    get_member,
    member_summary,
    parse_search,
    recent_entries,
    search_members,
)
from plugin.loyalty.program_preview import preview_earning
from plugin.loyalty.programs import update_program
from plugin.loyalty.rewards.redemptions import recent_redemptions, redemption_json
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.views import member_tiers

bp = Blueprint("program_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
# The body fields of the OpenAPI document (admin_ui/openapi.py); tests/admin_ui/test_openapi.py
# checks each list against the parsers that read the body, so neither can drift.
PROGRAM_FIELDS = {
    "points_per_currency_unit": "number", "signup_bonus": "integer", "excluded_order_tags": "strings",
    "exclude_gift_cards": "boolean", "award_test_orders": "boolean", "return_points_on_expiry": "boolean",
    "pending_days": "integer", "expiry_policy": "string", "expiry_months": "integer or null",
    "expiry_reminder_days": "integer", "referral_points": "integer", "referral_reward_id": "integer or null",
    "birthday_bonus": "integer", "store_sync_enabled": "boolean", "tier_basis": "string", "tier_window": "string",
}
PREVIEW_FIELDS = {"points_per_currency_unit": "number", "exclude_gift_cards": "boolean", "subtotal": "number",
                  "gift_card_total": "number"}


def error(status: int, message: str, **extra):
    return jsonify(error=message, **extra), status


def json_body():
    """The request's JSON, with numbers kept exact; None if it is not JSON (each route then
    answers 422 saying what it wanted). A body no route could read is a 400 here, for all."""
    try:
        return load_json(request.get_data(cache=True) or b"null")
    except JSONTooDeep as too_deep:
        raise BadRequest(f"request body is refused: {too_deep}") from None
    except UnicodeDecodeError:
        raise BadRequest("request body is refused: it is not UTF-8 text") from None
    except ValueError:
        return None


def find_member(customer_id: str):
    """The shop's member with this customer id; None for another shop's or a malformed id."""
    number = parse_id(customer_id)
    return None if number is None else get_member(request_session(), g.shop.id, number)


@bp.get("/program")
@documented("The loyalty program's settings")
def read_program():
    return jsonify(program_json(g.shop.program))


@bp.patch("/program")
@documented("Change some of the program's settings (only the fields sent)", body=PROGRAM_FIELDS,
            answers={200: "the settings as saved", 422: "a field is bad: `fields` names each"})
@committing
def change_program():
    try:
        program = update_program(request_session(), g.shop.program, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid program settings", fields=invalid.fields)
    return jsonify(program_json(program))


@bp.post("/program/preview")
@documented("What a sample order earns under settings not yet saved; nothing is saved",
            body=PREVIEW_FIELDS, required=tuple(PREVIEW_FIELDS),
            answers={200: "`{points, eligible}`", 422: "a field is bad or missing"})
def preview_program():
    """What a sample order earns under the settings as typed; the program is not saved."""
    try:
        return jsonify(preview_earning(json_body()))
    except InvalidFields as invalid:
        return error(422, "invalid preview", fields=invalid.fields)


@bp.get("/members")
@documented("Members, searched by email, name or customer id, sorted and filtered, 50 a page",
            query={"query": "string", "page": "integer", "tier": "integer", "pending": {"enum": ["1"]},
                   "at_risk": {"enum": ["1"]},
                   "sort": {"enum": ["newest", "balance", "lifetime", "last_activity", "tier"]}},
            answers={200: "`{members, page, per_page, total}`", 422: "a bad page, sort, tier, pending or at_risk"})
def list_members():
    try:
        query, page, sort = parse_search(request.args.get("query", ""), request.args.get("page", "1"),
                                         request.args.get("sort", "newest"))
    except InvalidFields as invalid:
        return error(422, "invalid query", fields=invalid.fields)
    tier = parse_id(request.args.get("tier", ""))
    if request.args.get("tier") and tier is None:
        return error(422, "invalid query", fields={"tier": "must be a tier id from /api/tiers"})
    if request.args.get("pending", "") not in ("", "1"):
        return error(422, "invalid query", fields={"pending": "must be 1 (members with pending points) or left out"})
    if request.args.get("at_risk", "") not in ("", "1"):
        return error(422, "invalid query", fields={"at_risk": "must be 1 (members at risk of churning) or left out"})
    today = utcnow().astimezone(business_zone(g.shop.iana_timezone)).date()
    members, total = search_members(request_session(), g.shop.id, query, page, tier, sort,
                                    with_pending=request.args.get("pending") == "1",
                                    at_risk_on=today if request.args.get("at_risk") == "1" else None)
    tiers = member_tiers(request_session(), g.shop.id, members)
    return jsonify(members=[{**member_summary(m), **tiers[m.id]} for m in members], page=page, per_page=PAGE_SIZE,
                   total=total)


@bp.get("/members/<customer_id>")
@documented("One member: points, tier, next expiry, recent ledger entries and redemptions",
            answers={200: "the member", 404: "no such member in this shop"})
def read_member(customer_id: str):
    member = find_member(customer_id)
    if member is None:
        return error(404, "no such member in this shop")
    entries = recent_entries(request_session(), member)
    redemptions = recent_redemptions(request_session(), member.id)
    return jsonify({**member_fields(member), "ledger": [entry_json(e) for e in entries],
                    "redemptions": [redemption_json(r) for r in redemptions]})


def member_fields(member) -> dict:
    """A member as every `/api/members/<id>` answer shows it: profile and points, tier and
    progress, and the next expiry."""
    session = request_session()
    running = member.paid_until is not None and member.paid_until > utcnow()
    return {**member_summary(member), **member_tiers(session, g.shop.id, [member])[member.id],
            # The tier the member holds at least until `until` (given on the member page, bought or imported).
            "tier_given": {"tier_id": member.paid_tier_id, "until": member.paid_until.isoformat()} if running else None,
            "next_expiry": next_expiry(session, g.shop.program, member, business_zone(g.shop.iana_timezone))}


@bp.post("/members/<customer_id>/adjustments")
@documented("Add or take points by hand, with a reason; a risky one (below zero, over 10,000 points) needs "
            "`confirm: true`", body={"points": "integer", "reason": "string", "confirm": "boolean"},
            required=("points", "reason"), answers={201: "the member with the new entry",
                                                    404: "no such member in this shop",
                                                    422: "bad points or reason, or `risks` to confirm"})
@committing
def adjust_member(customer_id: str):
    member = find_member(customer_id)
    if member is None:
        return error(404, "no such member in this shop")
    try:
        points, reason, confirmed = parse_adjustment(json_body())
        adjust(request_session(), g.shop.id, member.id, points, reason, confirmed)
    except InvalidFields as invalid:
        return error(422, "invalid adjustment", fields=invalid.fields)
    except NeedsConfirmation as unconfirmed:
        request_session().rollback()
        return error(422, "this adjustment must be confirmed", risks=unconfirmed.risks,
                     fields={"confirm": f"{unconfirmed}: send \"confirm\": true to make it anyway"})
    return member_with_ledger(member), 201


@bp.post("/members/<customer_id>/adjustments/<entry_id>/reversal")
@documented("Undo one adjustment with a reversing entry, once",
            answers={201: "the member with the new entry", 404: "no such adjustment of this member",
                     409: "this adjustment was undone already"})
@committing
def undo_member_adjustment(customer_id: str, entry_id: str):
    """Undo one adjustment with a reversing entry, once (409 the second time)."""
    member = find_member(customer_id)
    if member is None or parse_id(entry_id) is None:
        return error(404, "no such adjustment of this member")
    try:
        undo_adjustment(request_session(), g.shop.id, member.id, parse_id(entry_id))
    except NotReversible as refused:
        request_session().rollback()
        return error(404 if refused.missing else 409, str(refused))
    return member_with_ledger(member), 201


def member_with_ledger(member):
    request_session().refresh(member)
    entries = recent_entries(request_session(), member)
    return jsonify({**member_fields(member), "ledger": [entry_json(e) for e in entries]})
