"""Pricing a batch of calls at once, to exactly the Decimals that pricing each call would give.

A batch of thousands of calls (one OTLP export, one gateway spool file) usually names a handful of
models on one or two days, yet per-call pricing resolves a rate card, a contract override and a
price version for every call. Here those terms are resolved once per distinct (provider, model,
service tier, UTC day) with ``Pricer.terms``, the same cached lookups ``Pricer.price`` makes, and
only the arithmetic runs per call: unit price times tokens per kind, in Decimal, in the same order
and with the same operations as ``Pricer.price``, so no result differs by even the last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from genai_prices.types import TieredPrices

from comptroller.pricing.catalog import RateCard, as_utc
from comptroller.pricing.pricer import Pricer, PriceTerms
from comptroller.pricing.usage import TOKEN_KINDS, TokenKind

_ZERO = Decimal(0)
GroupKey = tuple[str, str, str | None, date, tuple[bool, ...]]


@dataclass(frozen=True, slots=True)
class PricedColumns:
    """The fields of ``PricedUsage`` for every call, as columns in input order."""

    list_cost: list[Decimal | None]
    contracted_cost: list[Decimal | None]
    price_version: list[str]
    flag: list[str | None]
    kind_list_cost: dict[TokenKind, list[Decimal | None]]
    """Per kind, the list cost of the call's charge for it; None where the call has no such
    charge (no tokens of the kind, no price for it, or the model is not in the catalog)."""
    kind_contracted_cost: dict[TokenKind, list[Decimal | None]]

    @classmethod
    def empty(cls, n: int) -> PricedColumns:
        return cls(
            list_cost=[None] * n,
            contracted_cost=[None] * n,
            price_version=[""] * n,
            flag=[None] * n,
            kind_list_cost={k: [None] * n for k in TOKEN_KINDS},
            kind_contracted_cost={k: [None] * n for k in TOKEN_KINDS},
        )


def price_columns(
    pricer: Pricer,
    provider: Sequence[str],
    model: Sequence[str],
    at: Sequence[datetime],
    service_tier: Sequence[str | None],
    tokens: Mapping[TokenKind, Sequence[int]],
    requests: Sequence[int] | None = None,
) -> PricedColumns:
    """Price call ``i`` as ``pricer.price(provider[i], model[i], TokenUsage(...tokens[k][i]),
    at[i], service_tier[i], requests[i])`` would, for every ``i`` at once."""
    n = len(provider)
    if not len(model) == len(at) == len(service_tier) == n:
        raise ValueError("provider, model, at and service_tier must have one value per call")
    for kind in TOKEN_KINDS:
        _check_counts(kind, tokens[kind], n)
    if requests is None:
        requests = [1] * n
    out = PricedColumns.empty(n)
    for terms, rows in _groups(pricer, provider, model, at, service_tier):
        for i in rows:
            out.price_version[i] = terms.price_version
        if isinstance(terms.card, str):
            for i in rows:
                out.flag[i] = terms.card
        else:
            _price_rows(terms, terms.card, rows, tokens, requests, out)
    return out


def _check_counts(kind: TokenKind, counts: Sequence[int], n: int) -> None:
    """The checks ``TokenUsage`` makes of each call's counts, made once per column."""
    if len(counts) != n:
        raise ValueError(f"tokens[{kind!r}] must have one value per call")
    for value in counts:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"TokenUsage.{kind} must be an int, got {type(value).__name__}")
    if counts and min(counts) < 0:
        raise ValueError(f"TokenUsage.{kind} must be >= 0, got {min(counts)}")


def _groups(
    pricer: Pricer,
    provider: Sequence[str],
    model: Sequence[str],
    at: Sequence[datetime],
    service_tier: Sequence[str | None],
) -> Iterator[tuple[PriceTerms, list[int]]]:
    """Calls that ``Pricer.price`` would price with one rate card, and those terms.

    The catalog keys its rate cards on the UTC day and, for the few models with time-of-day
    prices, on which of those prices are active; the terms of a group come from its first call,
    as they would when its calls are priced one by one."""
    catalog = pricer.catalog
    groups: dict[GroupKey, list[int]] = {}
    for i, (p, m, when, tier) in enumerate(zip(provider, model, at, service_tier, strict=True)):
        at_utc = as_utc(when)
        match = catalog.match(p, m)
        clock = () if isinstance(match, str) else tuple(c.active(at_utc) for c in match.clock_constraints)
        key = (p, m, tier, at_utc.date(), clock)
        rows = groups.get(key)
        if rows is None:
            groups[key] = rows = []
        rows.append(i)
    for (p, m, tier, _, _), rows in groups.items():
        yield pricer.terms(p, m, at[rows[0]], tier), rows


def _price_rows(
    terms: PriceTerms,
    card: RateCard,
    rows: list[int],
    tokens: Mapping[TokenKind, Sequence[int]],
    requests: Sequence[int],
    out: PricedColumns,
) -> None:
    """``Pricer.price``'s arithmetic for the calls of one group, term by term the same."""
    contracted_for = _contracted_rates(terms, card)
    tiered = any(isinstance(p, TieredPrices) for p in card.prices.values())
    flat = {kind: card.unit_price(kind, 0) for kind in TOKEN_KINDS}
    kinds = [
        (kind, tokens[kind], out.kind_list_cost[kind], out.kind_contracted_cost[kind]) for kind in TOKEN_KINDS
    ]
    uncached, cache_read, cache_write = tokens["uncached_input"], tokens["cache_read"], tokens["cache_write"]
    priced_flag = None if card.service_tier_priced else "unpriced_service_tier"
    total_input = 0
    for i in rows:
        if tiered:  # long-context tiers are chosen on one request's whole prompt
            total_input = (uncached[i] + cache_read[i] + cache_write[i]) // max(requests[i], 1)
        missing: TokenKind | None = None
        list_total = contracted_total = _ZERO
        for kind, counts, list_column, contracted_column in kinds:
            count = counts[i]
            if not count:
                continue
            unit = card.unit_price(kind, total_input) if tiered else flat[kind]
            if unit is None:
                missing = missing or kind
                continue
            contracted = contracted_for(kind, unit)
            list_cost = (unit * count).scaleb(-6)
            contracted_cost = list_cost if contracted is unit else (contracted * count).scaleb(-6)
            list_column[i] = list_cost
            contracted_column[i] = contracted_cost
            list_total = list_total + list_cost
            contracted_total = contracted_total + contracted_cost
        if missing is not None:
            out.flag[i] = f"no_price_for_{missing}"
        else:
            out.list_cost[i] = list_total
            out.contracted_cost[i] = contracted_total
            out.flag[i] = priced_flag


def _contracted_rates(terms: PriceTerms, card: RateCard) -> Callable[[TokenKind, Decimal], Decimal]:
    """The contracted unit price for a kind at a list unit price, worked out once per pair."""
    override = terms.override
    if override is None:
        return lambda _kind, unit: unit
    cache: dict[tuple[TokenKind, Decimal], Decimal] = {}

    def contracted(kind: TokenKind, unit: Decimal) -> Decimal:
        key = (kind, unit)
        if key not in cache:
            cache[key] = override.contracted_unit_price(kind, unit, card.own_price)
        return cache[key]

    return contracted
