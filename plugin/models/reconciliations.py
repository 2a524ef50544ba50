"""Reconciliation runs: one row per shop per run, what it asked the platform and what it healed.

The shop's watermark is the `until` of its latest run that applied everything it read; a run
that failed, or left orders waiting for product facts, keeps `until` NULL, so the next run
asks again from the same point.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow


class ReconciliationRun(Base):
    __tablename__ = "reconciliation_runs"
    __table_args__ = (Index("ix_reconciliation_runs_shop", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Orders updated from `since` were asked for; `until` is the next run's `since`.
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    orders_read: Mapped[int] = mapped_column(default=0)
    # What the webhooks had missed and this run applied.
    missed_orders: Mapped[int] = mapped_column(default=0)
    refunds: Mapped[int] = mapped_column(default=0)
    cancellations: Mapped[int] = mapped_column(default=0)
    # Orders left for the next run: waiting for product facts, or too large for one page.
    left: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
