"""The admin API for the rewards catalog and for redeeming a member's points."""
from flask import Blueprint, g, jsonify

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from admin_ui.presenters import reward_json
from plugin.db import request_session
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.rewards.catalog import (
    RewardInUse,
    create_reward,
    delete_reward,
    find_reward,
    list_rewards,
    reward_uses,
    update_reward,
)
from plugin.loyalty.rewards.redeeming import redeem
from plugin.loyalty.rewards.redemptions import RedemptionRefused, Refusal
from plugin.loyalty.rewards.tier_perks import sync_shop_perks_in_request

bp = Blueprint("rewards_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
# The body fields of the OpenAPI document, checked against the catalog's parsers by tests/admin_ui/test_openapi.py.
REWARD_FIELDS = {"name": "string", "kind": "string", "value": "number", "points_cost": "integer",
                 "min_subtotal": "number", "code_lifetime_days": "integer or null", "combines_with": "object",
                 "active": "boolean", "product_id": "string or integer"}

@bp.get("/rewards")
@documented("The reward catalog")
def catalog():
    return jsonify(rewards=[_json(r) for r in list_rewards(request_session(), g.shop.id)])


@bp.post("/rewards")
@documented("Add a reward", body=REWARD_FIELDS, required=("name", "kind", "points_cost"),
            answers={201: "the reward", 422: "a field is bad or missing"})
@committing
def add_reward():
    try:
        reward = create_reward(request_session(), g.shop.id, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid reward", fields=invalid.fields)
    return jsonify(_json(reward)), 201


@bp.patch("/rewards/<reward_id>")
@documented("Change a reward (only the fields sent)", body=REWARD_FIELDS,
            answers={200: "the reward", 404: "no such reward in this shop", 422: "a field is bad"})
@committing
def change_reward(reward_id: str):
    reward = find_reward(request_session(), g.shop.id, reward_id, lock=True)
    if reward is None:
        return error(404, "no such reward in this shop")
    try:
        update_reward(request_session(), reward, json_body())
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid reward", fields=invalid.fields)
    except RewardInUse as in_use:
        request_session().rollback()
        return error(409, str(in_use))
    request_session().commit()
    sync_shop_perks_in_request(g.shop.id)  # tiers whose perk this reward is follow its change
    return jsonify(_json(reward))


@bp.delete("/rewards/<reward_id>")
@documented("Delete a reward", answers={204: "deleted", 404: "no such reward in this shop"})
@committing
def remove_reward(reward_id: str):
    reward = find_reward(request_session(), g.shop.id, reward_id, lock=True)
    if reward is None:
        return error(404, "no such reward in this shop")
    try:
        delete_reward(request_session(), reward)
    except RewardInUse as in_use:
        request_session().rollback()
        return error(409, str(in_use))
    return "", 204


def _json(reward) -> dict:
    return reward_json(reward, reward_uses(request_session(), g.shop.program, reward))


# A refusal's HTTP answer: what is missing is 404, a reward withdrawn 422, the rest a conflict.
REFUSAL_STATUS = {Refusal.NO_MEMBER: 404, Refusal.NO_REWARD: 404, Refusal.UNAVAILABLE: 422,
                  Refusal.NOT_INSTALLED: 409, Refusal.NEGATIVE_BALANCE: 409, Refusal.INSUFFICIENT: 409}


@bp.post("/members/<customer_id>/redemptions")
@documented("Spend a member's points on a reward: a discount code is made", body={"reward_id": "integer"},
            required=("reward_id",), answers={201: "the redemption and the balance", 404: "no such member in this shop",
                                              409: "refused: not enough points, inactive reward", 422: "no reward_id"})
def add_redemption(customer_id: str):
    body = json_body()
    if not isinstance(body, dict) or "reward_id" not in body:
        return error(422, "invalid redemption", fields={"reward_id": "is required"})
    if parse_id(customer_id) is None:
        return error(404, "no such member in this shop")
    try:
        redeemed = redeem(request_session(), g.shop, parse_id(customer_id), body["reward_id"])
    except RedemptionRefused as refused:
        return error(REFUSAL_STATUS[refused.reason], str(refused))
    return jsonify({**redeemed.redemption, "balance": redeemed.balance}), 201
