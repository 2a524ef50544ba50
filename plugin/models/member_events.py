"""Member events: every notable change for a member, recorded once (SPEC "Member events").

An event's `key` names the change it records (the tier change of one tick, the reminder for
one expiry date, the referral of one order, ...); (shop, kind, key) is unique, so a tick or
a job that runs twice records nothing new. The table is also the outbox the event
deliveries read from.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class MemberEventKind(enum.Enum):
    TIER_CHANGED = "tier_changed"
    POINTS_EXPIRING = "points_expiring"
    POINTS_EXPIRED = "points_expired"
    REFERRAL_COMPLETED = "referral_completed"
    BIRTHDAY_BONUS = "birthday_bonus"
    REWARD_ISSUED = "reward_issued"
    MEMBER_AT_RISK = "member_at_risk"


class MemberEvent(Base):
    __tablename__ = "member_events"
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "key", name="uq_member_events_key"),
        Index("ix_member_events_shop", "shop_id", "id"),
        Index("ix_member_events_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[MemberEventKind] = mapped_column(stored_by_value(MemberEventKind))
    key: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
