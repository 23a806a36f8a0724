"""Money as integer micro-dollars, the unit both counter stores add in.

Counters hold integers so that a Redis ``HINCRBY`` and an in-process ``+=`` give the same exact
result; Decimal is converted at the edge. Holds and limits are rounded towards safety (a hold up,
a limit down) so rounding can never let spend past a budget.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

MICROS_PER_USD = 1_000_000


def hold_micros(amount: Decimal) -> int:
    """A worst-case amount to hold, rounded up to the next micro-dollar."""
    return int((amount * MICROS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def limit_micros(amount: Decimal) -> int:
    """A budget's limit, rounded down to the micro-dollar."""
    return int((amount * MICROS_PER_USD).to_integral_value(rounding=ROUND_FLOOR))


def cost_micros(amount: Decimal) -> int:
    """A real cost or a booked baseline, rounded to the nearest micro-dollar (ties to even)."""
    return int((amount * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def to_usd(micros: int) -> Decimal:
    """Micro-dollars back to an exact Decimal amount with six places."""
    return Decimal(micros).scaleb(-6)
