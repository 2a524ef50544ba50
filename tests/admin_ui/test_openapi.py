"""The OpenAPI document (`/api/openapi.json`) and its page (`/api/docs`): every `/api` route of
the URL map is in it, it validates as OpenAPI 3.1, and it names both ways to authenticate."""
import importlib
import tempfile

import pytest
from openapi_spec_validator import validate

from admin_ui.openapi import OPEN_ROUTES, openapi_path
from plugin import create_app
from tests.conftest import app_config


def api_operations():
    app = create_app(app_config(f"sqlite:///{tempfile.gettempdir()}/url-map-only.sqlite3", None))
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule not in OPEN_ROUTES:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield pytest.param(method, rule, id=f"{method} {rule.rule}")


OPERATIONS = list(api_operations())


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_validates_as_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)


@pytest.mark.parametrize("method, rule", OPERATIONS)
def test_every_api_route_is_in_the_document_with_its_path_parameters(spec, method, rule):
    operation = spec["paths"][openapi_path(rule)][method.lower()]
    assert operation["summary"]
    assert {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"} == set(rule.arguments)
    answers = set(operation["responses"])
    assert {"401", "503"} <= answers and answers & {"200", "201", "202", "204"}


@pytest.mark.parametrize("method, rule", OPERATIONS)
def test_every_api_route_is_declared_beside_its_view(app, method, rule):
    assert getattr(app.view_functions[rule.endpoint], "openapi", None), f"{rule.endpoint}: add @documented"


def test_the_document_has_both_security_schemes_and_keys_routes_take_a_session_token_only(spec):
    schemes = spec["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} == {
        "sessionToken": ("http", "bearer"), "apiKey": ("http", "bearer")}
    assert spec["paths"]["/api/keys"]["post"]["security"] == [{"sessionToken": []}]
    assert spec["paths"]["/api/program"]["get"]["security"] == [{"sessionToken": []}, {"apiKey": []}]
    assert "429" in spec["paths"]["/api/program"]["get"]["responses"]


def test_no_open_route_is_in_the_document(spec):
    assert not set(spec["paths"]) & OPEN_ROUTES


def test_the_docs_page_renders_every_route_without_fetching_anything(client, spec):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path in spec["paths"]:
        assert path in html
    assert "<script" not in html and "https://" not in html
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none';"


@pytest.mark.parametrize("declared, parsers", [
    ("admin_ui.api:PROGRAM_FIELDS", "plugin.loyalty.programs:_PARSERS"),
    ("admin_ui.api:PREVIEW_FIELDS", "plugin.loyalty.program_preview:FIELDS"),
    ("admin_ui.rewards:REWARD_FIELDS", "plugin.loyalty.rewards.catalog:_PARSERS"),
    ("admin_ui.earning_rules:RULE_FIELDS", "plugin.loyalty.rules.definitions:_PARSERS"),
    ("admin_ui.earning_rules:RULE_PREVIEW_FIELDS", "plugin.loyalty.rules.preview:_FIELDS"),
    ("admin_ui.tiers:TIER_FIELDS", "plugin.loyalty.tiers.definitions:_PARSERS"),
])
def test_the_documented_body_fields_are_the_fields_the_parsers_read(declared, parsers):
    documented, read = (getattr(importlib.import_module(name.split(":")[0]), name.split(":")[1])
                        for name in (declared, parsers))
    # Parsed beside the table: the threshold per tier basis, the perk reward among the shop's rewards.
    extra = {"threshold", "perk_reward_id"} if declared.endswith("TIER_FIELDS") else set()
    assert set(documented) == set(read) | extra
