"""Customer data requests (`customers/data_request`): the export the merchant fetches."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow


class DataRequest(Base):
    __tablename__ = "data_requests"
    __table_args__ = (UniqueConstraint("shop_id", "request_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # The platform's data_request.id, so a redelivery does not make a second export.
    request_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    export: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
