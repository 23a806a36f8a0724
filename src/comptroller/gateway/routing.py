"""Which deployment serves a request, and in what order the others are tried after a failure.

Aliases (tiers) expand to an ordered list of public models; each model's deployments are ordered
by the strategy (weighted random, or cheapest list price first). Deployments that failed recently
sit out a cooldown. Sensitive data classes and a region narrow the candidates before any of that,
and an empty result is a policy block, never a silent fallback to a disallowed deployment.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from comptroller.gateway.config import Deployment, GatewayConfig, RoutingStrategy
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.prices import PriceSource
from comptroller.pricing.usage import TokenUsage

_REFERENCE_USAGE = TokenUsage(uncached_input=1_000_000, output=1_000_000)


@dataclass(frozen=True, slots=True)
class Candidate:
    deployment: Deployment
    public_model: str
    upstream_model: str
    reason: str  # "primary", "alias fast", "fallback"

    @property
    def provider(self) -> str:
        return self.deployment.provider.value


class Router:
    def __init__(self, config: GatewayConfig, pricer: PriceSource, rng: random.Random | None = None) -> None:
        self._config = config
        self._rng = rng or random.Random()
        self._cooldown_s = config.retries.cooldown_s
        self._cooling: dict[str, float] = {}
        by_model: dict[str, list[Deployment]] = {}
        for deployment in config.deployments:
            for model in deployment.models:
                by_model.setdefault(model, []).append(deployment)
        self._by_model = by_model
        self._aliases = {alias: tuple(models) for alias, models in config.aliases.items()}
        self._unrestricted = frozenset(config.unrestricted_data_classes)
        if config.routing is RoutingStrategy.COST_ORDERED:
            for model, deployments in by_model.items():
                deployments.sort(key=lambda d, m=model: _reference_cost(pricer, d, d.models[m]))

    def knows(self, model: str) -> bool:
        return model in self._by_model or model in self._aliases

    def plan(
        self, model: str, family: str, data_classes: Iterable[str] = (), region: str | None = None
    ) -> list[Candidate]:
        """Candidates in the order to try them; raises a GatewayError when none may serve."""
        if model in self._aliases:
            models, reason = self._aliases[model], f"alias {model}"
        elif model in self._by_model:
            models, reason = (model,), "primary"
        else:
            raise GatewayError(404, "model_not_found", f"model {model!r} is not served by this gateway")
        sensitive = frozenset(data_classes) - self._unrestricted
        candidates: list[Candidate] = []
        excluded: list[str] = []
        for public in models:
            eligible = []
            for deployment in self._by_model[public]:
                if deployment.provider.family != family:
                    continue
                if sensitive and not (
                    deployment.private and sensitive <= set(deployment.allowed_data_classes)
                ):
                    excluded.append(f"{deployment.name} (data class)")
                    continue
                if region and deployment.region != region:
                    excluded.append(f"{deployment.name} (region)")
                    continue
                eligible.append(deployment)
            for deployment in self._order(eligible):
                candidates.append(Candidate(deployment, public, deployment.models[public], reason))
        if not candidates:
            if sensitive:
                raise GatewayError(
                    403,
                    "no_permitted_deployment",
                    f"no private deployment of {model!r} may receive data classes "
                    f"{', '.join(sorted(sensitive))}" + (f" in region {region}" if region else ""),
                )
            if region:
                raise GatewayError(
                    403, "no_deployment_in_region", f"no deployment of {model!r} in region {region}"
                )
            raise GatewayError(
                404,
                "model_not_found",
                f"model {model!r} is not served through the {family} API of this gateway",
            )
        return self._cool_last(candidates)

    def _order(self, deployments: list[Deployment]) -> list[Deployment]:
        if len(deployments) < 2 or self._config.routing is RoutingStrategy.COST_ORDERED:
            return deployments
        # Weighted order without replacement: each pick is proportional to the remaining weights.
        rest = list(deployments)
        ordered = []
        while rest:
            pick = self._rng.choices(range(len(rest)), weights=[d.weight for d in rest])[0]
            ordered.append(rest.pop(pick))
        return ordered

    def _cool_last(self, candidates: list[Candidate]) -> list[Candidate]:
        """Deployments in cooldown move to the back rather than out: better late than refused."""
        if not self._cooling:
            return candidates
        now = time.monotonic()
        for name, until in list(self._cooling.items()):
            if until <= now:
                del self._cooling[name]
        warm = [c for c in candidates if c.deployment.name not in self._cooling]
        cold = [c for c in candidates if c.deployment.name in self._cooling]
        return warm + cold

    def cool_down(self, deployment: Deployment, seconds: float | None = None) -> None:
        self._cooling[deployment.name] = time.monotonic() + (self._cooldown_s if seconds is None else seconds)

    def cooling(self) -> list[str]:
        now = time.monotonic()
        return sorted(name for name, until in self._cooling.items() if until > now)


def _reference_cost(pricer: PriceSource, deployment: Deployment, upstream_model: str) -> Decimal:
    """Price of 1M input plus 1M output tokens: enough to order deployments by cost."""
    if deployment.input_price_per_mtok is not None and deployment.output_price_per_mtok is not None:
        return deployment.input_price_per_mtok + deployment.output_price_per_mtok
    priced = pricer.price(deployment.price_provider, upstream_model, _REFERENCE_USAGE, datetime.now(UTC))
    return priced.list_cost if priced.list_cost is not None else Decimal("Infinity")
