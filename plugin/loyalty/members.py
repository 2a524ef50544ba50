"""Members: creating them as webhooks name customers, keeping their profile current, reading them.

Every read takes the shop id first, so no caller can reach another shop's member by
guessing a customer id.
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.ids import is_unicode_text, parse_id
from plugin.loyalty.churn.recency import members_at_risk
from plugin.loyalty.fields import InvalidFields
from plugin.models import LedgerEntry, Member, Shop, Tier

PAGE_SIZE = 50
MEMBERS = Member.__table__
# Five million members deep; past it the OFFSET would only scan, and near 2**63 / 50 it
# overflows the database's 64-bit integer (a 500 before this bound).
MAX_PAGE = 100_000
MAX_QUERY = 320  # the longest email a member can have
# How a member listing can be ordered: biggest (or latest, or highest tier) first; ties newest first.
SORTS = ("newest", "balance", "lifetime", "last_activity", "tier")


def ensure_member(session: Session, shop_id: int, customer_id: int, email: str | None = None) -> int:
    """The member's id, creating it with no points (points move only in the ledger, plugin/loyalty/ledger/)."""
    stmt = insert_for(session, MEMBERS).values(shop_id=shop_id, customer_id=customer_id, email=email, balance=0,
                                               lifetime_earned=0)
    session.execute(stmt.on_conflict_do_update(index_elements=["shop_id", "customer_id"],
                                               set_={"email": email_once_known(stmt)}))
    return member_id(session, shop_id, customer_id)


def email_once_known(stmt):
    """The upsert's email: an order's email fills an empty one but never overwrites what
    customers/update set, and never comes back to a member whose profile customers/redact
    removed."""
    return case((MEMBERS.c.redacted_at.is_(None), func.coalesce(MEMBERS.c.email, stmt.excluded.email)),
                else_=MEMBERS.c.email)


def update_profile(session: Session, shop_id: int, customer_id: int, email: str | None,
                   first_name: str | None, last_name: str | None, updated_at: datetime | None) -> int:
    """Create or refresh the member's profile; an older payload than the stored one loses,
    and so does every payload once customers/redact removed the profile."""
    table = Member.__table__
    values = dict(email=email, first_name=first_name, last_name=last_name, profile_updated_at=updated_at)
    stmt = insert_for(session, table).values(shop_id=shop_id, customer_id=customer_id, balance=0,
                                             lifetime_earned=0, **values)
    newer = or_(table.c.profile_updated_at.is_(None), stmt.excluded.profile_updated_at.is_(None),
                table.c.profile_updated_at <= stmt.excluded.profile_updated_at)
    stmt = stmt.on_conflict_do_update(index_elements=["shop_id", "customer_id"], set_=values,
                                      where=newer & table.c.redacted_at.is_(None))
    session.execute(stmt)
    return member_id(session, shop_id, customer_id)


def member_id(session: Session, shop_id: int, customer_id: int) -> int | None:
    return session.scalar(select(Member.id).where(Member.shop_id == shop_id, Member.customer_id == customer_id))


def get_member(session: Session, shop_id: int, customer_id: int) -> Member | None:
    return session.scalar(select(Member).where(Member.shop_id == shop_id, Member.customer_id == customer_id))


@dataclass(frozen=True)
class Standing:
    """A shopper's figures as the theme's launcher shows them on every page of the store."""

    balance: int
    pending: int
    lifetime_earned: int
    tier_name: str | None
    tier_multiplier: Decimal | None


def standing(session: Session, shop_domain: str, customer_id: int) -> Standing | None:
    """The member's figures and the tier they hold, from the shop's domain, in one statement
    and no loaded rows: the launcher asks on every page view. None for an unknown shop or
    member. The tier is the one recorded on the member, deleted or not, as member JSON names it."""
    row = session.execute(
        select(Member.balance, Member.pending, Member.lifetime_earned, Tier.name, Tier.multiplier)
        .join(Shop, Shop.id == Member.shop_id)
        .outerjoin(Tier, (Tier.id == Member.tier_id) & (Tier.shop_id == Member.shop_id))
        .where(Shop.domain == shop_domain, Member.customer_id == customer_id)).first()
    return None if row is None else Standing(*row)


