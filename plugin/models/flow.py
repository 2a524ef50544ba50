"""Shopify Flow: which triggers each shop uses, the trigger calls owed, and the action runs done.

- `flow_trigger_usage`: what Flow's lifecycle callbacks said, per (shop, trigger handle): a
  trigger is fired only for shops with an enabled workflow that uses it (SHOPIFY.md "Shopify
  Flow"; Flow's own advice), so a shop without Flow costs no Admin API call.
- `flow_triggers`: the outbox of `flowTriggerReceive` calls, written in the transaction that
  recorded the member event (or the points earned) it carries; (shop, handle, key) is unique,
  so a change recorded twice is fired once. The sender retries with backoff until sent.
- `flow_action_runs`: one row per Flow `action_run_id` the app answered, with that answer, so
  a request Flow sends again (it retries on a timeout or a 5xx) is applied once and answered alike.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class TriggerStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class FlowTriggerUsage(Base):
    __tablename__ = "flow_trigger_usage"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Flow's `timestamp` of the callback this row holds: an older callback arriving late is ignored.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FlowTrigger(Base):
    __tablename__ = "flow_triggers"
    __table_args__ = (
        UniqueConstraint("shop_id", "handle", "key", name="uq_flow_triggers_key"),
        Index("ix_flow_triggers_due", "status", "next_attempt_at"),
        Index("ix_flow_triggers_shop", "shop_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(160))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[TriggerStatus] = mapped_column(stored_by_value(TriggerStatus), default=TriggerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FlowActionRun(Base):
    __tablename__ = "flow_action_runs"
    __table_args__ = (UniqueConstraint("shop_id", "action_run_id", name="uq_flow_action_runs_run"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    action_run_id: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(String(64))
    # The answer given (HTTP status and JSON body), given again to a replay of the same run.
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict] = mapped_column(JSON)
    # The ledger entry the run made, if it made one.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
