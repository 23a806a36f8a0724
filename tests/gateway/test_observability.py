"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import re

import httpx

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Samples of the text format; every non-comment line must be a valid sample."""
    samples = []
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    assert types["comptroller_gateway_overhead_ms"] == "histogram"
    return samples


def test_health_and_ready(stack):
    assert httpx.get(f"{stack.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{stack.url}/readyz").status_code == 200


def test_metrics_exposition(stack, oai):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "count me"}])
    response = httpx.get(f"{stack.url}/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse_exposition(response.text)

    def values(name):
        return [(labels, value) for n, labels, value in samples if n == name]

    ok = [
        v
        for labels, v in values("comptroller_gateway_requests_total")
        if labels == {"outcome": "ok", "operation": "chat", "model": "gpt-4o-mini"}
    ]
    assert ok and ok[0] >= 1
    assert {"uncached_input", "output"} <= {
        labels["kind"] for labels, _ in values("comptroller_gateway_tokens_total")
    }
    assert any(v > 0 for _, v in values("comptroller_gateway_cost_usd_total"))
    remaining = {labels["budget"]: v for labels, v in values("comptroller_gateway_budget_remaining_usd")}
    assert 0 < remaining["b_budgeted"] <= 100
    buckets = [v for labels, v in values("comptroller_gateway_overhead_ms_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] >= 1
    assert values("comptroller_gateway_overhead_ms_count")[0][1] == buckets[-1]


def test_unknown_route(stack):
    response = httpx.get(f"{stack.url}/v2/whatever")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
