"""Points for what members do besides ordering: bringing a friend, having a birthday.

- `friends`: a friend's welcome code, and the friend's first paid order paying the member.
- `listing`: the shop's referrals read back for the panel.
- `birthdays`: the birthday a shopper or merchant saves, and tick's bonus.
"""
