"""Which registered use cases account for a vendor, product, model or agent.

Names are compared normalised (case, punctuation), and provider ids as telemetry spells them
("openai", "azure") are read as the vendor names bills use ("OpenAI", "Microsoft"). The rules:

- a **vendor** is known when a use case names it;
- a **product** is known when a use case names it, or names its vendor (registering "Anysphere"
  covers "Cursor Business");
- a **model** is known when a use case names it, or names its vendor and no models at all;
- an **agent** is known when a use case links it (directly or through the agent registry).

A use case counts only once it is at least submitted; those not yet approved make their items
``in_review`` rather than ``registered``, and retired ones count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from comptroller.ingest.ai_vendors import normalise
from comptroller.ingest.usage_rollup import PROVIDER_NAMES

APPROVED_STATUSES = frozenset({"approved", "live"})
REVIEW_STATUSES = frozenset({"proposed", "in_review"})


def vendor_name(name: str) -> str:
    """The name bills use for a vendor that telemetry spells as a provider id."""
    return PROVIDER_NAMES.get(name.lower(), name)


def key(name: str) -> str:
    return normalise(vendor_name(name))


@dataclass(frozen=True, slots=True)
class RegisteredUse:
    """What one registered use case declares it uses."""

    id: str
    name: str
    status: str
    vendors: frozenset[str] = field(default_factory=frozenset)
    products: frozenset[str] = field(default_factory=frozenset)
    models: frozenset[str] = field(default_factory=frozenset)
    agents: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Match:
    status: str  # "registered" | "in_review" | "unregistered"
    use_cases: tuple[str, ...]


class Matcher:
    """Indexes the registered use cases once; ``match`` is a dictionary lookup per item."""

    def __init__(self, uses: Iterable[RegisteredUse]) -> None:
        self._index: dict[tuple[str, str], list[RegisteredUse]] = {}
        for use in uses:
            if use.status not in APPROVED_STATUSES | REVIEW_STATUSES:
                continue
            for kind, names in (
                ("vendor", use.vendors),
                ("product", use.products),
                ("model", use.models),
                ("agent", use.agents),
            ):
                for name in names:
                    self._index.setdefault((kind, key(name)), []).append(use)
            # A product or model may be registered under any field a person filled in.
            for name in use.vendors | use.products | use.models:
                self._index.setdefault(("any", key(name)), []).append(use)
            if not use.models:
                for name in use.vendors:
                    self._index.setdefault(("all_models", key(name)), []).append(use)

    def match(self, kind: str, name: str, vendors: Iterable[str] = ()) -> Match:
        found: list[RegisteredUse] = list(self._index.get((kind, key(name)), ()))
        if kind in ("product", "model"):
            found += self._index.get(("any", key(name)), ())
            scope = "vendor" if kind == "product" else "all_models"
            for vendor in vendors:
                found += self._index.get((scope, key(vendor)), ())
        if not found:
            return Match("unregistered", ())
        ids = tuple(sorted({u.id for u in found}))
        approved = any(u.status in APPROVED_STATUSES for u in found)
        return Match("registered" if approved else "in_review", ids)
