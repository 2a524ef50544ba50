"""The loyalty domain. It never imports the web edges (`admin_ui`, `webhooks`,
`plugin.storefront`); they parse a request, call one use case here and present its answer.

The root holds what every feature shares, and the use cases that cross features:
- `shops`, `shop_facts`, `members`, `programs` (with `program_preview`), `fields`;
- `orders`: an order paid, created, refunded or cancelled, as the webhooks report it;
  `signups`: a customer joining, with the signup bonus;
- `privacy`: the compliance duties; `tick`: every time-driven step at one moment.

Each feature is a package that says what it owns: `earning/` (the pure arithmetic),
`ledger/` (the only place points move), `rules/`, `rewards/`, `tiers/`, `referrals/`,
`events/` and `analytics/`.
"""
