"""Which rewards a balance reaches now, and the nearest one it does not yet: what the
shopper's launcher shows beside the balance ("182 more points for Free shipping").

Pure over the catalogue's rewards (plugin/loyalty/rewards/catalog.py); inactive rewards
are never offered. A negative balance (a reversal took more than was left) reaches nothing,
as `redeem_reward` refuses it.
"""
from dataclasses import dataclass

from plugin.models import Reward


@dataclass(frozen=True)
class Reach:
    redeemable: list[Reward]  # cheapest first
    nearest: Reward | None  # the cheapest reward the balance does not reach yet
    points_needed: int  # how many more points `nearest` needs; 0 without one


def within_reach(rewards: list[Reward], balance: int) -> Reach:
    offered = sorted((r for r in rewards if r.active), key=lambda r: (r.points_cost, r.id))
    redeemable = [r for r in offered if 0 <= balance and r.points_cost <= balance]
    beyond = [r for r in offered if r not in redeemable]
    nearest = beyond[0] if beyond else None
    return Reach(redeemable, nearest, 0 if nearest is None else nearest.points_cost - max(balance, 0))
