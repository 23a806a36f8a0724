"""Discovery: read every source's sightings, fold them into items, match them to use cases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import chain

from comptroller.attribution.specs import Attribution
from comptroller.inventory.items import InventoryItem, build_inventory
from comptroller.inventory.matching import Matcher, RegisteredUse
from comptroller.inventory.sightings import cost_line_sightings, usage_event_sightings
from comptroller.ledger.store import Ledger


def discover(
    ledger: Ledger,
    attribution: Attribution,
    uses: Iterable[RegisteredUse],
    *,
    start: date | None = None,
    end: date | None = None,
) -> list[InventoryItem]:
    sightings = chain(
        cost_line_sightings(ledger, attribution, start=start, end=end),
        usage_event_sightings(ledger, start=start, end=end),
    )
    return build_inventory(sightings, Matcher(uses))
