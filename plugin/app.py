"""The Flask app factory: configuration, database, blueprints, JSON errors, CLI."""
import logging
import os
from pathlib import Path

from flask import Flask, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from plugin import db, log_filters, queue
from plugin.config import load_config
from plugin.dev_shop import development_platform_origin
from plugin.shopify.grants import route_admin_calls

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask("plugin", instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(load_config(app.instance_path, config))
    app.json.sort_keys = False  # answers read in the order the code writes them
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    log_filters.install()
    db.init_app(app)
    if app.config["LOYALTY_ENV"] == "development":  # the development shop's calls go to /dev/platform
        route_admin_calls(app, development_platform_origin)
    _register_blueprints(app)
    from plugin.jobs import JOBS, LEGACY

    queue.init_app(app, JOBS, LEGACY)  # the registry of jobs: the queue itself imports none
    app.register_error_handler(HTTPException, _json_error)
    app.register_error_handler(DBAPIError, _database_busy)
    from plugin.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from admin_ui.api_docs import bp as api_docs
    from admin_ui.api_root import bp as api
    from admin_ui.install import bp as install
    from admin_ui.pages import bp as pages
    from plugin.health import bp as health
    from plugin.storefront.birthday_routes import bp as storefront_birthday
    from plugin.storefront.panel_routes import bp as storefront_panel
    from plugin.storefront.referral_routes import bp as storefront_referrals
    from plugin.storefront.routes import bp as storefront
    from webhooks.flow import bp as flow
    from webhooks.intake import bp as webhooks

    for blueprint in (webhooks, flow, api, api_docs, pages, install, storefront, storefront_referrals,
                      storefront_birthday, storefront_panel, health):
        app.register_blueprint(blueprint)
    from admin_ui import dev

    dev.register(app)  # development only (SPEC "Trying it without a store")


def _json_error(error: HTTPException):
    messages = {413: "request body is larger than 1 MiB"}
    return jsonify(error=messages.get(error.code, error.description)), error.code


# Seconds a client should wait before trying again after the database was busy.
BUSY_RETRY_AFTER = 2


def _database_busy(error: DBAPIError):
    """A lock wait that timed out is a 503 to retry, not a 500; the request's work is rolled back."""
    if not db.is_busy(error):
        raise error
    logging.getLogger(__name__).warning("database busy on %s %s: %s", request.method, request.path,
                                        type(error.orig).__name__)
    message = "the database is busy; nothing was changed, try again in a moment"
    if request.path.startswith(("/api", "/webhooks")):
        response = jsonify(error=message, retry_after=BUSY_RETRY_AFTER)
        response.status_code = 503
    else:
        from plugin.html import message_page

        response = message_page("Busy", message.capitalize() + ".", 503)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response
