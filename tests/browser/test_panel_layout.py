"""Layout checks across the panel's pages: what a person sees, measured in the browser."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

pytestmark = pytest.mark.browser


def inset(page, selector: str) -> float:
    """How far the element's content (its text) starts from its card's left edge, in CSS pixels."""
    return page.locator(selector).evaluate(
        "node => node.getBoundingClientRect().left + parseFloat(getComputedStyle(node).paddingLeft)"
        " - node.closest('.card').getBoundingClientRect().left")


@pytest.mark.parametrize(("path", "loaded", "inside"), [
    ("/referrals", "referrals", "label[for=status]"),  # the status filter
    ("/operations", "events", ".card-note"),  # the line under "Failed event deliveries"
])
def test_a_flush_cards_filter_and_note_line_up_with_its_title(panel, path, loaded, inside):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    panel.open(path, loaded=re.compile(f"^{loaded}:"))
    page = panel.page
    title = page.locator(inside).locator("xpath=ancestor::section[1]/h2[contains(@class, 'card-title')]")
    # The title's text starts 16px in (its padding); the filter and note sat on the card's very edge.
    assert inset(page, inside) == pytest.approx(16, abs=1)
    assert title.evaluate("node => parseFloat(getComputedStyle(node).paddingLeft)") == pytest.approx(16, abs=1)
    panel.screenshot(f"flush-card{path.replace('/', '-')}")
