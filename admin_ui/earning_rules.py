"""The admin API for earning rules (`/api/earning-rules`): authorise, call one service, shape the answer."""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from admin_ui.presenters import rule_json
from plugin.db import request_session
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.rules.definitions import (
    DuplicateRule,
    create_rule,
    deactivate_rule,
    find_rule,
    list_rules,
    update_rule,
)
from plugin.loyalty.rules.preview import preview_rules
from plugin.loyalty.rules.product_cache import PICKABLE, known_values

bp = Blueprint("earning_rules_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
# The body fields of the OpenAPI document, checked against the rules' parsers by tests/admin_ui/test_openapi.py.
RULE_FIELDS = {"name": "string", "kind": "string", "match": "object", "multiplier": "number", "points": "integer",
               "per": "string", "min_subtotal": "number", "starts_at": "date-time or null",
               "ends_at": "date-time or null", "active": "boolean"}
RULE_PREVIEW_FIELDS = {"lines": {"type": "array", "items": {"type": "object"}}, "rule": "object",
                       "rule_id": "integer", "at": "date-time or null"}


@bp.get("/earning-rules")
@documented("The earning rules (multipliers and bonuses)")
def rules():
    return jsonify(earning_rules=[rule_json(rule) for rule in list_rules(request_session(), g.shop.id)])


@bp.post("/earning-rules")
@documented("Add an earning rule", body=RULE_FIELDS, required=("name", "kind", "match"),
            answers={201: "the rule", 422: "a field is bad or missing"})
@committing
def add_rule():
    try:
        rule = create_rule(request_session(), g.shop.id, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid earning rule", fields=invalid.fields)
    except DuplicateRule as duplicate:
        request_session().rollback()
        return error(409, str(duplicate), rule_id=duplicate.rule_id)
    return jsonify(rule_json(rule)), 201


@bp.post("/earning-rules/preview")
@documented("What a sample order earns under the active rules and an unsaved one; nothing is saved",
            body=RULE_PREVIEW_FIELDS, required=("lines",),
            answers={200: "`{points, breakdown}`", 422: "a field is bad or missing"})
def preview():
    """What a sample order earns under the active rules and an unsaved one; nothing is saved."""
    try:
        return jsonify(preview_rules(request_session(), g.shop.program, json_body()))
    except InvalidFields as invalid:
        return error(422, "invalid preview", fields=invalid.fields)


@bp.patch("/earning-rules/<rule_id>")
@documented("Change an earning rule (only the fields sent)", body=RULE_FIELDS,
            answers={200: "the rule", 404: "no such earning rule in this shop", 422: "a field is bad"})
@committing
def change_rule(rule_id: str):
    rule = find_rule(request_session(), g.shop.id, rule_id)
    if rule is None:
        return error(404, "no such earning rule in this shop")
    try:
        update_rule(request_session(), rule, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid earning rule", fields=invalid.fields)
    except DuplicateRule as duplicate:
        request_session().rollback()
        return error(409, str(duplicate), rule_id=duplicate.rule_id)
    return jsonify(rule_json(rule))


@bp.delete("/earning-rules/<rule_id>")
@documented("Deactivate an earning rule", answers={200: "the rule, inactive", 404: "no such earning rule in this shop"})
@committing
def remove_rule(rule_id: str):
    rule = find_rule(request_session(), g.shop.id, rule_id)
    if rule is None:
        return error(404, "no such earning rule in this shop")
    deactivate_rule(request_session(), rule)
    return jsonify(rule_json(rule))


@bp.get("/earning-rules/values")
@documented("The values the shop's cached products have for a product type, vendor or tag, containing `q`",
            query={"field": "string", "q": "string"}, answers={200: "`{field, values}`", 422: "a bad field or q"})
def match_values():
    """What the rule editor offers for a product type, vendor or tag: the values the shop's
    cached products have, containing `q` (`GET /api/earning-rules/values?field=vendor&q=ru`)."""
    field, typed = request.args.get("field", ""), request.args.get("q", "")
    errors = {}
    if field not in PICKABLE:
        errors["field"] = "must be one of " + ", ".join(PICKABLE)
    if len(typed) > 255 or "\x00" in typed:
        errors["q"] = "must be text of up to 255 characters, without NUL characters"
    if errors:
        return error(422, "invalid query", fields=errors)
    return jsonify(field=field, values=known_values(request_session(), g.shop.id, field, typed))
