"""What points buy: the rewards catalog, redemptions, and the discount codes behind both.

- `catalog`: a shop's rewards, validated field by field (`/api/rewards`).
- `redemptions`: points become a single-use code, never spent twice or lost; its
  `call_platform` makes one code and sorts the answer, and referral welcome codes reuse it.
- `redeeming`: the use case the panel's API and the storefront both call, with its two
  transactions; a refusal carries a `Refusal` reason that each edge says its own way.
- `store_credit` (with `credit_intent`): a `store_credit` reward credits the shopper's
  store credit account instead of making a code, read back before any second send.
- `tier_perks`: a tier's perk reward as a customer segment and an automatic discount.
- `within_reach`: which rewards a balance reaches, for the storefront.
"""
