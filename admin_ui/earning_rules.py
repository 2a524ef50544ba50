"""The admin API for earning rules (`/api/earning-rules`): authorise, call one service, shape the answer."""
from flask import Blueprint, g, jsonify

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from plugin.db import request_session
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.rules.definitions import create_rule, deactivate_rule, find_rule, list_rules, rule_json, update_rule
from plugin.loyalty.rules.preview import preview_rules

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
