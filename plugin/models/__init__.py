"""The schema, split by domain; importing this package registers every table on `Base`."""
from plugin.models.data_requests import DataRequest
from plugin.models.earning import CachedProduct, EarningRuleRecord
from plugin.models.leases import Lease
from plugin.models.ledger import EntryKind, LedgerEntry
from plugin.models.member_events import MemberEvent, MemberEventKind
from plugin.models.members import Member
from plugin.models.orders import OrderRecord, RefundRecord
from plugin.models.rewards import Redemption, RedemptionStatus, Reward, RewardKind
from plugin.models.shops import OAuthState, Program, Shop
from plugin.models.tiers import MemberTierTotal, Tier
from plugin.models.webhook_events import EventStatus, WebhookEvent

__all__ = [
    "CachedProduct", "DataRequest", "EarningRuleRecord", "EntryKind", "EventStatus", "Lease", "LedgerEntry", "Member", "MemberEvent", "MemberEventKind", "OAuthState", "OrderRecord", "Program",
    "Redemption", "RedemptionStatus", "RefundRecord", "Reward", "RewardKind", "Shop", "WebhookEvent",
    "MemberTierTotal", "Tier",
]
