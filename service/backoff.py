"""Retry delays for durable background work (mail, media jobs)."""

from __future__ import annotations

import random


def backoff_seconds(attempts: int, base_seconds: float, cap_seconds: float) -> float:
    """Exponential in the number of attempts, capped, with jitter: work that failed in one
    outage does not all come back at the same instant when the outage ends."""
    ceiling = min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)
