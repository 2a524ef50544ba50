"""Earning rules a shop set up, and the product cache that rules on product facts read.

A rule is never deleted: its entries' breakdowns name it, so DELETE deactivates it. The
product cache holds what order lines do not carry (type, tags, collections), fed by the
products/* webhooks and filled on demand from the Admin API (webhooks/products.py); the
collections' titles, for the rule editor, are a copy refreshed from the Admin API.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, ExactDecimal, Id, UTCDateTime, utcnow


class EarningRuleRecord(Base):
    __tablename__ = "earning_rules"
    __table_args__ = (
        CheckConstraint("kind IN ('multiplier', 'bonus_points')", name="kind_known"),
        CheckConstraint("points IS NULL OR points > 0", name="points_positive"),
        Index("ix_earning_rules_shop", "shop_id", "active"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    match_field: Mapped[str] = mapped_column(String(32))
    match_value: Mapped[str | None] = mapped_column(String(255))
    multiplier: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    points: Mapped[int | None] = mapped_column()
    per: Mapped[str | None] = mapped_column(String(16))
    min_subtotal: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CachedProduct(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "product_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    product_type: Mapped[str | None] = mapped_column(String(255))
    vendor: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    collection_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Set when products/delete arrives: an order of a deleted product still reads its last facts.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When these facts were last read from the platform (webhook or look-up); older than a
    # day, they are refreshed before they decide points.
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The platform's `updated_at` of the facts held: webhooks arrive out of order, and an
    # older delivery must not overwrite newer facts. NULL: the platform did not say.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When collection_ids was last read (a look-up; the REST product webhook does not carry
    # collections). NULL: never, so a rule on collections needs a look-up first.
    collections_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CachedCollection(Base):
    """A collection of the store, by id and title, as the rule editor offers it
    (plugin/loyalty/rules/collection_names.py); replaced whole when refreshed."""

    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("shop_id", "collection_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    collection_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
