"""The day each shop's members were last checked for crossings into `at_risk`.

A member's days since the last order grow only at midnight in the shop's zone, so the tick
looks for crossings once per business day (plugin/loyalty/churn/crossings.py), not every
five minutes; this row says which day that was.
"""
from datetime import date

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base


class ChurnCheck(Base):
    __tablename__ = "churn_checks"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    checked_on: Mapped[date] = mapped_column()
