"""What a call may cost before it runs (the reservation) and what it did cost (the settlement).

The worst case is priced at list price (the dearest tier of each): input tokens estimated as one per four bytes of request
body (an overestimate for JSON, which is what a ceiling wants), plus the request's own output cap
or ``default_max_output_tokens``, never more than ``max_reserved_output_tokens``. A model the
catalog does not know is reserved and settled at the configured fallback prices, and its spend
event carries the catalog's flag with no cost, so nothing is silently free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from comptroller.gateway.config import Deployment, GatewayConfig
from comptroller.gateway.prices import PriceSource
from comptroller.pricing.usage import TokenUsage

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Cost:
    list_cost: Decimal | None
    contracted_cost: Decimal | None
    price_version: str | None
    flag: str | None
    budget_cost: Decimal  # what budgets are charged: contracted cost, or the fallback estimate


class Costing:
    def __init__(self, config: GatewayConfig, pricer: PriceSource) -> None:
        self._pricer = pricer
        self._default_out = config.default_max_output_tokens
        self._max_out = config.max_reserved_output_tokens
        self._fallback_in = config.fallback_input_price_per_mtok
        self._fallback_out = config.fallback_output_price_per_mtok
        self._ceilings: dict[tuple[str, str, date], tuple[Decimal, Decimal]] = {}

    def worst_case_usage(self, body_size: int, output_cap: int | None, produces_output: bool) -> TokenUsage:
        output = min(output_cap or self._default_out, self._max_out) if produces_output else 0
        return TokenUsage(uncached_input=max(1, body_size // 4), output=output)

    def cost(self, deployment: Deployment, model: str, usage: TokenUsage, at: datetime) -> Cost:
        if deployment.input_price_per_mtok is not None and deployment.output_price_per_mtok is not None:
            amount = _flat(usage, deployment.input_price_per_mtok, deployment.output_price_per_mtok)
            return Cost(amount, amount, f"deployment:{deployment.name}", None, amount)
        priced = self._pricer.price(deployment.price_provider, model, usage, at)
        if priced.contracted_cost is None:
            estimate = _flat(usage, self._fallback_in, self._fallback_out)
            return Cost(None, None, priced.price_version, priced.flag, estimate)
        return Cost(
            priced.list_cost,
            priced.contracted_cost,
            priced.price_version,
            priced.flag,
            priced.contracted_cost,
        )

    def ceiling(self, deployment: Deployment, model: str, usage: TokenUsage, at: datetime) -> Decimal:
        """An upper bound of ``usage``'s cost: every input token at the dearest input rate of the
        model's list price (long-context tier included), every output token at the dearest output
        rate. Rates are looked up once per deployment, model and day, so a reservation costs two
        multiplications."""
        key = (deployment.name, model, at.date())
        rates = self._ceilings.get(key)
        if rates is None:
            if len(self._ceilings) > 4096:
                self._ceilings.clear()
            rates = self._ceilings[key] = self._ceiling_rates(deployment, model, at)
        return (rates[0] * usage.total_input + rates[1] * usage.total_output).scaleb(-6)

    def _ceiling_rates(self, deployment: Deployment, model: str, at: datetime) -> tuple[Decimal, Decimal]:
        if deployment.input_price_per_mtok is not None and deployment.output_price_per_mtok is not None:
            return deployment.input_price_per_mtok, deployment.output_price_per_mtok
        card = self._pricer.catalog.rates(deployment.price_provider, model, at)
        if isinstance(card, str):
            return self._fallback_in, self._fallback_out
        huge = 10**12  # past every long-context threshold: the dearest tier
        inputs = [card.unit_price(k, huge) for k in ("uncached_input", "cache_read", "cache_write")]
        outputs = [card.unit_price(k, huge) for k in ("output", "reasoning")]
        return (
            max((p for p in inputs if p is not None), default=self._fallback_in),
            max((p for p in outputs if p is not None), default=self._fallback_out),
        )


def _flat(usage: TokenUsage, input_per_mtok: Decimal, output_per_mtok: Decimal) -> Decimal:
    if not usage.total:
        return _ZERO
    return (input_per_mtok * usage.total_input + output_per_mtok * usage.total_output).scaleb(-6)
