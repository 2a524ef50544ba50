"""The columns an import reads: the generic names, and the presets for other apps' exports.

A preset only renames: for each generic field, the header names (lower case) that the
app's documented export uses for it; the first one the file has wins. Sources of each
layout are listed in the README ("Moving in from another loyalty app").
"""
FORMATS = ("generic", "smile", "loyaltylion", "yotpo", "rivo", "growave")
REQUIRED = {"balances": ("points",), "history": ("points", "created_at")}
IDENTITY = ("customer_id", "email")

# field -> header names, per preset; a field a preset does not name keeps its generic name.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {},
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
