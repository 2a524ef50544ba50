"""The development platform's Admin GraphQL: the operations this app sends, in SHOPIFY.md's shapes.

There is no GraphQL engine here: each root field the app uses is found in the document by
name (with its alias, if any), and its arguments must be variables (`name: $var`), which is
how every query in plugin/shopify is written. A field this fake does not know gets a
top-level GraphQL error, as an unknown field would on the platform. Every answer carries
`extensions.cost` (SHOPIFY.md 6.4): 10 per mutation, 1 per object read; the bucket never
runs dry here, so the app's throttle path is not exercised by the development store.
"""
import re
import secrets

from sqlalchemy.orm import Session

from admin_ui.dev import bulk_orders, catalogue, flow, records, store_credit, store_orders
from plugin.models import DevRecordKind

COST_MAX, RESTORE_RATE = 2000.0, 100.0
MUTATION_COST = 10
MAX_METAFIELDS = 25  # metafieldsSet takes at most 25 values per call (SHOPIFY.md 10)
# `query { shop { ianaTimezone currencyCode } }` (plugin/shopify/shop.py): the store's own settings.
SHOP_QUERY = re.compile(r"^\s*(?:query\b[^{]*)?\{\s*shop\s*\{([^{}]*)\}\s*\}\s*$")
SHOP_SETTINGS = {"ianaTimezone": "America/New_York", "currencyCode": "USD"}
ARGUMENT = re.compile(r"(\w+)\s*:\s*(\S+?)\s*(?:,|$)")


class UnsupportedDocument(Exception):
    """The document asks for something the development platform does not answer."""


def run(session: Session, shop: str, document: str, variables: dict) -> dict:
    """The platform's answer to one GraphQL request: `data` and `extensions`.

    Raises UnsupportedDocument for what the platform would answer with top-level `errors`
    (an unknown field, variables of the wrong shape); the caller rolls back whatever an
    earlier field of the same document wrote, since such a document runs nothing."""
    fields = root_fields(document)
    asked = SHOP_QUERY.search(document)
    if not fields and asked and set(asked.group(1).split()) <= set(SHOP_SETTINGS):
        return answer(data={"shop": {name: SHOP_SETTINGS[name] for name in asked.group(1).split()}})
    if not fields:
        raise UnsupportedDocument("the development platform does not answer this document")
    data, cost = {}, 0
    for alias, name, arguments in fields:
        values = {key: variables.get(variable) for key, variable in arguments.items()}
        try:
            data[alias], spent = OPERATIONS[name](session, shop, values)
        except (AttributeError, TypeError, ValueError, KeyError):
            # The platform checks variables against the schema first; this fake finds out here.
            raise UnsupportedDocument(f"{name}: variables of the wrong shape") from None
        cost += spent
    return answer(data=data, cost=cost)


def root_fields(document: str) -> list[tuple[str, str, dict]]:
    """(alias, operation, {argument: variable name}) for each operation of OPERATIONS used."""
    found = []
    for match in FIELD.finditer(document):
        if _depth(document, match.start()) != 1:
            continue  # a field inside a selection (a product's `collections(...)`), not an operation
        alias, name, raw = match.group(1), match.group(2), match.group(3)
        arguments = {}
        for key, value in ARGUMENT.findall(raw.strip() + ","):
            if not value.startswith("$"):
                raise UnsupportedDocument(f"{name}: argument {key} must be given as a variable here")
            arguments[key] = value[1:]
        found.append((alias or name, name, arguments))
    return found


def _depth(document: str, position: int) -> int:
    """How many selection sets are open at `position`: 1 for the document's root fields."""
    before = document[:position]
    return before.count("{") - before.count("}")


def answer(data: dict | None = None, errors: list | None = None, cost: int = 1) -> dict:
    """A GraphQL answer with its `extensions.cost` (SHOPIFY.md 6.4)."""
    body = {"data": data} if errors is None else {"errors": errors}
    body["extensions"] = {"cost": {
        "requestedQueryCost": cost, "actualQueryCost": cost,
        "throttleStatus": {"maximumAvailable": COST_MAX, "currentlyAvailable": COST_MAX - cost,
                           "restoreRate": RESTORE_RATE}}}
    return body


# -- discount codes (SHOPIFY.md 6.1, 6.2) --------------------------------------------------

