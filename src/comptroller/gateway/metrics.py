"""Prometheus metrics in the text exposition format, kept as plain dicts.

A handful of counters and one histogram, updated with a dict increment per request; rendering
happens only when ``/metrics`` is scraped. Budget remaining is read from the reserver then.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

OVERHEAD_BUCKETS_MS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 100.0)


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + body + "}" if body else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.tokens: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.cost: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.avoided: defaultdict[str, Decimal] = defaultdict(Decimal)
        self._buckets = [0] * (len(OVERHEAD_BUCKETS_MS) + 1)
        self._overhead_sum = 0.0
        self._overhead_count = 0

    def observe(
        self,
        outcome: str,
        operation: str,
        model: str,
        tokens: Iterable[tuple[str, int]],
        cost: Decimal | None,
        avoided: Decimal | None,
        overhead_ms: float | None,
    ) -> None:
        self.requests[(outcome, operation, model)] += 1
        for kind, count in tokens:
            if count:
                self.tokens[(kind, model)] += count
        if cost:
            self.cost[model] += cost
        if avoided:
            self.avoided[model] += avoided
        if overhead_ms is not None:
            self._buckets[bisect.bisect_left(OVERHEAD_BUCKETS_MS, overhead_ms)] += 1
            self._overhead_sum += overhead_ms
            self._overhead_count += 1

    def render(self, budget_remaining: Iterable[tuple[str, str, Decimal]] = ()) -> bytes:
        out: list[str] = [
            "# HELP comptroller_gateway_requests_total Requests by outcome, operation and model.",
            "# TYPE comptroller_gateway_requests_total counter",
        ]
        for (outcome, operation, model), n in sorted(self.requests.items()):
            labels = _labels((("outcome", outcome), ("operation", operation), ("model", model)))
            out.append(f"comptroller_gateway_requests_total{labels} {n}")
        out += [
            "# HELP comptroller_gateway_tokens_total Tokens by kind and model.",
            "# TYPE comptroller_gateway_tokens_total counter",
        ]
        for (kind, model), n in sorted(self.tokens.items()):
            out.append(f"comptroller_gateway_tokens_total{_labels((('kind', kind), ('model', model)))} {n}")
        out += [
            "# HELP comptroller_gateway_cost_usd_total Contracted cost of calls, in USD.",
            "# TYPE comptroller_gateway_cost_usd_total counter",
        ]
        for model, usd in sorted(self.cost.items()):
            out.append(f"comptroller_gateway_cost_usd_total{_labels((('model', model),))} {float(usd):.10g}")
        out += [
            "# HELP comptroller_gateway_avoided_cost_usd_total Cost avoided by cache hits, in USD.",
            "# TYPE comptroller_gateway_avoided_cost_usd_total counter",
        ]
        for model, usd in sorted(self.avoided.items()):
            out.append(
                f"comptroller_gateway_avoided_cost_usd_total{_labels((('model', model),))} {float(usd):.10g}"
            )
        out += [
            "# HELP comptroller_gateway_budget_remaining_usd What each budget has left in its period.",
            "# TYPE comptroller_gateway_budget_remaining_usd gauge",
        ]
        for budget_id, name, usd in budget_remaining:
            labels = _labels((("budget", budget_id), ("name", name)))
            out.append(f"comptroller_gateway_budget_remaining_usd{labels} {float(usd):.10g}")
        out += [
            "# HELP comptroller_gateway_overhead_ms Time spent in the gateway, upstream wait excluded.",
            "# TYPE comptroller_gateway_overhead_ms histogram",
        ]
        cumulative = 0
        for bound, n in zip(OVERHEAD_BUCKETS_MS, self._buckets, strict=False):
            cumulative += n
            out.append(f'comptroller_gateway_overhead_ms_bucket{{le="{bound}"}} {cumulative}')
        cumulative += self._buckets[-1]
        out.append(f'comptroller_gateway_overhead_ms_bucket{{le="+Inf"}} {cumulative}')
        out.append(f"comptroller_gateway_overhead_ms_sum {self._overhead_sum:.6f}")
        out.append(f"comptroller_gateway_overhead_ms_count {self._overhead_count}")
        return ("\n".join(out) + "\n").encode()
