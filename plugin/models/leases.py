"""Leases: one holder at a time for work that must not run twice at once (the tick).

A lease is taken with one conditional UPDATE and lapses on its own, so a holder that dies
half-way never blocks the next one for longer than the lease.
"""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, UTCDateTime


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
