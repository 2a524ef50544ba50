"""The development shop: the one shop `/dev` plays, and where its Admin API calls go.

SPEC "Trying it without a store": in development, the shop named by LOYALTY_DEV_SHOP talks
to a development platform inside this app (`/dev/platform/<shop>/...`, admin_ui/dev)
instead of the real one. This module is the only place that decides it, so no other shop's
token, and no call made in production, can ever reach that fake: in development the app
factory hands `development_platform_origin` to the platform layer (`route_admin_calls`,
plugin/shopify/grants.py), whose `admin_origin` asks it first and gets None for every other
case; in production it is not handed over at all.
"""
from flask import current_app


def is_development() -> bool:
    return current_app.config["LOYALTY_ENV"] == "development"


def dev_shop_domain() -> str:
    return current_app.config["LOYALTY_DEV_SHOP"]


def is_dev_shop(shop: str | None) -> bool:
    """True only in development and only for exactly LOYALTY_DEV_SHOP."""
    return is_development() and bool(shop) and shop == dev_shop_domain()


def development_platform_origin(shop: str) -> str | None:
    """The development platform's address for the development shop in development; else None."""
    if not is_dev_shop(shop):
        return None
    return f"{current_app.config['SHOPIFY_APP_URL'].rstrip('/')}/dev/platform/{shop}"
