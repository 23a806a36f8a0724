"""Loop detection over a run's tool calls: the same call again and again, or a cycle of calls.

A call is its fingerprint (tool plus canonical arguments), so ``search(q="x")`` repeated is a
loop while ``search(q="x")`` then ``search(q="y")`` is progress. Both rules look only at the tail
of the run: a loop is what the agent is doing now, not something it once did and left.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_CYCLE = 4
"""Longest cycle looked for (A B A B is length 2); longer ones are rare and cost more to find."""


def fingerprint(tool: str, arguments: dict[str, Any] | None) -> str:
    body = json.dumps(arguments or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{tool}\x00{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Loop:
    cycle: tuple[str, ...]  # fingerprints of one turn of the loop
    repeats: int

    @property
    def length(self) -> int:
        return len(self.cycle)


def detect_loop(calls: Sequence[str], repeats: int, max_cycle: int = MAX_CYCLE) -> Loop | None:
    """The shortest cycle (length 1..max_cycle) that the last calls repeat ``repeats`` times in a
    row, or None. Length 1 is the same call ``repeats`` times."""
    for length in range(1, max_cycle + 1):
        span = length * repeats
        if len(calls) < span:
            return None
        tail = list(calls[-span:])
        cycle = tail[:length]
        if length > 1 and len(set(cycle)) == 1:
            continue  # already a length-1 loop, reported above if long enough
        if tail == cycle * repeats:
            return Loop(tuple(cycle), repeats)
    return None
