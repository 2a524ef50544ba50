"""The app as `make run` serves it in development, for the development-store tests.

The development shop's Admin API calls go over HTTP to this app's own `/dev/platform`
(SHOPIFY_APP_URL), so the app must sit on a real socket whose address it knows before it
is made: the server is bound first, then the app is created with that URL. Jobs run
in-process, as under `make run`.
"""
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

from plugin import create_app
from tests.conftest import app_config

DEV_SHOP = "dev-store.myshopify.com"


@dataclass
class DevStore:
    app: Flask
    url: str

    def client(self):
        return self.app.test_client()


@pytest.fixture(name="dev_store")
def dev_store_fixture(database):
    holder: dict = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app({**app_config(database, None), "LOYALTY_ENV": "development",
                                "LOYALTY_DEV_SHOP": DEV_SHOP, "SHOPIFY_APP_URL": url})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield DevStore(holder["app"], url)
    server.shutdown()
    thread.join(timeout=10)
