"""List prices per token kind from the genai-prices catalog, resolved once and cached.

genai-prices only returns totals (input, output, total) from ``calc_price``; the ledger needs a
unit price and a cost per token kind, so this module reads the catalog's resolved ``ModelPrice``
for a model at a moment and service tier and applies the catalog's own rules to it:

* A kind the catalog does not price separately is billed as its parent kind, exactly as
  genai-prices' unit hierarchy does: cache reads and writes without their own price are input,
  reasoning without its own price is output (so reasoning is priced once, at the output rate).
* Tiered (long-context) prices are cliffs: when the request's *total* input (uncached + cache
  read + cache write) is greater than a tier's start, every kind in the request is priced at that
  tier, not just the tokens past the threshold.
* Date-constrained prices, price variants (batch, flex, priority) and time-of-day prices are
  resolved with the catalog's ``ModelInfo.get_prices`` for the request timestamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal, TypeAlias

import genai_prices
from genai_prices import data as _bundled_data
from genai_prices.data_snapshot import DataSnapshot, find_provider_by_id, get_snapshot
from genai_prices.types import ModelInfo, Provider, TieredPrices, TimeOfDateConstraint

from comptroller.pricing.providers import catalog_provider_id, model_ref_candidates, split_model_ref
from comptroller.pricing.usage import TOKEN_KINDS, TokenKind

CatalogMiss: TypeAlias = Literal["unknown_provider", "unknown_model"]
Price: TypeAlias = Decimal | TieredPrices

PRICE_KEYS: Mapping[TokenKind, str] = {
    "uncached_input": "input_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "output": "output_mtok",
    "reasoning": "output_reasoning_mtok",
}
PARENT_KIND: Mapping[TokenKind, TokenKind] = {
    "cache_read": "uncached_input",
    "cache_write": "uncached_input",
    "reasoning": "output",
}
_DEFAULT_TIERS = frozenset({"", "default", "standard", "auto", "on_demand", "on-demand"})


@dataclass(frozen=True, slots=True)
class RateCard:
    """List prices (USD per 1M tokens) of one model at one moment and service tier."""

    provider_id: str
    model_id: str
    prices: Mapping[TokenKind, Price | None]
    """Per kind, after inheritance from the parent kind; None when the catalog has no price."""
    own_price: frozenset[TokenKind]
    """Kinds the catalog prices directly rather than through their parent kind."""
    service_tier_priced: bool
    """False when a non-default service tier was asked for but the catalog has no price for it."""

    def unit_price(self, kind: TokenKind, total_input: int) -> Decimal | None:
        price = self.prices[kind]
        if isinstance(price, TieredPrices):
            return tier_price(price, total_input)
        return price


def tier_price(price: TieredPrices, total_input: int) -> Decimal:
    """The rate for the highest tier whose start the total input exceeds (genai-prices' rule)."""
    for tier in reversed(price.tiers):
        if total_input > tier.start:
            return tier.price
    return price.base


def price_context(service_tier: str | None) -> dict[str, str] | None:
    """The genai-prices price context for one of our service-tier names.

    The catalog keys batch discounts on ``processing`` and the others on ``service_tier``.
    """
    tier = (service_tier or "").strip().lower()
    if tier in _DEFAULT_TIERS:
        return None
    if tier == "batch":
        return {"processing": "batch"}
    return {"service_tier": tier}


@cache
def _bundled_digest() -> str:
    payload = resources.files("genai_prices").joinpath("data.py").read_bytes()
    return hashlib.sha256(payload).hexdigest()[:12]


def catalog_version(snapshot: DataSnapshot) -> str:
    """Identify the price data, so a stored cost can be traced to the prices that produced it.

    genai-prices has no data version of its own: the bundled data is identified by a digest of
    its source, a fetched or custom snapshot by the time it was loaded.
    """
    base = f"genai-prices {genai_prices.__version__}"
    if snapshot.providers is _bundled_data.providers:
        return f"{base} bundled:{_bundled_digest()}"
    origin = "fetched" if snapshot.from_auto_update else "custom"
    return f"{base} {origin}:{snapshot.timestamp.isoformat(timespec='seconds')}"


@dataclass(frozen=True, slots=True, eq=False)
class _Match:
    provider: Provider
    model: ModelInfo
    native: bool
    """The model is on the provider's own list (not reached through a fallback provider).
    genai-prices applies price variants only to native models; so do we."""
    clock_constraints: tuple[TimeOfDateConstraint, ...]


def as_utc(at: datetime) -> datetime:
    """Naive timestamps are UTC, as in genai-prices."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class Catalog:
    """One catalog snapshot with per-(provider, model, date, tier) caches in front of it.

    The caches are what make pricing hundreds of thousands of events cheap: model matching walks
    regex and substring clauses over hundreds of models, and it happens once per distinct key.
    """

    def __init__(self, snapshot: DataSnapshot | None = None, *, cache_size: int = 65_536) -> None:
        self.snapshot = snapshot if snapshot is not None else get_snapshot()
        self.version = catalog_version(self.snapshot)
        self._cache_size = cache_size
        self._matches: dict[tuple[str, str], _Match | CatalogMiss] = {}
        self._rates: dict[tuple[object, ...], RateCard] = {}

    def rates(
        self, provider: str, model: str, at: datetime, service_tier: str | None = None
    ) -> RateCard | CatalogMiss:
        """List prices for a call, or why there are none."""
        match = self.match(provider, model)
        if isinstance(match, str):
            return match
        at_utc = as_utc(at)
        # Date prices and variants change at UTC midnight; only time-of-day prices need more.
        clock = tuple(c.active(at_utc) for c in match.clock_constraints)
        key = (provider, model, at_utc.date(), clock, service_tier)
        card = self._rates.get(key)
        if card is None:
            card = self._resolve(match, at_utc, service_tier)
            self._store(self._rates, key, card)
        return card

    def match(self, provider: str, model: str) -> _Match | CatalogMiss:
        key = (provider, model)
        found = self._matches.get(key)
        if found is None:
            found = self._find(provider, model)
            self._store(self._matches, key, found)
        return found

    def _store(self, cache_: dict, key: object, value: object) -> None:
        # Crude but bounded: model names come from telemetry, so an unbounded dict could grow on
        # garbage input. Clearing is cheap and the working set refills quickly.
        if len(cache_) >= self._cache_size:
            cache_.clear()
        cache_[key] = value

    def _find(self, provider: str, model: str) -> _Match | CatalogMiss:
        providers = self.snapshot.providers
        refs = model_ref_candidates(model)
        found: Provider | None
        if provider.strip():
            found = find_provider_by_id(providers, catalog_provider_id(provider))
            if found is None:
                return "unknown_provider"
        else:
            found = self._infer_provider(model)
            if found is None:
                return "unknown_provider"
        for ref in refs:
            info = found.find_model(ref, all_providers=providers)
            if info is not None:
                return _Match(
                    provider=found,
                    model=info,
                    native=any(info is m for m in found.models),
                    clock_constraints=_clock_constraints(info),
                )
        return "unknown_model"

    def _infer_provider(self, model: str) -> Provider | None:
        """With no provider given, use the model's ``provider/`` prefix, else the catalog's guess."""
        prefix, _ = split_model_ref(model)
        if prefix and (
            by_prefix := find_provider_by_id(self.snapshot.providers, catalog_provider_id(prefix))
        ):
            return by_prefix
        for ref in model_ref_candidates(model):
            try:
                return self.snapshot.find_provider(ref, None, None)
            except LookupError:
                continue
        return None

    def _resolve(self, match: _Match, at_utc: datetime, service_tier: str | None) -> RateCard:
        context = price_context(service_tier)
        usable = context if match.native else None
        model_price = match.model.get_prices(at_utc, usable)
        prices: dict[TokenKind, Price | None] = {}
        own: set[TokenKind] = set()
        for kind in TOKEN_KINDS:  # parents come before their children in this order
            price = getattr(model_price, PRICE_KEYS[kind], None)
            if price is not None:
                own.add(kind)
            elif kind in PARENT_KIND:
                price = prices[PARENT_KIND[kind]]
            prices[kind] = price
        return RateCard(
            provider_id=match.provider.id,
            model_id=match.model.id,
            prices=prices,
            own_price=frozenset(own),
            service_tier_priced=context is None
            or (usable is not None and _has_variant(match.model, usable, at_utc)),
        )


def _has_variant(model: ModelInfo, context: Mapping[str, str], at_utc: datetime) -> bool:
    return any(
        all(context.get(k) == v for k, v in variant.when.items())
        and (variant.constraint is None or variant.constraint.active(at_utc))
        for variant in model.price_variants or ()
    )


def _clock_constraints(model: ModelInfo) -> tuple[TimeOfDateConstraint, ...]:
    constraints: list[object] = []
    if isinstance(model.prices, list):
        constraints.extend(p.constraint for p in model.prices)
    constraints.extend(v.constraint for v in model.price_variants or ())
    return tuple(c for c in constraints if isinstance(c, TimeOfDateConstraint))


def utc_date(at: datetime) -> date:
    return as_utc(at).date()
