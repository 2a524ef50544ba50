"""The development store's second lock: every one of its blueprints answers 404 outside development.

A module of its own so the blueprints' modules (pages.py, platform.py, storefront.py) need
nothing from the package that registers them, and no import goes back up.
"""
from flask import abort

from plugin.dev_shop import is_development


def only_in_development():
    """Each blueprint's first `before_request`: a second lock behind `register`."""
    if not is_development():
        abort(404)
