"""What one unit of a product earns: the "earn N points" line of a product page.

Priced by `award`, the code that prices paid orders, as a one-line order of the product at
its price under the shop's active rules now, with the shopper's tier multiplier on top.
The product's facts (type, vendor, tags, collections) are the ones the theme shows: they
only shape an estimate for the shopper who asks, so the product cache is not read and no
look-up is made. An order-level minimum (a rule's `min_subtotal`) counts this one unit only.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from plugin.loyalty.earning.engine import award
from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.earning.strategies import LineFacts, ProductFacts
from plugin.loyalty.program_preview import SAMPLE_CUSTOMER
from plugin.loyalty.programs import program_rules
from plugin.loyalty.rules.definitions import active_rules
from plugin.models import Program

ONE = Decimal(1)


def product_points(session: Session, program: Program, product: ProductFacts, price: Decimal, now: datetime,
                   tier_multiplier: Decimal = ONE) -> int:
    line = LineFacts(line_id=1, product_id=product.product_id, sku=None, vendor=product.vendor, quantity=1,
                     price=price, discount=Decimal(0))
    order = OrderFacts(order_id=0, name=None, customer_id=SAMPLE_CUSTOMER, email=None, subtotal=price,
                       gift_card_total=Decimal(0), lines=(line,), business_time=now)
    return award(order, program_rules(program), active_rules(session, program.shop_id),
                 {product.product_id: product}, tier_multiplier).points
