"""VIP tiers (SPEC "Tiers"): what a member's orders qualify them for, and what it multiplies.

- `definitions`: the shop's tiers, validated field by field (`/api/tiers`).
- `ladder`: the pure ranking of tiers against a qualifying total.
- `totals`: the per-member qualifying figures, booked beside the ledger's order entries.
- `standing`: moving members between tiers, with a `tier_changed` event per move.
- `ordering`: the tier multiplier of a batch of orders, and promotion as they are awarded.
- `review`: the tick step (demotion, window roll-over, changed or deleted tiers, paid expiry).
- `views`: tier and progress in the member JSON, the preview, members per tier.
- `perk_rules`: what a tier's perk may be and marking it for the store (synced by
  plugin/loyalty/rewards/tier_perks.py).
"""
