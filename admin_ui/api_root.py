"""The one `/api` blueprint: every child route is authenticated here, once.

Each admin API module registers its routes on a child blueprint without a guard of its
own; a route added anywhere under `/api` is behind the session-token check by
construction (tests/admin_ui/test_api_guard.py asks every route in the URL map). A
merchant's API key is taken here too, for every route but the ones managing keys
(admin_ui/auth.py), and each successful write it makes is put on the keys' trail.
"""
from flask import Blueprint

from admin_ui import (
    api,
    api_keys,
    at_risk_api,
    earning_rules,
    event_subscriptions,
    imports,
    liability_api,
    member_birthday,
    member_events,
    operations_api,
    performance_api,
    privacy,
    referrals,
    rewards,
    stats_api,
    tiers,
)
from admin_ui.auth import authenticate_shop, note_key_use

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(authenticate_shop)
bp.after_request(note_key_use)
for child in (api.bp, rewards.bp, earning_rules.bp, stats_api.bp, operations_api.bp, privacy.bp, member_events.bp,
              referrals.bp, member_birthday.bp, event_subscriptions.bp, tiers.bp, liability_api.bp, imports.bp,
              api_keys.bp, performance_api.bp, at_risk_api.bp):
    bp.register_blueprint(child)
