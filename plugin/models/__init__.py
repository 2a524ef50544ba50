"""The schema, split by domain; importing this package registers every table on `Base`."""
from plugin.models.ledger import EntryKind, LedgerEntry
from plugin.models.members import Member
from plugin.models.orders import OrderRecord, RefundRecord
from plugin.models.shops import Program, Shop
from plugin.models.webhook_events import EventStatus, WebhookEvent

__all__ = [
    "EntryKind", "EventStatus", "LedgerEntry", "Member", "OrderRecord", "Program",
    "RefundRecord", "Shop", "WebhookEvent",
]
