"""The admin API for VIP tiers (`/api/tiers`): authorise, call one service, shape the answer."""
from flask import Blueprint, g, jsonify

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import TYPES, documented
from admin_ui.presenters import tier_json
from plugin.db import request_session
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.rewards.tier_perks import sync_shop_perks_in_request
from plugin.loyalty.tiers.definitions import create_tier, delete_tier, find_tier, list_tiers, update_tier
from plugin.loyalty.tiers.views import preview_tiers

bp = Blueprint("tiers_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
# The body fields of the OpenAPI document, checked against the tiers' parsers by tests/admin_ui/test_openapi.py.
TIER_FIELDS = {"name": "string", "threshold": "number", "multiplier": "number", "perks": "string or null",
               "product_id": "string or integer", "perk_reward_id": "integer or null"}


def _perk_synced(tier):
    """Commit the change, then bring the store's segment and automatic discount to match it
    (plugin/loyalty/tiers/perks.py); the answer shows where the perk stands."""
    session = request_session()
    session.commit()
    sync_shop_perks_in_request(g.shop.id)
    session.refresh(tier)
    return tier


@bp.get("/tiers")
@documented("The VIP tiers, with the program's basis and window")
def tiers():
    basis = g.shop.program.tier_basis
    return jsonify(tiers=[tier_json(t, basis) for t in list_tiers(request_session(), g.shop.id)],
                   tier_basis=basis, tier_window=g.shop.program.tier_window)


@bp.post("/tiers")
@documented("Add a tier", body=TIER_FIELDS, required=("name", "threshold"),
            answers={201: "the tier", 422: "a field is bad or missing"})
@committing
def add_tier():
    try:
        tier = create_tier(request_session(), g.shop.program, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid tier", fields=invalid.fields)
    return jsonify(tier_json(_perk_synced(tier), g.shop.program.tier_basis)), 201


@bp.post("/tiers/preview")
@documented("How many members would land in each tier under the thresholds sent; nothing is saved",
            body={"thresholds": {"type": "array", "items": TYPES["number"]}},
            answers={200: "members per threshold", 422: "bad thresholds"})
def preview():
    """How many of today's members would land in each tier under the thresholds sent (the
    saved ones when the body is empty); nothing is saved."""
    try:
        return jsonify(preview_tiers(request_session(), g.shop.program, json_body()))
    except InvalidFields as invalid:
        return error(422, "invalid preview", fields=invalid.fields)


@bp.patch("/tiers/<tier_id>")
@documented("Change a tier (only the fields sent)", body=TIER_FIELDS,
            answers={200: "the tier", 404: "no such tier in this shop", 422: "a field is bad"})
@committing
def change_tier(tier_id: str):
    tier = find_tier(request_session(), g.shop.id, tier_id)
    if tier is None:
        return error(404, "no such tier in this shop")
    try:
        update_tier(request_session(), g.shop.program, tier, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid tier", fields=invalid.fields)
    return jsonify(tier_json(_perk_synced(tier), g.shop.program.tier_basis))


@bp.delete("/tiers/<tier_id>")
@documented("Delete a tier", answers={200: "the tier", 404: "no such tier in this shop"})
@committing
def remove_tier(tier_id: str):
    """The tier stops earning and being listed; the next tick moves the members who hold it;
    its perk's segment and automatic discount are removed from the store."""
    tier = find_tier(request_session(), g.shop.id, tier_id)
    if tier is None:
        return error(404, "no such tier in this shop")
    delete_tier(request_session(), tier)
    return jsonify(tier_json(_perk_synced(tier), g.shop.program.tier_basis))