def _create_code(kind: str):
    def create(session: Session, shop: str, values: dict):
        fields = values.get("basicCodeDiscount") or values.get("freeShippingCodeDiscount") or {}
        problems = _code_problems(kind, fields)
        if problems:
            return {"codeDiscountNode": None, "userErrors": problems}, MUTATION_COST
        node_id = f"gid://shopify/DiscountCodeNode/{secrets.randbelow(10 ** 12)}"
        code = str(fields["code"]).upper()
        kept = records.add_if_new(session, shop, DevRecordKind.DISCOUNT_CODE, code,
                                  {"id": node_id, "kind": kind, "input": fields, "used_by_order": None})
        if not kept:
            return {"codeDiscountNode": None, "userErrors": [
                {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique. Please try a different code.",
                 "code": "TAKEN", "extraInfo": None}]}, MUTATION_COST
        return {"codeDiscountNode": {"id": node_id}, "userErrors": []}, MUTATION_COST

    return create


def _code_problems(kind: str, fields: dict) -> list[dict]:
    missing = [name for name in ("title", "code", "startsAt") if not fields.get(name)]
    if kind == "basic" and not fields.get("customerGets"):
        missing.append("customerGets")
    problems = [{"field": ["input", name], "message": f"{name} can't be blank", "code": "BLANK", "extraInfo": None}
                for name in missing]
    percentage = (((fields.get("customerGets") or {}).get("value")) or {}).get("percentage")
    if percentage is not None and not 0 <= float(percentage) <= 1:
        # The platform reads 0.1 as 10 % and refuses 10 (SHOPIFY.md trap 10).
        problems.append({"field": ["input", "customerGets", "value", "percentage"],
                         "message": "Value must be between 0.0 and 1.0", "code": "VALUE_OUTSIDE_RANGE",
                         "extraInfo": None})
    return problems


def _deactivate_code(session: Session, shop: str, values: dict):
    found = next((record for record in records.listed(session, shop, DevRecordKind.DISCOUNT_CODE)
                  if record.data.get("id") == values.get("id")), None)
    if found is None:
        problem = {"field": ["id"], "message": "Discount does not exist", "code": "INVALID", "extraInfo": None}
        return {"codeDiscountNode": None, "userErrors": [problem]}, MUTATION_COST
    records.put(session, shop, DevRecordKind.DISCOUNT_CODE, found.key, {**found.data, "active": False})
    return {"codeDiscountNode": {"id": found.data["id"]}, "userErrors": []}, MUTATION_COST


def _code_by_code(session: Session, shop: str, values: dict):
    record = records.find(session, shop, DevRecordKind.DISCOUNT_CODE, str(values.get("code") or "").upper())
    return ({"id": record.data["id"]} if record else None), 1


# -- collections, by title (the rule editor's picker) ----------------------------------------

def _collections(session: Session, shop: str, values: dict):
    ordered = sorted(catalogue.COLLECTIONS.items(), key=lambda item: item[1].lower())
    start, first = int(values.get("after") or 0), int(values["first"])
    page = ordered[start:start + first]
    more = start + first < len(ordered)
    return {"nodes": [{"id": f"gid://shopify/Collection/{cid}", "title": title} for cid, title in page],
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None}}, 1 + len(page)


# -- products (SHOPIFY.md 10) --------------------------------------------------------------

def _product_node(product_id: int | None, gid: str) -> dict | None:
    if not gid.startswith("gid://shopify/Product/"):
        return {}  # another kind of node: the inline fragment selects nothing
    found = catalogue.product(product_id) if product_id else None
    if found is None:
        return None
    return {"id": gid, "productType": found.product_type, "vendor": catalogue.VENDOR, "tags": list(found.tags),
            "updatedAt": catalogue.UPDATED_AT,
            "collections": {"nodes": [{"id": f"gid://shopify/Collection/{c}"} for c in found.collection_ids],
                            "pageInfo": {"hasNextPage": False, "endCursor": None}}}


def _numeric(gid) -> int | None:
    tail = str(gid).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _nodes(session: Session, shop: str, values: dict):
    ids = values.get("ids") or []
    if len(ids) > 250:
        raise UnsupportedDocument("nodes: at most 250 ids")
    return [_product_node(_numeric(gid), str(gid)) for gid in ids], 1 + len(ids)


