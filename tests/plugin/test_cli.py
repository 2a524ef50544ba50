"""The CLI's refusals under LOYALTY_ENV=production."""
from plugin import create_app
from plugin.shopify.session_tokens import shop_from_header
from tests.conftest import app_config
from tests.helpers import SHOP


def test_dev_token_mints_a_token_in_development(app):
    result = app.test_cli_runner().invoke(args=["dev-token", "--shop", SHOP])
    assert result.exit_code == 0
    header = f"Bearer {result.output.strip()}"
    assert shop_from_header(header, app.config["SHOPIFY_API_KEY"], app.config["SHOPIFY_API_SECRET"]) == SHOP


def test_dev_token_is_refused_in_production_and_prints_no_token(database):
    production = create_app({**app_config(database, None), "LOYALTY_ENV": "production"})
    result = production.test_cli_runner().invoke(args=["dev-token", "--shop", SHOP])
    assert result.exit_code != 0
    assert "refused in production" in result.output
    assert "eyJ" not in result.output  # no JWT of any kind
