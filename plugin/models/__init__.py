"""The schema, split by domain; importing this package registers every table on `Base`."""
from plugin.models.api_keys import ApiKey, ApiKeyWrite, KeyScope
from plugin.models.churn import ChurnCheck
from plugin.models.data_requests import DataRequest
from plugin.models.dev_platform import DevPlatformRecord, DevRecordKind
from plugin.models.earning import CachedCollection, CachedProduct, EarningRuleRecord
from plugin.models.event_subscriptions import DeliveryAttempt, DeliveryStatus, EventDelivery, EventSubscription
from plugin.models.flow import FlowActionRun, FlowTrigger, FlowTriggerUsage, TriggerStatus
from plugin.models.imports import Import, ImportRow, ImportStatus
from plugin.models.leases import Lease
from plugin.models.ledger import EntryKind, LedgerEntry
from plugin.models.lots import LotUse, PointLot
from plugin.models.member_events import MemberEvent, MemberEventKind
from plugin.models.members import Member
from plugin.models.orders import OrderRecord, RefundRecord
from plugin.models.reconciliations import ReconciliationRun
from plugin.models.referrals import Referral, ReferralStatus
from plugin.models.rewards import Redemption, RedemptionStatus, Reward, RewardKind
from plugin.models.shops import OAuthState, Program, Shop
from plugin.models.store_sync import StoreSync
from plugin.models.tiers import MemberTierTotal, Tier
from plugin.models.webhook_events import EventStatus, WebhookEvent

__all__ = [
    "ChurnCheck",
    "ApiKey",
    "ApiKeyWrite",
    "CachedCollection",
    "CachedProduct",
    "DataRequest",
    "DeliveryAttempt",
    "DeliveryStatus",
    "DevPlatformRecord",
    "DevRecordKind",
    "EarningRuleRecord",
    "EntryKind",
    "EventDelivery",
    "EventStatus",
    "EventSubscription",
    "FlowActionRun",
    "FlowTrigger",
    "FlowTriggerUsage",
    "Import",
    "ImportRow",
    "ImportStatus",
    "KeyScope",
    "Lease",
    "LedgerEntry",
    "LotUse",
    "Member",
    "MemberEvent",
    "MemberEventKind",
    "MemberTierTotal",
    "OAuthState",
    "OrderRecord",
    "PointLot",
    "ReconciliationRun",
    "Program",
    "Redemption",
    "RedemptionStatus",
    "Referral",
    "ReferralStatus",
    "RefundRecord",
    "Reward",
    "RewardKind",
    "Shop",
    "StoreSync",
    "Tier",
    "TriggerStatus",
    "WebhookEvent",
]