def parse_search(query: str, page: str, sort: str = "newest") -> tuple[str, int, str]:
    """The search text, page number and order of a member listing; InvalidFields names a bad one."""
    errors, number, query = {}, parse_id(page), query.strip()
    if not number or number > MAX_PAGE:
        errors["page"] = f"must be a whole number from 1 to {MAX_PAGE}"
    # PostgreSQL refuses NUL in any text parameter; SQLite would answer, so refuse it on both.
    if len(query) > MAX_QUERY or "\x00" in query or not is_unicode_text(query):
        errors["query"] = f"must be text of up to {MAX_QUERY} characters, without NUL characters"
    if sort not in SORTS:
        errors["sort"] = f"must be one of {', '.join(SORTS)}"
    if errors:
        raise InvalidFields(errors)
    return query, number, sort


def search_members(session: Session, shop_id: int, query: str = "", page: int = 1, tier_id: int | None = None,
                   sort: str = "newest", with_pending: bool = False,
                   at_risk_on: date | None = None) -> tuple[list[Member], int]:
    """One page of the shop's members matching `query` (email, name or customer id), holding
    tier `tier_id` if given and pending points if asked, at risk on the day `at_risk_on` if
    given (plugin/loyalty/churn/recency.py), in the order `sort` names; and the total."""
    where = [Member.shop_id == shop_id]
    if tier_id is not None:
        where.append(Member.tier_id == tier_id)
    if with_pending:
        where.append(Member.pending > 0)
    if at_risk_on is not None:
        where.append(Member.id.in_(members_at_risk(shop_id, at_risk_on)))
    if query:
        pattern = f"%{query.lower()}%"
        first, last = func.coalesce(Member.first_name, ""), func.coalesce(Member.last_name, "")
        # A full name is typed in either order: "Grace Hopper" and "Hopper Grace" both find her.
        matches = [func.lower(Member.email).like(pattern), func.lower(first + " " + last).like(pattern),
                   func.lower(last + " " + first).like(pattern)]
        if parse_id(query) is not None:
            matches.append(Member.customer_id == parse_id(query))
        where.append(or_(*matches))
    total = session.scalar(select(func.count()).select_from(Member).where(*where))
    order = _tier_rank(session, shop_id) if sort == "tier" else _ORDERS[sort]
    rows = session.scalars(select(Member).where(*where).order_by(*order, Member.id.desc())
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return list(rows), total


# Members without any activity come last, on both backends (NULLs sort differently).
_ORDERS = {
    "newest": (),
    "balance": (Member.balance.desc(),),
    "lifetime": (Member.lifetime_earned.desc(),),
    "last_activity": (Member.last_activity_at.is_(None), Member.last_activity_at.desc()),
}


def _tier_rank(session: Session, shop_id: int) -> tuple:
    """Highest tier first, members without one last: the shop's few tiers ranked by their
    threshold here, in Decimal (SQLite keeps exact decimals as text, which sorts as text)."""
    tiers = session.execute(select(Tier.id, Tier.threshold).where(Tier.shop_id == shop_id)).all()
    rank = {tier.id: place for place, tier in enumerate(sorted(tiers, key=lambda tier: tier.threshold), 1)}
    return (case(rank, value=Member.tier_id, else_=0).desc(),) if rank else ()


def recent_entries(session: Session, member: Member, limit: int = 50) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member.id)
                                .order_by(LedgerEntry.id.desc()).limit(limit)))


def member_summary(member: Member) -> dict:
    """A member as the API shows it; ids travel as strings (64-bit ids break JS numbers)."""
    return {
        "customer_id": str(member.customer_id),
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "balance": member.balance,
        "pending": member.pending,
        "lifetime_earned": member.lifetime_earned,
        "tier": None,
        "redacted": member.redacted_at is not None,
        "referral_code": member.referral_code,
        "birthday": member.birthday,
        "created_at": member.created_at.isoformat(),
    }


def entry_json(entry: LedgerEntry) -> dict:
    return {
        "id": entry.id,
        "delta": entry.delta,
        "kind": entry.kind.value,
        "reason": entry.reason,
        "source": {"type": entry.kind.source, "id": entry.source_id},
        "order_id": None if entry.order_id is None else str(entry.order_id),
        # An award's explanation: what the base rate, each rule and the tier gave (sums to delta).
        "breakdown": entry.breakdown,
        "created_at": entry.created_at.isoformat(),
    }
