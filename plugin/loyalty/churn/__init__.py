"""Churn risk: each member's silence against their own rhythm of ordering (RFM-style).

- `recency`: the definitions (usual gap, days since the last order, `active` / `at_risk` /
  `lapsed`) as one SQL expression per figure, for any number of shops at once.
- `win_back`: the At-risk list (members at risk or lapsed who still hold points), a page at a
  time or streamed as CSV.
- `crossings`: the tick's step that raises `member_at_risk` once per crossing.
"""
