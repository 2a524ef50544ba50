"""The earning rules page's preview: what a sample order earns under the shop's active rules,
and under a rule the merchant is still typing.

As with the settings preview (plugin/loyalty/program_preview.py), the points come from `award`, the code that
prices paid orders, and the unsaved rule is read by the validation a save runs
(`_validated` in definitions.py): the sentence the merchant reads is what an order will
earn, and a rule a save would refuse is refused here with the same message. A rule being
edited (`rule_id`) is validated as its PATCH would be and stands in for its saved version.

Unlike a paid order, the sample brings its own product facts (type, tags, collections): the
merchant describes the products, so the cache is not read and no look-up is needed. The
shop's program and rules are read; nothing is written.
"""
from dataclasses import replace
from decimal import Decimal

from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.ids import MAX_ID, parse_id
from plugin.loyalty.earning.engine import Award, award
from plugin.loyalty.earning.rules import OrderFacts, normalise_tag
from plugin.loyalty.earning.strategies import EarningRule, LineFacts, ProductFacts
from plugin.loyalty.fields import InvalidFields, parse_each, text, whole_number
from plugin.loyalty.program_preview import MAX_AMOUNT, SAMPLE_CUSTOMER, order_amount
from plugin.loyalty.programs import program_rules

# The rules' own validation and time parser, not copies: what a save refuses, the preview refuses too.
from plugin.loyalty.rules.definitions import _moment, _validated, active_rules, find_rule, strategy
from plugin.models import Program

MAX_LINES = 50
MAX_QUANTITY = 10_000
MAX_LIST = 250  # tags or collections of one sample product
# The unsaved rule's id: past every stored id, so it comes last among equal multipliers, as
# it would once saved; answered as null, since it has no id yet.
UNSAVED = MAX_ID


def preview_rules(session: Session, program: Program, body) -> dict:
    """`{"points": int, "breakdown": [...]}` for the sample order in `body`; raises
    InvalidFields naming each bad field (a rule's fields as `rule.<field>`)."""
    values, errors = parse_each(body, _FIELDS, "is not a preview field", "preview fields")
    if "lines" not in body:
        errors["lines"] = "is required"
    try:
        rules = () if "rule_id" in errors else _rules(session, program.shop_id, body, values.get("rule_id"))
    except InvalidFields as invalid:
        errors.update(invalid.fields)
    if errors:
        raise InvalidFields(errors)
    lines, products = values["lines"]
    order = OrderFacts(order_id=0, name=None, customer_id=SAMPLE_CUSTOMER, email=None,
                       subtotal=sum((_gross(line) for line in lines), Decimal(0)), gift_card_total=Decimal(0),
                       lines=lines, business_time=values.get("at") or utcnow())
    return _answer(award(order, program_rules(program), rules, products))


def _answer(earned: Award) -> dict:
    return {"points": earned.points, "breakdown": [
        {"rule_id": None if item.rule_id == UNSAVED else item.rule_id, "label": item.label, "points": item.points}
        for item in earned.breakdown]}


def _rules(session: Session, shop_id: int, body: dict, rule_id: int | None) -> tuple[EarningRule, ...]:
    """The shop's active rules, with the unsaved rule (if any) in place of its saved version."""
    saved = active_rules(session, shop_id)
    if "rule" not in body:
        if "rule_id" in body:
            raise InvalidFields({"rule_id": "is only read with a rule: the unsaved fields of that rule"})
        return saved
    record = None
    if rule_id is not None:
        record = find_rule(session, shop_id, rule_id)
        if record is None:
            raise InvalidFields({"rule_id": "is not an earning rule of this shop"})
    try:
        changes = _validated(body["rule"], record)
    except InvalidFields as invalid:
        raise InvalidFields({_rule_field(name): message for name, message in invalid.fields.items()}) from None
    unsaved = replace(strategy(record), **changes) if record else EarningRule(id=UNSAVED, **changes)
    return tuple(rule for rule in saved if rule.id != unsaved.id) + (unsaved,)


def _rule_field(name: str) -> str:
    return "rule" if name == "_body" else f"rule.{name}"


def _rule_id(value) -> int | None:
    # Checked against the shop's rules in _rules; null means a new rule, as if omitted.
    number = None if value is None else parse_id(value)
    if value is not None and number is None:
        raise ValueError("must be the numeric id of the rule being edited, or null")
    return number


def _lines(value) -> tuple[tuple[LineFacts, ...], dict[int, ProductFacts]]:
    """The sample's lines and their products' facts; one ValueError naming every bad line field."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LINES:
        raise ValueError(f"must be a list of 1 to {MAX_LINES} lines")
    problems, lines, products = [], [], {}
    for number, given in enumerate(value, start=1):
        try:
            fields, errors = parse_each(given, _LINE_FIELDS, "is not a line field", "line fields")
        except InvalidFields as invalid:
            fields, errors = {}, {"": invalid.fields["_body"]}
        errors.update({name: "is required" for name in _REQUIRED if isinstance(given, dict) and name not in given})
        problems += [" ".join(filter(None, (f"line {number}", name, message))) for name, message in errors.items()]
        if not errors:
            line, product = _line(number, fields)
            if products.get(product.product_id, product) != product:
                problems.append(f"line {number} product_id names an earlier line's product with other facts")
            lines.append(line)
            products[product.product_id] = product
    if not problems and sum(_gross(line) for line in lines) >= MAX_AMOUNT:
        problems.append(f"must total less than {MAX_AMOUNT:,}")
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(lines), products


def _line(number: int, fields: dict) -> tuple[LineFacts, ProductFacts]:
    # A sample product without an id still has facts; it gets a stand-in id that no rule can
    # name (ids are never negative), so a `product_id` rule does not hit it.
    product_id = fields.get("product_id", -number)
    line = LineFacts(line_id=number, product_id=product_id, sku=fields.get("sku"), vendor=fields.get("vendor"),
                     quantity=fields["quantity"], price=fields["price"], discount=Decimal(0))
    product = ProductFacts(product_id, fields.get("product_type"), fields.get("vendor"),
                           frozenset(normalise_tag(tag) for tag in fields.get("product_tags", ())),
                           frozenset(fields.get("collection_ids", ())))
    return line, product


def _gross(line: LineFacts) -> Decimal:
    return line.price * line.quantity


def _optional_text(value) -> str | None:
    return None if value is None else text(value, 255)


def _product_id(value) -> int:
    number = parse_id(value)
    if number is None:
        raise ValueError("must be a numeric product id")
    return number


def _tags(value) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValueError(f"must be a list of up to {MAX_LIST} tags")
    return [text(tag, 255, "must be tags of up to 255 characters each") for tag in value]


def _collection_ids(value) -> list[int]:
    numbers = [parse_id(item) for item in value] if isinstance(value, list) and len(value) <= MAX_LIST else [None]
    if None in numbers:
        raise ValueError(f"must be a list of up to {MAX_LIST} numeric collection ids")
    return numbers


_FIELDS = {"lines": _lines, "rule": lambda value: value, "rule_id": _rule_id, "at": _moment}
_LINE_FIELDS = {
    "title": lambda value: text(value, 255),
    "quantity": lambda value: whole_number(value, 1, MAX_QUANTITY,
                                           f"must be a whole number from 1 to {MAX_QUANTITY:,}"),
    "price": order_amount,
    "sku": _optional_text, "vendor": _optional_text, "product_type": _optional_text,
    "product_id": _product_id, "product_tags": _tags, "collection_ids": _collection_ids,
}
_REQUIRED = ("title", "quantity", "price")
