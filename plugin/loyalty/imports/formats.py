"""The columns an import reads: the generic names, and the presets for other apps' exports.

A preset only renames: for each generic field, the header names (lower case) that the
app's documented export uses for it; the first one the file has wins. Sources of each
layout are listed in the README ("Moving in from another loyalty app").
"""
FORMATS = ("generic", "smile", "loyaltylion", "yotpo", "rivo", "growave")
REQUIRED = {"balances": ("points",), "history": ("points", "created_at")}
IDENTITY = ("customer_id", "email")

# field -> header names, per preset; a field a preset does not name keeps its generic name.
# Only the columns each app documents; the sources are in the README.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {},
    # Smile: Customers > Filter and export (Email, Points balance, VIP tier); its API's
    # `date_of_birth` is YYYY-MM-DD with year 1004 when only the day is known.
    "smile": {"email": ("email",), "points": ("points balance", "points"), "tier": ("vip tier",),
              "birthday": ("date of birth", "birthday")},
    # LoyaltyLion: Analytics > Exports > Customers; column names can be renamed there, so the
    # usual ones are accepted (Shopify ID, approved points, tier, birthday).
    "loyaltylion": {"customer_id": ("shopify id", "merchant id", "customer id"), "email": ("email",),
                    "points": ("approved points", "points approved", "points balance", "points"),
                    "tier": ("tier", "current tier"), "birthday": ("birthday", "date of birth")},
    # Yotpo Loyalty & Referrals: Email, Points Balance, Birthday (MM/DD or MM/DD/YYYY), VIP Tier.
    "yotpo": {"email": ("email", "email address"), "points": ("points balance", "current points balance"),
              "tier": ("vip tier",), "birthday": ("birthday (mm/dd) or (mm/dd/yyyy)", "birthday")},
    # Rivo: loyalty data (Email, Points Balance, Birthdate, VIP Tier, ...) and points logs
    # (customer_id or email, points_amount, applied_at, external_note, internal_note).
    "rivo": {"customer_id": ("customer_id", "customer id", "customerid", "shopify customer id"),
             "email": ("email", "customer_email", "customer email", "shopify customer email"),
             "points": ("points balance", "points_amount", "points amount"), "tier": ("vip tier",),
             "birthday": ("birthdate",), "created_at": ("applied_at",), "reason": ("external_note", "internal_note")},
    # Growave: Customer ID, Email, Points, First Name, Last Name, Birthdate (YYYY-MM-DD).
    "growave": {"customer_id": ("customer id",), "email": ("email",), "points": ("points",),
                "birthday": ("birthdate",)},
}


def columns(fmt: str) -> dict[str, tuple[str, ...]]:
    return PRESETS.get(fmt, {})


def rename(header: list[str], fmt: str) -> dict[str, str]:
    """{generic field: the file's header name} for the fields this file has."""
    aliases, names = columns(fmt), set(header)
    found = {}
    for field in ("customer_id", "email", "points", "earned_at", "created_at", "tier", "birthday", "reason",
                  "external_id"):
        for name in aliases.get(field, (field,)):
            if name in names:
                found[field] = name
                break
    return found


def missing_columns(found: dict[str, str], kind: str, fmt: str) -> list[str]:
    """What the header lacks, named as the format names it."""
    missing = [columns(fmt).get(field, (field,))[0] for field in REQUIRED[kind] if field not in found]
    if not any(field in found for field in IDENTITY):
        missing.append(" or ".join(columns(fmt).get(field, (field,))[0] for field in IDENTITY))
    return missing
