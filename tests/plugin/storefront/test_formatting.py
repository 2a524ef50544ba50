"""The storefront's one formatting helper: numbers, points, money and dates as shoppers read them."""
from decimal import Decimal

import pytest

from plugin.models import Reward, RewardKind
from plugin.storefront.formatting import day, money, number, offer, points


@pytest.mark.parametrize("value, shown", [(0, "0"), (1418, "1,418"), (-2500, "-2,500"), (Decimal("1.50"), "1.5"),
                                          (Decimal("10"), "10"), (Decimal("1250.75"), "1,250.75")])
def test_numbers_have_thousands_separators(value, shown):
    assert number(value) == shown


@pytest.mark.parametrize("value, shown", [(1, "1 point"), (2, "2 points"), (0, "0 points"), (-1, "-1 point"),
                                          (1418, "1,418 points"), (Decimal("1"), "1 point"),
                                          (Decimal("1.5"), "1.5 points")])
def test_one_point_and_many_points(value, shown):
    assert points(value) == shown


@pytest.mark.parametrize("amount, currency, shown", [
    ("5", "USD", "$5.00"), ("1234.5", "EUR", "€1,234.50"), ("500", "JPY", "¥500"), ("0.125", "GBP", "£0.12"),
    ("5", "XOF", "5.00 XOF"), ("5", None, "5.00"), ("1000000", "CAD", "CA$1,000,000.00")])
def test_money_is_shown_in_the_shops_currency(amount, currency, shown):
    assert money(Decimal(amount), currency) == shown


def test_a_business_date_is_written_out():
    assert day("2036-03-01") == "March 1, 2036"


@pytest.mark.parametrize("kind, value, shown", [(RewardKind.AMOUNT_OFF, "5", "$5.00 off"),
                                                (RewardKind.PERCENTAGE_OFF, "12.5", "12.5% off"),
                                                (RewardKind.FREE_SHIPPING, "0", "Free shipping")])
def test_a_rewards_offer_reads_in_the_shops_money(kind, value, shown):
    assert offer(Reward(name="x", kind=kind, value=Decimal(value), points_cost=1), "USD") == shown
