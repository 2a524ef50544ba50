"""What the store has been told about each member: `loyalty.points`, `loyalty.tier` and the tier tag.

A row is marked `pending` (and its `version` bumped) in the transaction that changes the
member: by database triggers on `members.balance` (migration 0015), so every way points
move, today's and tomorrow's, is seen without a hook in each ledger function, and by
plugin/loyalty/events/member_events.py when a `tier_changed` event is recorded. The sync job
(plugin/loyalty/events/store_sync.py) writes the latest figures and clears `pending` only if
`version` did not move meanwhile, so a change made during a write is written next time.
`points`, `tier` and `tag_tier` are what the store holds, which makes writes idempotent
and tags change only when the tier does.
"""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, UTCDateTime


class StoreSync(Base):
    __tablename__ = "store_sync"
    __table_args__ = (Index("ix_store_sync_pending", "pending", "shop_id"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    points: Mapped[int | None] = mapped_column(BigInteger)
    tier: Mapped[str | None] = mapped_column(String(255))
    tag_tier: Mapped[str | None] = mapped_column(String(255))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
