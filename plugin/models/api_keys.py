"""API keys for the merchant's own scripts, and the trail of what each key wrote.

A key is stored as the SHA-256 of its text only: the text is shown once, at creation, and
cannot be recovered from the database. A plain hash (not a slow password hash) is enough
because the text is 32 random bytes, not a guessable password, and it lets a request find
its key with one indexed lookup. Revoking keeps the row (`revoked_at`), so the trail still
names the key that wrote.
"""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class KeyScope(enum.Enum):
    READ = "read"
    WRITE = "write"


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_shop", "shop_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[KeyScope] = mapped_column(stored_by_value(KeyScope))
    # Hex SHA-256 of the key's text (see the module docstring).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Kept to the minute, not per request (plugin/api_keys/store.py `touch`).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyWrite(Base):
    """One write request a key made that succeeded: the audit trail of keys."""

    __tablename__ = "api_key_writes"
    __table_args__ = (Index("ix_api_key_writes_shop", "shop_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    # The key's name when it wrote, so the trail reads on its own.
    key_name: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
