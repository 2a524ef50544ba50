"""The admin API for earning rules (`/api/earning-rules`): authorise, call one service, shape the answer."""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from admin_ui.presenters import rule_json
from plugin.db import request_session
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.rules.collection_names import collection_titles, collections_for_editor
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
    found = list_rules(request_session(), g.shop.id)
    titles = collection_titles(request_session(), g.shop.id, {_collection_id(rule) for rule in found} - {None})
    return jsonify(earning_rules=[rule_json(rule, titles.get(_collection_id(rule))) for rule in found])


def _collection_id(rule) -> int | None:
    """The collection a rule matches, so the panel can name it by title."""
    value = rule.match_value or ""
    return int(value) if rule.match_field == "collection_id" and value.isdigit() else None


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
@documented("The values the shop's products have for a product type, vendor, tag or collection, containing `q`; "
            "collections by title, with `labels` (id to title) and `refreshing` while the store's list is read",
            query={"field": "string", "q": "string"}, answers={200: "`{field, values}`", 422: "a bad field or q"})
def match_values():
    """What the rule editor offers for a product type, vendor, tag or collection: the values the
    shop's products have, containing `q` (`GET /api/earning-rules/values?field=vendor&q=ru`)."""
    field, typed = request.args.get("field", ""), request.args.get("q", "")
    errors = {}
    if field not in PICKABLE and field != "collection_id":
        errors["field"] = "must be one of " + ", ".join([*PICKABLE, "collection_id"])
    if len(typed) > 255 or "\x00" in typed:
        errors["q"] = "must be text of up to 255 characters, without NUL characters"
    if errors:
        return error(422, "invalid query", fields=errors)
    if field == "collection_id":
        found, refreshing = collections_for_editor(g.shop.id, typed)
        return jsonify(field=field, values=[str(cid) for cid, _ in found],
                       labels={str(cid): title for cid, title in found}, refreshing=refreshing)
    return jsonify(field=field, values=known_values(request_session(), g.shop.id, field, typed))