def _node(session: Session, shop: str, values: dict):
    gid = str(values.get("id") or "")
    if gid.startswith(bulk_orders.GID):
        return bulk_orders.operation(shop, gid), 1
    return _product_node(_numeric(gid), gid), 1


# -- customer metafields and tags (SHOPIFY.md 10) -------------------------------------------

def _metafields_set(session: Session, shop: str, values: dict):
    inputs = values.get("metafields") or []
    if len(inputs) > MAX_METAFIELDS:
        refused = {"field": ["metafields"], "code": "LESS_THAN_OR_EQUAL_TO",
                   "message": "Exceeded the maximum metafields input limit of 25."}
        return {"metafields": None, "userErrors": [refused]}, MUTATION_COST
    problems = [{"field": ["metafields", str(i), name], "code": "BLANK", "message": f"{name} can't be blank"}
                for i, entry in enumerate(inputs) for name in ("ownerId", "namespace", "key", "type", "value")
                if entry.get(name) in (None, "")]
    if problems:  # atomic: nothing is written when one value is refused
        return {"metafields": None, "userErrors": problems}, MUTATION_COST
    written = []
    for entry in inputs:
        key = f"{entry['ownerId']}|{entry['namespace']}.{entry['key']}"
        record = records.put(session, shop, DevRecordKind.METAFIELD, key, {
            name: str(entry[name]) for name in ("ownerId", "namespace", "key", "type", "value")})
        written.append({"id": f"gid://shopify/Metafield/{record.id}", "namespace": entry["namespace"],
                        "key": entry["key"], "value": str(entry["value"])})
    return {"metafields": written, "userErrors": []}, MUTATION_COST


def _tags(adding: bool):
    def change(session: Session, shop: str, values: dict):
        owner = str(values.get("id") or "")
        tags = values.get("tags") or []
        tags = [t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags) if str(t).strip()]
        if not owner.startswith("gid://shopify/") or not tags:
            return {"node": None, "userErrors": [{"field": ["id" if tags else "tags"],
                                                  "message": "Invalid id or empty tags"}]}, MUTATION_COST
        record = records.find(session, shop, DevRecordKind.CUSTOMER_TAGS, owner)
        current = list(record.data["tags"]) if record else []
        current = sorted(set(current) | set(tags)) if adding else [t for t in current if t not in tags]
        records.put(session, shop, DevRecordKind.CUSTOMER_TAGS, owner, {"id": owner, "tags": current})
        return {"node": {"id": owner}, "userErrors": []}, MUTATION_COST

    return change


OPERATIONS = {
    "discountCodeBasicCreate": _create_code("basic"),
    "discountCodeFreeShippingCreate": _create_code("free_shipping"),
    "codeDiscountNodeByCode": _code_by_code,
    "discountCodeDeactivate": _deactivate_code,
    "collections": _collections,
    "nodes": _nodes,
    "node": _node,
    "metafieldsSet": _metafields_set,
    "tagsAdd": _tags(adding=True),
    "tagsRemove": _tags(adding=False),
    # Orders updated since a time, for reconciliation: the orders /dev sent (store_orders.py).
    "orders": store_orders.orders,
    # A Shopify Flow trigger fired by the app: kept for /dev to show (flow.py).
    "flowTriggerReceive": flow.trigger_receive,
    # Store credit, and the segments and automatic discounts of tier perks (store_credit.py).
    "storeCreditAccountCredit": store_credit.credit,
    "customer": store_credit.customer,
    "segmentCreate": store_credit.segment_create,
    "segmentUpdate": store_credit.segment_update,
    "segmentDelete": store_credit.segment_delete,
    "discountAutomaticBasicCreate": store_credit.automatic_create("basic"),
    "discountAutomaticFreeShippingCreate": store_credit.automatic_create("free_shipping"),
    "discountAutomaticBasicUpdate": store_credit.automatic_update("basic"),
    "discountAutomaticFreeShippingUpdate": store_credit.automatic_update("free_shipping"),
    "discountAutomaticDelete": store_credit.automatic_delete,
    # The store's past orders in bulk (bulk_orders.py): a JSONL file served by platform.py.
    "bulkOperationRunQuery": bulk_orders.run_query,
}
# `alias: operation(arguments)`; `nodes { id }` inside a selection has no arguments, so no match.
FIELD = re.compile(r"(?:\b(\w+)\s*:\s*)?\b(" + "|".join(OPERATIONS)
                   + r")\s*\(([^)]*)\)")
