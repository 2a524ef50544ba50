"""The theme app extension's weight and manners: each script at most 10 KB gzipped (Theme
Check's suggested limit), the stylesheet at most 20 KB, no framework, no other host than
the store's own app proxy, and data always written as text, never as HTML."""
import gzip

import pytest

from tests.extensions.theme_liquid import EXTENSION

ASSETS = EXTENSION / "assets"
BUDGET = {".js": 10_000, ".css": 20_000}
SCRIPTS = sorted(ASSETS.glob("*.js"))


def gzipped(path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


@pytest.mark.parametrize("asset", sorted(ASSETS.iterdir()), ids=lambda p: p.name)
def test_each_asset_is_within_its_gzipped_budget(asset):
    assert asset.suffix in BUDGET, f"{asset.name}: only scripts and one stylesheet ship"
    assert gzipped(asset) <= BUDGET[asset.suffix], f"{asset.name}: {gzipped(asset)} bytes gzipped"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_script_loads_no_framework_and_calls_no_other_host(script):
    source = script.read_text()
    assert "import " not in source and "require(" not in source
    assert "http:" not in source and "https:" not in source  # only paths under the store's /apps/loyalty


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_script_never_writes_data_as_html(script):
    source = script.read_text()
    assert not any(sink in source for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))
