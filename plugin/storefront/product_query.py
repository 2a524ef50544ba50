"""The product a theme's "earn N points" block asks about, read from the proxied query.

The block sends what Liquid knows of the product: `product_id`, `price` (Liquid's price:
the amount in hundredths of the shop's currency, whatever the currency), `type`, `vendor`,
repeated `tag` and `collection`. Each bad parameter is named, with the same limits as the
earning rules' preview (plugin/loyalty/rules/preview.py).
"""
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from plugin.ids import parse_id
from plugin.loyalty.earning.rules import normalise_tag
from plugin.loyalty.earning.strategies import ProductFacts
from plugin.loyalty.fields import text
from plugin.loyalty.program_preview import MAX_AMOUNT

MAX_LIST = 250
MAX_PRICE = MAX_AMOUNT * 100 - 1  # hundredths


class InvalidProduct(ValueError):
    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid product")
        self.fields = fields


def parse_product(args: MultiDict) -> tuple[ProductFacts, Decimal]:
    """The product's facts and its price; InvalidProduct names each bad parameter."""
    errors: dict[str, str] = {}
    product_id, price = parse_id(args.get("product_id", "")), parse_id(args.get("price", ""))
    if product_id is None:
        errors["product_id"] = "must be a numeric product id"
    if price is None or price > MAX_PRICE:
        errors["price"] = f"must be a whole number of hundredths from 0 to {MAX_PRICE}"
    texts = {name: _optional_text(args.get(name), name, errors) for name in ("type", "vendor")}
    tags = [_optional_text(tag, "tag", errors) for tag in args.getlist("tag")]
    collections = [parse_id(value) for value in args.getlist("collection")]
    if len(tags) > MAX_LIST:
        errors["tag"] = f"must be given at most {MAX_LIST} times"
    if None in collections or len(collections) > MAX_LIST:
        errors["collection"] = f"must be up to {MAX_LIST} numeric collection ids"
    if errors:
        raise InvalidProduct(errors)
    facts = ProductFacts(product_id, texts["type"], texts["vendor"],
                         frozenset(normalise_tag(tag) for tag in tags if tag), frozenset(collections))
    return facts, Decimal(price) / 100


def _optional_text(value: str | None, name: str, errors: dict) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return text(value, 255)
    except ValueError as error:
        errors[name] = str(error)
        return None
