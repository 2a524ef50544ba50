"""The look-up pass: product facts fetched before a batch of paid orders is priced.

Rules on product type, tags or collections need facts that order lines do not carry.
Fetching them inside the batch's transaction would hold that transaction across an HTTP
call (on SQLite, the whole database's write lock), so `look_up_products` runs first, with
no transaction open: it reads the due orders/paid events (and the orders/updated of orders
not earned yet) in a read-only session and, for each shop with an active rule on product
facts, collects the products that its orders able to earn need (none for an order that
cannot earn, none for an excluded gift card) and that are missing or stale in the cache,
fetches them all at once (one query per shop for up to IDS_PER_QUERY products,
plugin/shopify/products.py) and stores them in a short transaction of its own.
Reconciliation calls `look_up_for` with the orders it read back, before applying them.

It is best-effort. If the platform is down, it logs and moves on; pricing
(plugin/loyalty/rules/definitions.py `price_orders`) then refuses those orders, whose events
wait and are retried with the usual backoff, and this pass tries again before their next
batch. A shop without such a rule costs one light query per batch and no look-up at all.
"""
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from rq.timeouts import BaseTimeoutException
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import reading_session, transaction, utcnow
from plugin.loyalty.earning.rules import ProgramRules, normalise_tag
from plugin.loyalty.earning.strategies import ProductFacts
from plugin.loyalty.rules.product_cache import COLLECTION_FIELD, product_match_fields, record_look_up, stale_or_missing
from plugin.loyalty.order_reports import OrderReport
from plugin.loyalty.programs import program_rules
from plugin.loyalty.rules.definitions import products_wanted
from plugin.models import EarningRuleRecord, EventStatus, OrderRecord, Program, Shop, WebhookEvent
from plugin.shopify.client import AdminClient
from plugin.shopify.products import PlatformProduct, fetch_products
from webhooks.handlers import orders_paid
from webhooks.handlers.payloads import parse_body

log = logging.getLogger(__name__)

EVENTS = WebhookEvent.__table__
# The topics that may award an order (orders/updated: a paid order whose orders/paid was missed).
TOPICS = ("orders/paid", "orders/updated")
# Fewer tries than the client's default: the orders wait and are retried anyway, and a long
# outage must not stall every batch (other shops' events too) for the client's full backoff.
LOOK_UP_ATTEMPTS = 3
# The whole pass, all shops: past it the remaining shops' orders wait for the next batch.
LOOK_UP_BUDGET_SECONDS = 20


@dataclass(frozen=True)
class Wanted:
    """A shop's products to fetch before its paid orders can be priced."""

    shop_id: int
    domain: str
    product_ids: frozenset[int]


def look_up_products(limit: int) -> None:
    """Fill the cache for the next `limit` due paid orders. Never raises (but for a job
    timeout): whatever goes wrong here, pricing refuses what is still missing."""
    try:
        deadline = time.monotonic() + LOOK_UP_BUDGET_SECONDS
        for shop in _read_wanted(limit):
            if time.monotonic() > deadline:  # a slow platform must not stall every shop's batch
                log.warning("product look-ups stopped for this batch: %s s spent", LOOK_UP_BUDGET_SECONDS)
                return
            _look_up(shop)
    except BaseTimeoutException:
        raise  # the job ran out of time: RQ must see it
    except Exception:
        log.exception("the product look-up pass failed; paid orders that need it wait")


def _read_wanted(limit: int) -> list[Wanted]:
    session = reading_session()
    try:
        return wanted_products(session, limit)
    finally:
        session.close()  # no snapshot or connection held across the HTTP calls that follow


def wanted_products(session: Session, limit: int) -> list[Wanted]:
    """Per shop with an active rule on product facts: its due orders' products missing or stale."""
    shops, programs = _shops_with_product_rules(session, limit)
    if not shops:
        return []
    named = _ordered_products(session, limit, shops, {domain: program_rules(p) for domain, p in programs.items()})
    wanted = []
    for domain, product_ids in named.items():
        shop_id, collections = shops[domain]
        missing = stale_or_missing(session, shop_id, product_ids, collections)
        if missing:
            wanted.append(Wanted(shop_id, domain, frozenset(missing)))
    return wanted


def _due(limit: int):
    """The next due paid orders, as the batch will claim them (without taking them)."""
    return (select(EVENTS.c.id, EVENTS.c.shop_domain).where(
        EVENTS.c.status == EventStatus.PENDING, EVENTS.c.next_attempt_at <= utcnow(), EVENTS.c.topic.in_(TOPICS))
        .order_by(EVENTS.c.id).limit(limit).subquery())


