"""Routing: fallbacks over real HTTP, data-class and region constraints, weighted and cost order."""

from __future__ import annotations

import random
from collections import Counter

import openai
import pytest

from comptroller.gateway.config import parse_config
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.routing import Router
from comptroller.pricing import Pricer

MESSAGES = [{"role": "user", "content": "hi"}]


def _event(stack, raw):
    return next(e for e in stack.events() if e["request_id"] == raw.headers["x-comptroller-request-id"])


@pytest.mark.parametrize(
    ("alias", "failed"),
    [
        ("resilient-500", "fails-500"),
        ("resilient-429", "fails-429"),
        ("resilient-hang", "hangs"),
        ("resilient-conn", "refuses"),
    ],
)
def test_fallback_to_the_next_deployment(stack, oai, alias, failed):
    raw = oai.chat.completions.with_raw_response.create(model=alias, messages=MESSAGES)
    assert raw.parse().choices[0].message.content
    event = _event(stack, raw)
    assert event["status"] == "ok"
    assert event["retries"] == 1
    assert event["route"] == f"oa-us (alias {alias}, attempt 2)"
    assert event["model"] == "gpt-4o-mini"
    assert failed in stack.parts.admission.router.cooling() or stack.config.retries.cooldown_s == 0


def test_streams_fall_back_before_the_first_byte(stack, oai):
    with oai.chat.completions.with_streaming_response.create(
        model="resilient-500", messages=MESSAGES, stream=True
    ) as response:
        chunks = list(response.parse())
        request_id = response.headers["x-comptroller-request-id"]
    assert chunks
    event = next(e for e in stack.events() if e["request_id"] == request_id)
    assert (event["status"], event["retries"]) == ("ok", 1)


def test_sensitive_data_goes_only_to_a_private_deployment(stack, oai_for):
    for _ in range(5):
        raw = oai_for("personal").chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        assert _event(stack, raw)["route"].startswith("private-llm ")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        oai_for("personal").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.code == "no_permitted_deployment"


def test_data_class_header_marks_a_request_sensitive(stack, oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"x-comptroller-data-class": "personal"}
    )
    assert _event(stack, raw)["route"].startswith("private-llm ")
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"x-comptroller-data-class": "public"}
    )
    assert _event(stack, raw)["status"] == "ok"


def test_region_from_key_and_header(stack, oai, oai_for):
    for _ in range(3):
        raw = oai_for("eu").chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        assert _event(stack, raw)["route"].startswith("oa-eu ")
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"x-comptroller-region": "eu"}
    )
    assert _event(stack, raw)["route"].startswith("oa-eu ")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        oai.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, extra_headers={"x-comptroller-region": "mars"}
        )
    assert caught.value.code == "no_deployment_in_region"


def test_headers_add_attribution_but_never_override_the_key(stack, oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="fast",
        messages=MESSAGES,
        extra_headers={
            "x-comptroller-agent": "triage-bot",
            "x-comptroller-team": "someone-else",
            "x-comptroller-customer-segment": "smb",
        },
    )
    attribution = _event(stack, raw)["attribution"]
    assert attribution["agent"] == "triage-bot"
    assert attribution["customer_segment"] == "smb"
    assert attribution["team"] == "platform"
    assert attribution["model"] == "fast"


def _config(strategy: str, **extra):
    return parse_config(
        {
            "routing": strategy,
            "deployments": [
                {
                    "name": "big",
                    "provider": "openai",
                    "base_url": "http://x/v1",
                    "weight": 3,
                    "models": {"m": "gpt-4o"},
                },
                {
                    "name": "small",
                    "provider": "openai",
                    "base_url": "http://y/v1",
                    "weight": 1,
                    "models": {"m": "gpt-4o-mini"},
                },
                {
                    "name": "claude",
                    "provider": "anthropic",
                    "base_url": "http://z/v1",
                    "models": {"c": "claude-sonnet-4-5"},
                },
            ],
            "aliases": {"tier": ["m", "c"]},
            **extra,
        }
    )


def test_weighted_order_follows_weights():
    router = Router(_config("weighted"), Pricer(), random.Random(7))
    firsts = Counter(router.plan("m", "openai")[0].deployment.name for _ in range(2000))
    assert 0.7 < firsts["big"] / 2000 < 0.8


def test_cost_ordered_puts_the_cheapest_first():
    router = Router(_config("cost_ordered"), Pricer())
    assert [c.deployment.name for c in router.plan("m", "openai")] == ["small", "big"]


def test_cooldown_moves_a_deployment_last():
    router = Router(_config("cost_ordered"), Pricer())
    router.cool_down(router.plan("m", "openai")[0].deployment, 60)
    assert [c.deployment.name for c in router.plan("m", "openai")] == ["big", "small"]


def test_alias_only_offers_deployments_of_the_callers_dialect():
    router = Router(_config("cost_ordered"), Pricer())
    assert [c.deployment.name for c in router.plan("tier", "anthropic")] == ["claude"]
    with pytest.raises(GatewayError) as caught:
        router.plan("m", "anthropic")
    assert caught.value.code == "model_not_found"
