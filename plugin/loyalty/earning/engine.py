"""What an order earns under the shop's earning rules, line by line, and what a refund takes back.

Pure: a function of the order's facts, the product facts, the program and the rules, so it
can be tested exhaustively and a simulator can replay past orders under proposed rules.

The arithmetic (SPEC "Earning rules"), exact in Decimal until one floor:
- A line's eligible amount is price × quantity less its discount allocations, never below 0;
  a gift-card line counts 0 while the program excludes gift cards.
- The order's eligible amount is the one the core rule uses (subtotal less gift cards). What
  its lines do not account for (a payload without lines) earns at multiplier 1, so with no
  rules every order earns exactly what it did before rules existed; lines that claim more
  than the eligible amount are scaled down to it.
- A line's multiplier is the highest among the admitted multiplier rules that hit it, else 1.
- Points = floor((Σ line eligible × line multiplier + unallocated) × rate × tier multiplier)
  plus every admitted bonus.
- The breakdown splits that sum exactly: the base rate, then each multiplier rule's extra
  (cumulative floors, so the parts add up to the one floor), the tier's extra, the bonuses.
"""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from plugin.loyalty.earning.rules import OrderFacts, ProgramRules, eligible_amount, line_amount, order_counts
from plugin.loyalty.earning.strategies import KINDS, EarningRule, LineFacts, ProductFacts

ONE = Decimal(1)


@dataclass(frozen=True)
class LineFigure:
    """What one line earned, recorded with the order: refunds are reckoned from it, never
    from the rules of the day."""

    line_id: int | None
    quantity: int
    eligible: Decimal
    multiplier: Decimal
    bonus_per_unit: int = 0


@dataclass(frozen=True)
class BreakdownItem:
    rule_id: int | None  # None for the base rate and the tier
    label: str
    points: int


@dataclass(frozen=True)
class Award:
    points: int
    lines: tuple[LineFigure, ...] = ()
    breakdown: tuple[BreakdownItem, ...] = ()
    # Recorded with the order: refunds take back at this multiplier, and tiers count `eligible`.
    tier_multiplier: Decimal = ONE
    eligible: Decimal = Decimal(0)


@dataclass(frozen=True)
class RefundLine:
    line_id: int | None
    quantity: int
    subtotal: Decimal  # what was refunded of the line, after its discounts
    # A gift card the program excluded when the refund arrived: it decides only for a line
    # the order did not record (a recorded line keeps what it earned then).
    excluded_gift_card: bool = False


def floor(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))


def line_eligible(line: LineFacts, program: ProgramRules) -> Decimal:
    if line.gift_card and program.exclude_gift_cards:
        return Decimal(0)
    return line_amount(line.price, Decimal(line.quantity), line.discount)


def award(order: OrderFacts, program: ProgramRules, rules: list[EarningRule] = (),
          products: dict[int, ProductFacts] | None = None, tier_multiplier: Decimal = ONE,
          tier_label: str = "Tier multiplier") -> Award:
    """The order's points, its lines' figures and the breakdown that explains the points."""
    if not order_counts(order, program):
        return Award(0)
    products = products or {}
    eligible = eligible_amount(order, program)
    amounts = _fitted([line_eligible(line, program) for line in order.lines], eligible)
    admitted = sorted((rule for rule in rules if rule.admits(order.business_time, eligible)), key=lambda r: r.id)
    winners: list[EarningRule | None] = [None] * len(order.lines)
    per_unit = [0] * len(order.lines)
    bonuses = []
    for rule in admitted:
        behaviour = KINDS[rule.kind]
        # An excluded gift card earns nothing, bonuses included (and its product is never looked up).
        hit = [i for i, line in enumerate(order.lines)
               if not (line.gift_card and program.exclude_gift_cards) and rule.hits(line, products.get(line.product_id))]
        multiplier = behaviour.multiplier(rule)
        if multiplier is not None:
            for i in hit:
                if winners[i] is None or multiplier > winners[i].multiplier:
                    winners[i] = rule
        points, unit = behaviour.bonus(rule, [order.lines[i] for i in hit])
        if points:
            bonuses.append(BreakdownItem(rule.id, rule.name, points))
            for i in hit:
                per_unit[i] += unit
    multipliers = [ONE if rule is None else rule.multiplier for rule in winners]
    multiplied, breakdown = _multiplied(eligible, amounts, winners, program.points_per_currency_unit,
                                        tier_multiplier, tier_label)
    lines = tuple(LineFigure(line.line_id, line.quantity, amounts[i], multipliers[i], per_unit[i])
                  for i, line in enumerate(order.lines))
    return Award(multiplied + sum(b.points for b in bonuses), lines, tuple(breakdown) + tuple(bonuses),
                 tier_multiplier, eligible)


