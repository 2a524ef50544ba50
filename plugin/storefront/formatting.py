"""Numbers, points, money and dates as a shopper reads them, for the storefront's pages:
"1,418", "1 point" / "2 points", "$5.00" in the shop's currency (from `shop/update`),
"March 1, 2036". The theme's scripts have the same helper in the browser
(extensions/loyalty-theme/assets/loyalty-format.js, on the shopper's locale via Intl).

The pages are English, so separators are English ones. A currency outside the table is
shown with its ISO code ("5.00 XOF"); a shop whose currency is not known yet gets the
figure alone. Money is Decimal in, text out: never a float.
"""
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from plugin.models import Reward, RewardKind

SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$",
           "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹", "KRW": "₩", "BRL": "R$", "ILS": "₪"}
NO_CENTS = {"JPY", "KRW", "ISK", "CLP", "VND", "HUF", "TWD"}


def number(value: int | Decimal) -> str:
    """Thousands separated; a Decimal keeps its own places ("1.5", "1,250.75")."""
    return f"{value:,}" if isinstance(value, int) else f"{Decimal(value).normalize():,f}"


def points(value: int) -> str:
    return f"{number(value)} {'point' if value in (1, -1) else 'points'}"


def money(amount: Decimal, currency: str | None) -> str:
    places = Decimal(1) if currency in NO_CENTS else Decimal("0.01")
    figure = f"{Decimal(amount).quantize(places, rounding=ROUND_HALF_EVEN):,f}"
    if currency in SYMBOLS:
        return f"{SYMBOLS[currency]}{figure}"
    return f"{figure} {currency}" if currency else figure


def day(iso_date: str) -> str:
    """A business date ("2036-03-01", already in the shop's zone) as "March 1, 2036"."""
    found = date.fromisoformat(iso_date)
    return f"{found:%B} {found.day}, {found.year}"


def offer(reward: Reward, currency: str | None) -> str:
    """What a reward gives: "$5.00 off", "10% off", "Free shipping", "$5.00 in store credit",
    "A free product"."""
    if reward.kind is RewardKind.AMOUNT_OFF:
        return f"{money(reward.value, currency)} off"
    if reward.kind is RewardKind.STORE_CREDIT:
        return f"{money(reward.value, currency)} in store credit"
    if reward.kind is RewardKind.FREE_PRODUCT:
        return "A free product"
    if reward.kind is RewardKind.PERCENTAGE_OFF:
        return f"{number(reward.value)}% off"
    return "Free shipping"
