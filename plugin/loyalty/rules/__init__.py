"""Earning rules as the merchant keeps them, and what they need to know of products.

- `definitions`: a shop's earning rules, stored and validated field by field (`/api/earning-rules`).
- `product_cache`: what order lines do not carry (product type, tags, collections).
- `preview`: what a sample order earns under the active rules and a rule being typed.

The arithmetic the rules feed is pure and lives in `plugin/loyalty/earning/`.
"""
