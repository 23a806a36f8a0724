"""The generic cell rate algorithm (GCRA), which both rate limiters use for per-minute limits.

A limit of ``n`` per minute is a token bucket holding ``n`` that refills continuously at ``n`` per
minute, stored as a single number: the theoretical arrival time (TAT) at which the bucket would
be full again. A request costing ``c`` moves the TAT ``c * 60 / n`` seconds later and is admitted
if the TAT stays within one minute of now. Unlike a fixed window it has no boundary where twice
the limit gets through, and unlike a sliding log it keeps one number per limit, which is what
lets the Redis version stay one small atomic script. Token counts are corrected after the call by
moving the TAT by the difference between estimated and actual tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    admitted: bool
    new_tat: float
    retry_after_s: float


def step(per_minute: int, cost: int) -> float:
    """Seconds by which ``cost`` units push the TAT of a ``per_minute`` limit."""
    return cost * WINDOW_S / per_minute


def admit(tat: float | None, now: float, per_minute: int, cost: int) -> Decision:
    """Whether ``cost`` units fit now; the TAT to store if so, the wait before retrying if not."""
    start = now if tat is None or tat < now else tat
    new_tat = start + step(per_minute, cost)
    over = new_tat - now - WINDOW_S
    if over > 0:
        return Decision(False, start, over)
    return Decision(True, new_tat, 0.0)
