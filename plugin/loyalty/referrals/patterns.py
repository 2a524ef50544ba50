"""Suspicious referral patterns for the Referrals page: what a person should look at.

Three patterns, each over the shop's referrals of the last WINDOW:
- one shopper's address asking for codes for many friends (the per-address limit caps a day,
  not a month);
- a link whose codes are never used (emails made up to collect codes);
- friends' orders that share a device address, shipping address or card (the payload's
  marks, kept as digests when the referral completed or was rejected): one person ordering
  as several "friends".
None of these is proof; the page lists them with the referrals they involve.
"""
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import Member, Referral, ReferralStatus

WINDOW = timedelta(days=90)
MANY_FROM_ONE_ADDRESS = 3
UNUSED_AFTER = timedelta(days=14)
MANY_UNUSED = 3
ROWS = 5000  # the newest referrals looked at
MARK_KINDS = {"device": "device address", "shipping": "shipping address", "card": "card"}


def suspicious_patterns(session: Session, shop_id: int, now: datetime) -> dict:
    """{"addresses": [...], "unused_codes": [...], "shared_marks": [...]}, newest first."""
    rows = session.execute(select(Referral, Member).join(Member, Member.id == Referral.referrer_id).where(
        Referral.shop_id == shop_id, Referral.created_at >= now - WINDOW,
        Referral.status != ReferralStatus.CREATING).order_by(Referral.id.desc()).limit(ROWS)).all()
    return {"addresses": _many_from_one_address(rows), "unused_codes": _unused_codes(rows, now),
            "shared_marks": _shared_marks(rows)}


def _name(member: Member) -> str:
    return " ".join(filter(None, (member.first_name, member.last_name))) or member.email or str(member.customer_id)


def _many_from_one_address(rows) -> list[dict]:
    by_address = defaultdict(list)
    for referral, referrer in rows:
        if referral.client_address:
            by_address[referral.client_address].append((referral, referrer))
    return [{"address": address, "friends": len(found), "referrers": sorted({_name(m) for _, m in found}),
             "used": sum(r.status is ReferralStatus.COMPLETED for r, _ in found),
             "referral_ids": [r.id for r, _ in found]}
            for address, found in by_address.items() if len(found) >= MANY_FROM_ONE_ADDRESS]


def _unused_codes(rows, now: datetime) -> list[dict]:
    by_referrer, names = defaultdict(list), {}
    for referral, referrer in rows:
        if referral.status is ReferralStatus.CODE_ISSUED and referral.created_at <= now - UNUSED_AFTER:
            by_referrer[referrer.customer_id].append(referral)
            names[referrer.customer_id] = _name(referrer)
    return [{"referrer_customer_id": str(customer), "referrer_name": names[customer], "unused": len(found),
             "referral_ids": [r.id for r in found]}
            for customer, found in by_referrer.items() if len(found) >= MANY_UNUSED]


def _shared_marks(rows) -> list[dict]:
    by_mark = defaultdict(list)
    for referral, referrer in rows:
        for mark in referral.friend_marks or ():
            by_mark[mark].append((referral, referrer))
    found = []
    for mark, shared in by_mark.items():
        friends = {referral.email_key for referral, _ in shared}
        if len(friends) >= 2:
            found.append({"kind": MARK_KINDS.get(mark.partition(":")[0], "mark"), "friends": len(friends),
                          "referrers": sorted({_name(m) for _, m in shared}),
                          "referral_ids": sorted(r.id for r, _ in shared)})
    return found
