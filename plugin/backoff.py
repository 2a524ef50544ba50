"""The one backoff: how long to wait before the next try, growing by a factor per try."""
from datetime import timedelta


def backoff(tries: int, first: timedelta, factor: float) -> timedelta:
    """`first` after the first try, then `factor` times longer after each further one."""
    return first * factor ** (tries - 1)
