"""Imports from another loyalty app: the file's preview, and its rows as matched to members.

An `Import` is one uploaded file (its SHA-256 `digest`, so the same bytes are known again),
previewed first and applied or reverted later; `ImportRow` keeps each readable, matched row
between the preview and the apply, so the file itself is never kept. `applied_digest` is the
digest while the import is applied and NULL otherwise: the unique (shop, applied_digest)
lets the database refuse the same bytes applied twice, even by two requests at once.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, Points, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class ImportStatus(enum.Enum):
    FETCHING = "fetching"  # past orders: the store's bulk operation runs, then the preview
    FAILED = "failed"  # past orders: the bulk operation failed (`errors` says why)
    PREVIEWED = "previewed"
    APPLYING = "applying"  # the apply job is at work, a batch of customers per transaction
    APPLIED = "applied"
    REVERTED = "reverted"


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (
        UniqueConstraint("shop_id", "applied_digest", name="uq_imports_applied_digest"),
        Index("ix_imports_shop", "shop_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # balances | history
    format: Mapped[str] = mapped_column(String(16))
    status: Mapped[ImportStatus] = mapped_column(stored_by_value(ImportStatus))
    digest: Mapped[str] = mapped_column(String(64))
    applied_digest: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    members_matched: Mapped[int] = mapped_column(Integer, default=0)
    members_new: Mapped[int] = mapped_column(Integer, default=0)
    points_total: Mapped[int] = mapped_column(Points, default=0)
    # The apply's progress: rows applied so far, of `rows` (SPEC "imports", large files).
    rows_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The first errors [{row, field, message}] (at most MAX_ERRORS) and how many there were.
    errors: Mapped[list] = mapped_column(JSON, default=list)
    errors_total: Mapped[int] = mapped_column(Integer, default=0)
    # Past orders (kind `orders`): the orders processed at or after `since`, read through the
    # store's bulk operation `bulk_operation_id` (plugin/shopify/bulk_orders.py).
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bulk_operation_id: Mapped[str | None] = mapped_column(String(100))
    # What the revert could not take back because it was already spent.
    not_reverted: Mapped[int | None] = mapped_column(Points)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportRow(Base):
    """One row of the file, matched: a customer (a member now, or made one at the apply).

    Kept only between the preview and the apply (the apply deletes them: the ledger then
    holds what they said); customers/redact deletes a customer's rows, shop/redact all."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_import", "import_id", "customer_id", "row"),
                      Index("ix_import_rows_customer", "shop_id", "customer_id"))

    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)  # the file's row, header = 1
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    points: Mapped[int] = mapped_column(Points)
    earned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_id: Mapped[int | None] = mapped_column(Id)
    birthday: Mapped[str | None] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The file's `external_id`, so the database finds one repeated (the preview keeps no set).
    external_id: Mapped[str | None] = mapped_column(String(64))
    # Past orders: the order as the order webhooks carry it, applied as `orders/paid` would be.
    payload: Mapped[dict | None] = mapped_column(JSON)
