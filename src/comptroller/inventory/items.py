"""The inventory: sightings folded into one item per vendor, product, model and agent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from comptroller.inventory.matching import Matcher, key, vendor_name
from comptroller.inventory.sightings import Sighting

KINDS: tuple[str, ...] = ("vendor", "product", "model", "agent")


@dataclass(slots=True)
class InventoryItem:
    kind: str
    name: str
    first_seen: date
    last_seen: date
    spend: Decimal = Decimal(0)
    sources: set[str] = field(default_factory=set)
    vendors: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    seats: int = 0
    status: str = "unregistered"
    use_cases: tuple[str, ...] = ()

    @property
    def users(self) -> int:
        """People (cardholders), assigned seats and calling keys: who or what uses it."""
        return len(self.people) + self.seats + len(self.keys)

    @property
    def shadow(self) -> bool:
        return self.status == "unregistered"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "shadow": self.shadow,
            "use_cases": list(self.use_cases),
            "spend": float(self.spend),
            "users": self.users,
            "sources": sorted(self.sources),
            "vendors": sorted(self.vendors),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


def build_inventory(sightings: Iterable[Sighting], matcher: Matcher) -> list[InventoryItem]:
    """One item per (kind, normalised name), matched; ordered shadow first, then by spend."""
    items: dict[tuple[str, str], InventoryItem] = {}
    for s in sightings:
        vendor = vendor_name(s.vendor) if s.vendor else None
        for kind, name in (
            ("vendor", vendor),
            ("product", s.product),
            ("model", s.model),
            ("agent", s.agent),
        ):
            if not name:
                continue
            item = items.get((kind, key(name)))
            if item is None:
                item = items[(kind, key(name))] = InventoryItem(kind, name, s.first_seen, s.last_seen)
            item.first_seen = min(item.first_seen, s.first_seen)
            item.last_seen = max(item.last_seen, s.last_seen)
            item.spend += s.spend
            if s.source:
                item.sources.add(s.source)
            if vendor and kind != "vendor":
                item.vendors.add(vendor)
            item.people |= s.people
            item.keys |= s.keys
            item.seats = max(item.seats, s.seats)
    for item in items.values():
        found = matcher.match(item.kind, item.name, item.vendors)
        item.status, item.use_cases = found.status, found.use_cases
    return sorted(items.values(), key=lambda i: (not i.shadow, -i.spend, i.kind, i.name))


@dataclass(frozen=True, slots=True)
class KnownVsFound:
    kind: str
    found: int
    registered: int
    in_review: int
    unregistered: int
    unregistered_spend: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "found": self.found,
            "registered": self.registered,
            "in_review": self.in_review,
            "unregistered": self.unregistered,
            "unregistered_spend": float(self.unregistered_spend),
        }


def known_vs_found(items: Iterable[InventoryItem]) -> list[KnownVsFound]:
    listed = list(items)
    summary = []
    for kind in KINDS:
        of_kind = [i for i in listed if i.kind == kind]
        summary.append(
            KnownVsFound(
                kind=kind,
                found=len(of_kind),
                registered=sum(i.status == "registered" for i in of_kind),
                in_review=sum(i.status == "in_review" for i in of_kind),
                unregistered=sum(i.shadow for i in of_kind),
                unregistered_spend=sum((i.spend for i in of_kind if i.shadow), Decimal(0)),
            )
        )
    return summary
