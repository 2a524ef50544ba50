"""Every `/api` route needs a session token: asked of the app's own URL map, so a route
added later cannot be left open. The exceptions are listed: the API's own description."""
import tempfile

import pytest

from plugin import create_app
from tests.conftest import app_config

# Open on purpose: the OpenAPI document and its page describe the API, never a shop's data.
OPEN_ROUTES = {"/api/openapi.json", "/api/docs"}
SAMPLE_VALUES = {"customer_id": "7001", "reward_id": "1", "event_id": "1", "data_request_id": "1"}


def api_routes():
    # The URL map only: the engine is made but never connects, so the file is never created.
    app = create_app(app_config(f"sqlite:///{tempfile.gettempdir()}/url-map-only.sqlite3", None))
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule not in OPEN_ROUTES:
            values = {name: SAMPLE_VALUES.get(name, "1") for name in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield pytest.param(method, urls.build(rule.endpoint, values, method=method),
                                   id=f"{method} {rule.rule}")


ROUTES = list(api_routes())


def test_the_api_has_the_routes_the_panel_uses():
    assert {"GET /api/program", "POST /api/members/<customer_id>/redemptions", "GET /api/stats"} <= {
        param.id for param in ROUTES}


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_api_route_answers_401_without_a_session_token(client, db, method, path):
    from tests.helpers import table_counts

    before = table_counts(db)
    response = client.open(path, method=method, json={})
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert table_counts(db) == before


def test_only_the_listed_api_routes_are_open(client, db):
    from tests.helpers import table_counts

    app_rules = {rule.rule for rule in client.application.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert OPEN_ROUTES <= app_rules
    before = table_counts(db)
    for path in sorted(OPEN_ROUTES):
        assert client.get(path).status_code == 200, path
    assert table_counts(db) == before
