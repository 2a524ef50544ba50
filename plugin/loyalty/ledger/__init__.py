"""The points ledger: the only place where points move.

Design
- An entry is one signed change of one member's points, with the business event that caused
  it (`kind`), the id of its source and a readable reason. Entries are never edited; a
  correction is another entry (the migration adds a trigger that refuses UPDATE).
- `members.balance` and `members.lifetime_earned` are kept in the same transaction as the
  entry that changes them, with `balance = balance + delta` so concurrent writers add up
  instead of overwriting. `verify-ledger` checks that every balance equals its entries' sum.
- Idempotency rests on business keys, not on webhook ids: one `orders` row per order (its
  `earned_points` set once), one `refunds` row per refund, and the unique
  (shop, kind, source_id) on entries as the database's last word.
- Order of arrival does not matter. A refund or cancellation for an order that has not
  earned yet is recorded and applied when the award happens; each reversal takes at most
  what the order still holds (the sum of its entries), so the final balance is
  award - min(award, refunds), or 0 once cancelled, whatever the order of events.
- Locks: every change that concerns an order first locks that order's row (FOR UPDATE on
  PostgreSQL; on SQLite every writing transaction holds the database's write lock from its
  BEGIN IMMEDIATE, see plugin/db.py), then the member's row through its UPDATE. Always in
  that order, so two jobs cannot deadlock on one order and member.
- Spending never trusts a caller's read: `spend_points` moves the balance with
  `WHERE balance >= points` and the row count decides. Reversals (refunds, cancellations,
  a code used after its points came back) may go below zero, so they use `posting.post`.

Modules
- `posting`: the private primitives (one entry with its totals and lots); only this package uses them.
- `lots`: which points a member holds and since when (earned, used, returned, expired).
- `orders`: a paid order's award, refunds and cancellations taken back.
- `bonuses`: signup, referral and birthday bonuses, and adjustments.
- `spending`: a redemption's spend, its return, a lapsed code's points spent again.
- `expiry`: pending points released, `fifo` and `inactivity` expiry.
- `expiry_dates`, `lifecycle`: when points expire, and the tick's steps that call `expiry`.
- `verification`: `verify-ledger`.
"""
