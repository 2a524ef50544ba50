"""What the development platform (admin_ui/dev) was sent, kept so it survives a restart.

Development only (SPEC "Trying it without a store"). One row per thing the real platform
would keep for the development shop: an access or refresh token it issued (by SHA-256, never
the token itself), a discount code, a customer metafield, a customer's tags, a Flow trigger call,
a store credit transaction, a customer segment, an automatic discount. (shop, kind,
key) is unique, so a code sent twice is TAKEN, as on the platform, and a metafield written
again is replaced.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class DevRecordKind(enum.Enum):
    ACCESS_TOKEN = "access_token"
    REFRESH_TOKEN = "refresh_token"
    DISCOUNT_CODE = "discount_code"
    METAFIELD = "metafield"
    CUSTOMER_TAGS = "customer_tags"
    ORDER = "order"  # an order /dev sent, as the store keeps it (admin_ui/dev/store_orders.py)
    FLOW_TRIGGER = "flow_trigger"  # a flowTriggerReceive call (admin_ui/dev/flow.py)
    STORE_CREDIT = "store_credit"  # a store credit transaction (admin_ui/dev/store_credit.py)
    SEGMENT = "segment"
    AUTOMATIC_DISCOUNT = "automatic_discount"


class DevPlatformRecord(Base):
    __tablename__ = "dev_platform_records"
    __table_args__ = (UniqueConstraint("shop_domain", "kind", "key", name="uq_dev_platform_records_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    kind: Mapped[DevRecordKind] = mapped_column(stored_by_value(DevRecordKind))
    key: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