def _shops_with_product_rules(session: Session, limit: int) -> tuple[dict[str, tuple[int, bool]], dict[str, Program]]:
    """domain -> (shop id, whether a rule needs collections), and domain -> program, for the
    shops of due paid orders that have an active rule on product facts: one statement."""
    due = _due(limit)

    def rule_on(fields):
        return select(EarningRuleRecord.id).where(
            EarningRuleRecord.shop_id == Shop.id, EarningRuleRecord.active.is_(True),
            EarningRuleRecord.match_field.in_(fields)).exists()

    rows = session.execute(select(Shop.domain, Shop.id, Program, rule_on([COLLECTION_FIELD]).label("collections"))
                           .join(Program, Program.shop_id == Shop.id)
                           .where(Shop.domain.in_(select(due.c.shop_domain)), rule_on(product_match_fields())))
    shops, programs = {}, {}
    for domain, shop_id, program, collections in rows:
        shops[domain], programs[domain] = (shop_id, bool(collections)), program
    return shops, programs


def _ordered_products(session: Session, limit: int, shops: dict[str, tuple[int, bool]],
                      rules: dict[str, ProgramRules]) -> dict[str, set[int]]:
    """The products whose facts those shops' due orders need to be priced. An order that
    cannot earn needs none (products_wanted), nor does an update of an order that already
    earned. A payload that cannot be read names none: processing reports it on its own, and
    it must not stop the others' look-ups."""
    due = _due(limit)
    rows = session.execute(select(EVENTS.c.shop_domain, EVENTS.c.topic, EVENTS.c.payload)
                           .join(due, due.c.id == EVENTS.c.id).where(EVENTS.c.shop_domain.in_(set(shops))))
    named: dict[str, set[int]] = {}
    updates: list[tuple[str, OrderReport]] = []
    for domain, topic, payload in rows:
        try:
            report = orders_paid.parse(parse_body(payload))
        except Exception:  # PayloadError, or whatever else processing will report
            continue
        if topic == "orders/paid":
            named.setdefault(domain, set()).update(products_wanted(report.order, rules[domain]))
        elif report.paid and report.order.customer_id is not None:
            updates.append((domain, report))
    for domain, report in _never_earned(session, shops, updates):
        named.setdefault(domain, set()).update(products_wanted(report.order, rules[domain]))
    return {domain: ids for domain, ids in named.items() if ids}


def _never_earned(session: Session, shops: dict[str, tuple[int, bool]], updates: list) -> list:
    """The updates whose order has not earned yet: only those will be priced."""
    if not updates:
        return []
    earned = {tuple(row) for row in session.execute(select(OrderRecord.shop_id, OrderRecord.order_id).where(
        OrderRecord.shop_id.in_({shops[domain][0] for domain, _ in updates}),
        OrderRecord.order_id.in_({report.order_id for _, report in updates}),
        OrderRecord.earned_points.is_not(None)))}
    return [(domain, report) for domain, report in updates if (shops[domain][0], report.order_id) not in earned]


def _look_up(shop: Wanted) -> None:
    """One shop's products: fetched with no transaction open, then stored in a short one."""
    try:
        client = AdminClient(shop.shop_id, shop.domain, max_attempts=LOOK_UP_ATTEMPTS)
        found = fetch_products(client, set(shop.product_ids))
    except BaseTimeoutException:
        raise
    except Exception as error:  # one shop's platform trouble (a refused token too) is not the others'

        log.warning("product look-up for shop %s failed (%s: %s); its paid orders wait for it",
                    shop.shop_id, type(error).__name__, error)
        return
    with transaction() as session:
        record_look_up(session, shop.shop_id, set(shop.product_ids), [_facts(p) for p in found.values()])


def _facts(product: PlatformProduct) -> tuple[ProductFacts, datetime | None]:
    facts = ProductFacts(product.product_id, product.product_type, product.vendor,
                         frozenset(normalise_tag(tag) for tag in product.tags if tag.strip()),
                         frozenset(product.collection_ids))
    return facts, product.updated_at


def look_up_for(shop_id: int, domain: str, reports: list[OrderReport]) -> None:
    """The same pass for orders read back from the platform (reconciliation) rather than
    stored events: the products those that may still earn need, if a rule asks for them."""
    session = reading_session()
    try:
        fields = set(session.scalars(select(EarningRuleRecord.match_field).where(
            EarningRuleRecord.shop_id == shop_id, EarningRuleRecord.active.is_(True),
            EarningRuleRecord.match_field.in_(product_match_fields()))))
        if not fields:
            return
        rules = program_rules(session.get(Program, shop_id))
        candidates = [(domain, r) for r in reports if r.paid and r.order.customer_id is not None]
        wanted = {product for _, report in _never_earned(session, {domain: (shop_id, False)}, candidates)
                  for product in products_wanted(report.order, rules)}
        missing = stale_or_missing(session, shop_id, wanted, COLLECTION_FIELD in fields) if wanted else set()
    finally:
        session.close()
    if missing:
        _look_up(Wanted(shop_id, domain, frozenset(missing)))
