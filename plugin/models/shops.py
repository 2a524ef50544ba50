"""A shop (one installed store) with its credentials, and its loyalty program settings."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.db import Base, ExactDecimal, Id, UTCDateTime, utcnow


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    currency: Mapped[str | None] = mapped_column(String(3))
    # The shop's IANA zone (shop/update, or a shop query at install): business dates are read in it.
    iana_timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Offline Admin API credentials, Fernet-encrypted (plugin/shopify/tokens.py); NULL when not installed.
    access_token: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(String(1000))
    # Set while one worker refreshes the token (plugin/shopify/tokens.py); a crash lets it lapse.
    token_refresh_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The platform's segment of customers without orders, made once: welcome codes name it as
    # their context, so a customer who has ordered cannot use one (plugin/loyalty/referrals/friends.py).
    new_customers_segment_id: Mapped[str | None] = mapped_column(String(255))

    program: Mapped["Program"] = relationship(back_populates="shop", uselist=False)


class Program(Base):
    """The per-shop earning rules; SPEC's defaults live in the column defaults."""

    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint("points_per_currency_unit >= 0", name="rate_not_negative"),
        CheckConstraint("signup_bonus >= 0", name="signup_bonus_not_negative"),
    )

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    points_per_currency_unit: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal("1"))
    signup_bonus: Mapped[int] = mapped_column(default=0)
    excluded_order_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_gift_cards: Mapped[bool] = mapped_column(default=True)
    award_test_orders: Mapped[bool] = mapped_column(default=False)
    # Whether an unused code that expires gives its points back.
    return_points_on_expiry: Mapped[bool] = mapped_column(default=True)
    # The points lifecycle (SPEC "Pending points and expiry").
    pending_days: Mapped[int] = mapped_column(default=0, server_default="0")
    expiry_policy: Mapped[str] = mapped_column(String(16), default="never", server_default="never")
    expiry_months: Mapped[int | None] = mapped_column()
    expiry_reminder_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # Referrals and birthdays (SPEC "Referrals", "Birthdays"); 0 points means off. The friend's
    # reward is checked when set and again when a code is made (it may be retired since).
    referral_points: Mapped[int] = mapped_column(default=0)
    referral_reward_id: Mapped[int | None] = mapped_column(Id)
    birthday_bonus: Mapped[int] = mapped_column(default=0)
    # Whether balances and tiers are written to the store's customers (metafields, tags).
    store_sync_enabled: Mapped[bool] = mapped_column(default=True)
    # VIP tiers (plugin/loyalty/tiers/): what qualifies (points_earned, amount_spent) and over what window.
    tier_basis: Mapped[str] = mapped_column(String(16), default="points_earned", server_default="points_earned")
    tier_window: Mapped[str] = mapped_column(String(24), default="calendar_year", server_default="calendar_year")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="program")


class OAuthState(Base):
    """A one-time `state` nonce of an install in progress; consumed by the callback."""

    __tablename__ = "oauth_states"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
