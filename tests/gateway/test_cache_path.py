"""The exact cache on the request path: a hit costs nothing, says so, and logs what it saved."""

from __future__ import annotations

from decimal import Decimal

MESSAGES = [{"role": "user", "content": "what is the capital of France?"}]


def _event(stack, raw):
    return next(e for e in stack.events() if e["request_id"] == raw.headers["x-comptroller-request-id"])


def test_second_identical_request_is_a_cache_hit(stack, oai_for):
    client = oai_for("cached")
    calls_before = len(stack.recorded())
    first = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES, temperature=0)
    second = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, temperature=0
    )
    assert len(stack.recorded()) == calls_before + 1, "the second answer must not reach the provider"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert second.headers["x-comptroller-cache"] == "exact"
    assert second.headers["x-comptroller-cost"] == "0"
    miss, hit = _event(stack, first), _event(stack, second)
    assert miss["status"] == "ok" and not miss["cache_hit"]
    assert hit["status"] == "cache_hit" and hit["cache_hit"]
    assert hit["contracted_cost"] is None
    assert Decimal(hit["avoided_cost"]) == Decimal(miss["contracted_cost"])


def test_streamed_answers_are_replayed(stack, oai_for):
    client = oai_for("cached")
    texts, request_ids = [], []
    for _ in range(2):
        with client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, temperature=0, stream=True
        ) as response:
            texts.append("".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices))
            request_ids.append(response.headers["x-comptroller-request-id"])
    assert texts[0] == texts[1] != ""
    events = {e["request_id"]: e for e in stack.events()}
    assert [events[r]["status"] for r in request_ids] == ["ok", "cache_hit"]


def test_keys_without_opt_in_and_sampled_requests_are_not_cached(stack, oai, oai_for):
    before = len(stack.recorded())
    for _ in range(2):
        oai.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0)
        oai_for("cached").chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.9)
    assert len(stack.recorded()) == before + 4


def test_a_reworded_prompt_is_a_semantic_hit(stack, oai_for):
    client = oai_for("cached")
    before = len(stack.recorded())
    question = "How many moons does Jupiter have, roughly?"
    first = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], temperature=0
    )
    again = client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "how many moons does jupiter have roughly"}],
        temperature=0,
    )
    assert len(stack.recorded()) == before + 1
    assert again.headers["x-comptroller-cache"] == "semantic"
    event = _event(stack, again)
    assert event["status"] == "cache_hit"
    assert event["route"] == "cache (semantic)"
    assert Decimal(event["avoided_cost"]) == Decimal(_event(stack, first)["contracted_cost"])
    other_model = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}], temperature=0
    )
    assert "x-comptroller-cache" not in other_model.headers
