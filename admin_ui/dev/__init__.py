"""The development store (SPEC "Trying it without a store"): `/dev`, its development platform
(`/dev/platform/<shop>/...`), its storefront proxy (`/apps/loyalty/...`), its theme (`/dev/theme`)
and its cart (`/discount/<code>`, where "Apply to cart" lands).

Registered only when LOYALTY_ENV=development, and each blueprint refuses again (404) if the
app is not in development (guard.py): in production none of these routes exists. This init
only wires; its modules import nothing from it.
"""
from flask import Flask


def register(app: Flask) -> None:
    if app.config["LOYALTY_ENV"] != "development":
        return
    from admin_ui.dev import cart, pages, platform, storefront, theme

    for blueprint in (pages.bp, platform.bp, storefront.bp, theme.bp, cart.bp):
        app.register_blueprint(blueprint)
