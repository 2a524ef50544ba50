"""The settings page as one page: the main form, the "Referrals and birthdays" card and the
Tiers section are saved by different scripts, but a merchant sees one page with one
unsaved-changes bar. Each section was tested alone; these check them together."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, order, signed_webhook

pytestmark = pytest.mark.browser


def program(client) -> dict:
    return client.get("/api/program", headers=auth()).get_json()


def open_settings(panel):
    panel.open("/settings", loaded="program")
    expect(panel.page.locator("#referral-settings-form")).to_have_attribute("aria-busy", "false")
    expect(panel.page.locator("#tiers-section")).to_have_attribute("data-loaded", "tiers:0")


def test_the_save_bar_shows_for_referral_changes_and_its_discard_puts_them_back(panel, client):
    open_settings(panel)
    page = panel.page
    expect(page.locator("#save-bar")).to_be_hidden()
    page.locator("#referral_points").fill("60")
    expect(page.locator("#save-bar")).to_be_visible()  # before: no sign that the card was unsaved
    page.locator("#discard").click()
    expect(page.locator("#referral_points")).to_have_value("0")
    expect(page.locator("#save-bar")).to_be_hidden()
    page.locator("#birthday_bonus").fill("10")
    page.locator("#birthday_bonus").fill("0")  # typed back to what is saved: nothing to save
    expect(page.locator("#save-bar")).to_be_hidden()


def test_the_save_bars_save_saves_the_main_form_and_the_referrals_card(panel, client):
    open_settings(panel)
    page = panel.page
    page.locator("#signup_bonus").fill("25")
    page.locator("#referral_points").fill("60")
    page.locator("#birthday_bonus").fill("15")
    panel.screenshot("settings-two-sections-unsaved")
    page.locator("#save-top").click()
    expect(page.locator(".toast", has_text="Referrals and birthdays saved")).to_be_visible()
    expect(page.locator("#save-bar")).to_be_hidden()
    saved = program(client)
    # before: the bar's Save sent the main form only, and the card kept showing 60 unsaved
    assert (saved["signup_bonus"], saved["referral_points"], saved["birthday_bonus"]) == (25, 60, 15)


def test_the_page_has_one_save_and_a_tier_saved_meanwhile_keeps_the_unsaved_changes(panel, client):
    open_settings(panel)
    page = panel.page
    expect(page.get_by_role("button", name=re.compile("^Save"))).to_have_count(0)  # nothing to save yet
    page.locator("#signup_bonus").fill("40")
    page.locator("#referral_points").fill("30")
    page.locator("#tier_window").select_option("lifetime")
    expect(page.locator("#save-bar")).to_be_visible()
    # One Save for the page: the bar's (before: three buttons, one per part of the page).
    expect(page.get_by_role("button", name=re.compile("^Save"))).to_have_count(1)

    page.locator("#add-tier").click()  # a tier saved meanwhile discards nothing either
    page.locator("#tier-form [name=name]").fill("Gold")
    page.locator("#tier-form [name=threshold]").fill("500")
    page.locator("#save-tier").click()
    expect(page.locator("#tiers-section")).to_have_attribute("data-loaded", "tiers:1")
    expect(page.locator("#signup_bonus")).to_have_value("40")
    expect(page.locator("#referral_points")).to_have_value("30")
    expect(page.locator("#save-bar")).to_be_visible()

    page.locator("#referral_points").press("Enter")  # Enter in any part saves the page
    expect(page.locator(".toast", has_text="Qualification saved")).to_be_visible()
    expect(page.locator("#save-bar")).to_be_hidden()
    saved = program(client)
    assert (saved["referral_points"], saved["signup_bonus"], saved["tier_window"]) == (30, 40, "lifetime")
    page.locator("#tier_basis").select_option("amount_spent")
    expect(page.locator("#save-bar")).to_be_visible()
    page.locator("#discard").click()
    expect(page.locator("#tier_basis")).to_have_value("points_earned")
    expect(page.locator("#save-bar")).to_be_hidden()


def test_a_new_tier_counts_who_qualifies_and_says_members_move_at_the_next_check(panel, client, settle):
    # The tiers table counted "Members today" 1 while the dashboard's "Members per tier" and the
    # member's page said no tier: members only move at the next tick.
    signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="150.00"))
    settle()
    open_settings(panel)
    page = panel.page
    page.locator("#add-tier").click()
    page.locator("#tier-form [name=name]").fill("Silver")
    page.locator("#tier-form [name=threshold]").fill("100")
    page.locator("#save-tier").click()
    expect(page.locator(".toast", has_text="Tier added")).to_have_text("Tier added; members move at the next check, within 5 minutes")
    expect(page.locator("#tiers-section thead")).to_contain_text("Qualify today")
    expect(page.locator("#tiers tr", has_text="Silver").locator(".members-today")).to_have_text("1")
    expect(page.locator("#tiers-below")).to_contain_text("Members move between tiers at the next scheduled check.")
    assert client.get("/api/members/7001", headers=auth()).get_json()["tier"] is None  # not until the tick