def _fitted(amounts: list[Decimal], eligible: Decimal) -> list[Decimal]:
    """Line amounts that add up to at most the order's eligible amount: a payload whose lines
    claim more than its subtotal (an order-level discount not allocated to lines) has them
    scaled down in proportion, so no multiplier can award more than the order is worth
    times the multiplier, and none less than nothing."""
    total = sum(amounts, Decimal(0))
    if total <= eligible:
        return amounts
    return [amount * eligible / total for amount in amounts]


def _multiplied(eligible: Decimal, amounts: list[Decimal], winners: list[EarningRule | None], rate: Decimal,
                tier: Decimal, tier_label: str) -> tuple[int, list[BreakdownItem]]:
    base = floor(eligible * rate)
    breakdown = [BreakdownItem(None, "Base rate", base)]
    total, so_far = eligible, base
    for rule in sorted({r.id: r for r in winners if r is not None}.values(), key=lambda r: r.id):
        total += sum(amounts[i] * (rule.multiplier - ONE) for i, won in enumerate(winners) if won is rule)
        reached = floor(total * rate)
        breakdown.append(BreakdownItem(rule.id, rule.name, reached - so_far))
        so_far = reached
    multiplied = floor(total * rate * tier)
    if multiplied != so_far or tier != ONE:
        breakdown.append(BreakdownItem(None, tier_label, multiplied - so_far))
    return multiplied, breakdown


def refund_points(recorded: tuple[LineFigure, ...], refunded: tuple[RefundLine, ...], rate: Decimal,
                  tier: Decimal) -> int:
    """What refunded lines earned at award time: their refunded amount × the multiplier
    recorded then, plus their per-item bonuses; the caller caps it at what the order still
    holds. A recorded line decides by its figures, whatever the program says today (a gift
    card excluded then was recorded as worth 0); a line the order did not record earns back
    at the base rate, a gift card among them only if gift cards count today."""
    by_id = {figure.line_id: figure for figure in recorded if figure.line_id is not None}
    amount, bonus = Decimal(0), 0
    for line in refunded:
        figure = by_id.get(line.line_id)
        if figure is None:
            amount += Decimal(0) if line.excluded_gift_card else line.subtotal
            continue
        if figure.eligible > 0:  # a line worth 0 then (a free line) gives back only its bonus
            # Never more than the line's share of what it was worth then (lines scaled down
            # to the subtotal at award time are scaled the same way here).
            share = figure.eligible * line.quantity / figure.quantity if figure.quantity else figure.eligible
            amount += min(line.subtotal, share) * figure.multiplier
        bonus += figure.bonus_per_unit * max(line.quantity, 0)
    return floor(amount * rate * tier) + bonus


def figures_json(lines: tuple[LineFigure, ...]) -> list[dict]:
    return [{"line_id": f.line_id, "quantity": f.quantity, "eligible": str(f.eligible),
             "multiplier": str(f.multiplier), "bonus_per_unit": f.bonus_per_unit} for f in lines]


def figures_from_json(rows: list[dict] | None) -> tuple[LineFigure, ...]:
    return tuple(LineFigure(row["line_id"], row["quantity"], Decimal(row["eligible"]), Decimal(row["multiplier"]),
                            row.get("bonus_per_unit", 0)) for row in rows or ())


def refund_lines_json(lines: tuple[RefundLine, ...]) -> list[dict]:
    return [{"line_id": line.line_id, "quantity": line.quantity, "subtotal": str(line.subtotal),
             "excluded_gift_card": line.excluded_gift_card} for line in lines]


def refund_lines_from_json(rows: list[dict] | None) -> tuple[RefundLine, ...]:
    return tuple(RefundLine(row["line_id"], row["quantity"], Decimal(row["subtotal"]),
                            row.get("excluded_gift_card", False)) for row in rows or ())


def breakdown_json(award: Award) -> list[dict]:
    return [{"rule_id": item.rule_id, "label": item.label, "points": item.points} for item in award.breakdown]


def order_facts_json(order: OrderFacts) -> dict:
    """The parsed order, as a simulator replays it: amounts, business time, tags and lines.
    Nothing in it names the customer."""
    return {
        "business_time": order.business_time.isoformat() if order.business_time else None,
        "subtotal": str(order.subtotal), "gift_card_total": str(order.gift_card_total),
        "tags": sorted(order.tags), "test": order.test,
        "lines": [{"line_id": line.line_id, "product_id": line.product_id, "sku": line.sku, "vendor": line.vendor,
                   "quantity": line.quantity, "price": str(line.price), "discount": str(line.discount),
                   "gift_card": line.gift_card} for line in order.lines],
    }
