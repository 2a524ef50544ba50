"""The bounds that keep every stored figure inside a 64-bit integer, and the arithmetic behind them.

A BIGINT (and SQLite's INTEGER) holds up to 2**63 - 1, about 9.22 × 10**18. What is accepted:

- money in payloads and settings: below 10**12 either way, 6 places (NUMERIC(18, 6));
- a line's quantity: 0 to 10**9 (`MAX_QUANTITY`), and price × quantity below 10**12;
- program: points per currency unit up to 1,000; signup, referral and birthday bonuses and
  manual adjustments up to 10**6 points; earning rules: multipliers up to 100, bonuses up
  to 10**6 points per item or per order; tiers: multipliers up to 100, thresholds below
  10**12; rewards: costs up to 10**7 points.

The worst order those allow, 10**12 × 1,000 × 100 × 100 = 10**19 points plus its bonuses,
does not fit, and no sane program comes near it; so an order is bounded as a whole:
`MAX_ORDER_POINTS` = 10**15, 9,223 times below 2**63. The arithmetic runs in Python's
unbounded integers and Decimal, so the check sees the true figure; an order past it fails at
once (`OutOfBounds`, never retried) and moves nothing.

A member's lifetime points are the sum of what they earned: `MAX_MEMBER_POINTS` = 10**18
(a margin of 9.2). A batch's credits (at most 250 orders of 10**15) land first and are
checked on the totals the same statement returns, so a member at most 10**18 before a
batch is at most 1.25 × 10**18 when it is refused and rolled back: the check can never
itself overflow. Balance and pending are parts of the lifetime total, so they fit too.

Tier figures: an order counts its eligible amount in millionths, below 10**12 × 10**6 =
10**18. A member's counted amount, all days together, stops at `MAX_MEMBER_MICROS` =
10**18 (10**12 of the shop's currency, above every threshold): an order past it counts
only what is left, and a refund gives back no more than its order counted. So every day
row, year row and window sum is at most 10**18 (margin 9.2). The points those rows count
are order points, part of a lifetime total bounded above.

Last guards, for whatever slips past these: PostgreSQL refuses a BIGINT out of range, and
on SQLite (where integer arithmetic overflows into a float) triggers refuse a point or
millionth column that is not an integer (migration 0017); both fail the event at once.
"""

MAX_QUANTITY = 10**9
MAX_ORDER_POINTS = 10**15
MAX_MEMBER_POINTS = 10**18
MAX_MEMBER_MICROS = 10**18


class OutOfBounds(ValueError):
    """A figure would pass its bound: the same input fails the same way every time, so the
    event fails at once (webhooks/processing.py) with this message."""


def check_order_points(order_id: int, points: int) -> None:
    if points > MAX_ORDER_POINTS:
        raise OutOfBounds(f"order {order_id} would earn {points:,} points, more than the "
                          f"{MAX_ORDER_POINTS:,} one order may earn; check the earning rules and the order")


def check_member_points(lifetime_earned: int) -> None:
    if lifetime_earned > MAX_MEMBER_POINTS:
        raise OutOfBounds(f"the customer's lifetime points would pass {MAX_MEMBER_POINTS:,}, "
                          "the most a member may hold")
