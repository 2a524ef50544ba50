"""`customers/data_request`: keep, once per request, what we hold about the customer.

The platform asks us to give the merchant (not the customer) the data we store; the merchant
fetches the export from `GET /api/data-requests/<id>` (admin_ui/privacy.py). The payload
carries the customer's email and phone, so only the shop and the request id are logged.
"""
import logging
from dataclasses import dataclass

from plugin.loyalty.privacy import record_data_request
from webhooks.handlers.payloads import PayloadError, compliance_customer, id_list, named_shop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataRequestFacts:
    request_id: str
    customer_id: int
    order_ids: tuple[int, ...]
    shop_domain: str | None


def parse(payload: dict) -> DataRequestFacts:
    request = payload.get("data_request")
    request_id = request.get("id") if isinstance(request, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)) or not str(request_id).strip():
        raise PayloadError("payload lacks the required field 'data_request.id'")
    if len(str(request_id)) > 64:
        raise PayloadError("'data_request.id' is longer than 64 characters")
    return DataRequestFacts(
        request_id=str(request_id).strip(),
        customer_id=compliance_customer(payload),
        order_ids=id_list(payload, "orders_requested"),
        shop_domain=named_shop(payload),
    )


def apply(session, shop, facts: DataRequestFacts, delivery=None) -> None:
    if facts.shop_domain not in (None, shop.domain):
        log.warning("customers/data_request for %s names another shop in its body; ignored", shop.domain)
        return
    log.info("customers/data_request %s received for %s", facts.request_id, shop.domain)
    record_data_request(session, shop.id, shop.domain, facts.request_id, facts.customer_id, facts.order_ids)
