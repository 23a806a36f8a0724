"""Price a call's token usage: list cost from the catalog, contracted cost after overrides.

Every result carries the price version that produced it (so history can be re-priced and
compared) and a flag instead of a silent zero whenever something could not be priced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from genai_prices.data_snapshot import DataSnapshot, get_snapshot

from comptroller.pricing.catalog import Catalog, CatalogMiss, RateCard, utc_date
from comptroller.pricing.overrides import ContractOverride, check_overrides, select_override
from comptroller.pricing.providers import model_ref_candidates
from comptroller.pricing.usage import TokenKind, TokenUsage

PricingRow = tuple[str, str, TokenUsage, datetime, str | None]
"""(provider, model, usage, at, service_tier), the arguments of ``Pricer.price``."""

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TokenCharge:
    """The cost of one token kind in one call. Unit prices are USD per 1M tokens, unrounded."""

    kind: TokenKind
    tokens: int
    list_unit_price: Decimal
    contracted_unit_price: Decimal
    list_cost: Decimal
    contracted_cost: Decimal


@dataclass(frozen=True, slots=True)
class PricedUsage:
    """The priced usage of one call.

    ``list_cost`` and ``contracted_cost`` are None, never zero, when the call cannot be fully
    priced; ``flag`` then says why (``unknown_provider``, ``unknown_model``,
    ``no_price_for_<kind>``). ``unpriced_service_tier`` means the catalog has no price for the
    requested service tier at that date, so standard rates were used and the costs are set.
    """

    provider: str
    model: str
    catalog_model_id: str | None
    charges: tuple[TokenCharge, ...]
    list_cost: Decimal | None
    contracted_cost: Decimal | None
    price_version: str
    flag: str | None
    currency: str = "USD"
    catalog_provider_id: str | None = None
    override_id: str | None = None

    def charge(self, kind: TokenKind) -> TokenCharge | None:
        """The charge for one kind, or None when the call had no tokens of it (or it is unpriced)."""
        return next((c for c in self.charges if c.kind == kind), None)


@dataclass(frozen=True, slots=True)
class PriceTerms:
    """Everything that prices the calls of one (provider, model, UTC day, service tier): the
    catalog's rate card or why there is none, the contract override and the price version."""

    card: RateCard | CatalogMiss
    override: ContractOverride | None
    price_version: str


class Pricer:
    """Prices usage against the genai-prices catalog plus contract overrides.

    Without ``snapshot`` the Pricer follows genai-prices' current snapshot, so a background
    ``UpdatePrices`` refresh takes effect (and changes ``price_version``); pass a snapshot to pin
    the prices, e.g. to re-price history reproducibly.
    """

    def __init__(
        self,
        overrides: Sequence[ContractOverride] = (),
        *,
        snapshot: DataSnapshot | None = None,
        cache_size: int = 65_536,
    ) -> None:
        self._overrides = tuple(overrides)
        check_overrides(self._overrides)
        self._pinned = snapshot is not None
        self._cache_size = cache_size
        self._catalog = Catalog(snapshot, cache_size=cache_size)
        self._override_cache: dict[tuple[object, ...], ContractOverride | None] = {}

    @property
    def catalog(self) -> Catalog:
        if not self._pinned:
            current = get_snapshot()
            if current is not self._catalog.snapshot:
                self._catalog = Catalog(current, cache_size=self._cache_size)
        return self._catalog

    @property
    def price_version(self) -> str:
        """The catalog part of the price version (overrides add ``+override:<id>`` per call)."""
        return self.catalog.version

    def price(
        self,
        provider: str,
        model: str,
        usage: TokenUsage,
        at: datetime,
        service_tier: str | None = None,
        requests: int = 1,
    ) -> PricedUsage:
        """Price one call made at ``at`` (naive means UTC) on ``service_tier`` (None = standard),
        or ``requests`` calls whose usage is summed in ``usage``.

        ``provider`` may be empty when ``model`` carries a ``provider/`` prefix or is unambiguous.
        """
        terms = self.terms(provider, model, at, service_tier)
        card, override = terms.card, terms.override
        if isinstance(card, str):
            return PricedUsage(provider, model, None, (), None, None, terms.price_version, card)
        charges, missing = _charges(card, usage, override, requests)
        if missing is not None:
            list_cost = contracted_cost = None
            flag: str | None = f"no_price_for_{missing}"
        else:
            list_cost = sum((c.list_cost for c in charges), _ZERO)
            contracted_cost = sum((c.contracted_cost for c in charges), _ZERO)
            flag = None if card.service_tier_priced else "unpriced_service_tier"
        return PricedUsage(
            provider=provider,
            model=model,
            catalog_model_id=card.model_id,
            charges=charges,
            list_cost=list_cost,
            contracted_cost=contracted_cost,
            price_version=terms.price_version,
            flag=flag,
            catalog_provider_id=card.provider_id,
            override_id=None if override is None else override.id,
        )

    def price_many(self, rows: Iterable[PricingRow]) -> list[PricedUsage]:
        """Price many calls; repeated (provider, model, day, tier) keys hit the caches."""
        price = self.price
        return [price(provider, model, usage, at, tier) for provider, model, usage, at, tier in rows]

    def terms(self, provider: str, model: str, at: datetime, service_tier: str | None = None) -> PriceTerms:
        """The terms ``price`` applies to a call at ``at``; batch pricing resolves them once per
        distinct (provider, model, day, tier) and reuses them for every call that shares them."""
        catalog = self.catalog
        card = catalog.rates(provider, model, at, service_tier)
        if isinstance(card, str):
            return PriceTerms(card, None, catalog.version)
        override = self._override_for(provider, model, card, at)
        version = catalog.version if override is None else f"{catalog.version}+override:{override.id}"
        return PriceTerms(card, override, version)

    def _override_for(
        self, provider: str, model: str, card: RateCard, at: datetime
    ) -> ContractOverride | None:
        if not self._overrides:
            return None
        key = (provider, model, card.provider_id, card.model_id, utc_date(at))
        if key in self._override_cache:
            return self._override_cache[key]
        names = (*model_ref_candidates(model), card.model_id)
        chosen = select_override(self._overrides, provider.strip() or card.provider_id, names, key[-1])
        if len(self._override_cache) >= self._cache_size:
            self._override_cache.clear()
        self._override_cache[key] = chosen
        return chosen


def _charges(
    card: RateCard, usage: TokenUsage, override: ContractOverride | None, requests: int = 1
) -> tuple[tuple[TokenCharge, ...], TokenKind | None]:
    """Charges for every kind with tokens, and the first kind the catalog cannot price.

    Long-context tiers are chosen on one request's whole prompt; for usage aggregated over
    ``requests`` calls (a provider's hourly bucket) that is the average prompt."""
    total_input = usage.total_input // max(requests, 1)
    charges: list[TokenCharge] = []
    missing: TokenKind | None = None
    for kind, tokens in usage.items():
        if not tokens:
            continue
        unit = card.unit_price(kind, total_input)
        if unit is None:
            missing = missing or kind
            continue
        contracted = unit if override is None else override.contracted_unit_price(kind, unit, card.own_price)
        list_cost = (unit * tokens).scaleb(-6)  # per 1M tokens; scaleb shifts the exponent, exactly
        contracted_cost = list_cost if contracted is unit else (contracted * tokens).scaleb(-6)
        charges.append(TokenCharge(kind, tokens, unit, contracted, list_cost, contracted_cost))
    return tuple(charges), missing
