"""Provider usage shapes -> disjoint token kinds (cached tokens neither dropped nor double counted)."""

from __future__ import annotations

from typing import Any

import pytest

from comptroller.ledger.schema import TOKEN_KINDS as LEDGER_TOKEN_KINDS
from comptroller.pricing import TOKEN_KINDS, TokenUsage


def test_token_kinds_follow_the_ledger_schema():
    assert TOKEN_KINDS == LEDGER_TOKEN_KINDS


def test_openai_chat_cached_and_reasoning_are_split_out_of_the_totals():
    usage = TokenUsage.from_openai(
        {
            "prompt_tokens": 1200,
            "completion_tokens": 800,
            "total_tokens": 2000,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 640},
        }
    )
    assert usage == TokenUsage(uncached_input=176, cache_read=1024, cache_write=0, output=160, reasoning=640)
    assert usage.total_input == 1200
    assert usage.total_output == 800
    assert usage.total == 2000


def test_openai_chat_without_details_is_all_uncached():
    usage = TokenUsage.from_openai(
        {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": None}
    )
    assert usage == TokenUsage(uncached_input=10, output=5)


def test_openai_cache_write_tokens_are_inside_prompt_tokens():
    usage = TokenUsage.from_openai(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 1,
            "prompt_tokens_details": {"cached_tokens": 300, "cache_write_tokens": 200},
        }
    )
    assert usage == TokenUsage(uncached_input=500, cache_read=300, cache_write=200, output=1)


def test_openai_responses_api_shape():
    usage = TokenUsage.from_openai(
        {
            "input_tokens": 5000,
            "input_tokens_details": {"cached_tokens": 4096},
            "output_tokens": 900,
            "output_tokens_details": {"reasoning_tokens": 700},
            "total_tokens": 5900,
        }
    )
    assert usage == TokenUsage(uncached_input=904, cache_read=4096, output=200, reasoning=700)


def test_openai_accepts_sdk_objects_with_model_dump():
    class FakeSdkUsage:
        def model_dump(self) -> dict[str, Any]:
            return {"prompt_tokens": 7, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}

    assert TokenUsage.from_openai(FakeSdkUsage()) == TokenUsage(uncached_input=5, cache_read=2, output=3)  # type: ignore[arg-type]


def test_anthropic_input_tokens_exclude_cache_so_nothing_is_subtracted():
    usage = TokenUsage.from_anthropic(
        {
            "input_tokens": 50,
            "cache_read_input_tokens": 10_000,
            "cache_creation_input_tokens": 2_000,
            "output_tokens": 400,
        }
    )
    assert usage == TokenUsage(uncached_input=50, cache_read=10_000, cache_write=2_000, output=400)
    assert usage.total_input == 12_050


def test_anthropic_null_cache_fields_and_thinking_tokens():
    usage = TokenUsage.from_anthropic(
        {
            "input_tokens": 20,
            "cache_read_input_tokens": None,
            "cache_creation_input_tokens": None,
            "output_tokens": 300,
            "output_tokens_details": {"thinking_tokens": 250},
        }
    )
    assert usage == TokenUsage(uncached_input=20, output=50, reasoning=250)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"prompt_tokens": 10, "completion_tokens": 0, "prompt_tokens_details": {"cached_tokens": 11}},
            "exceeds",
        ),
        (
            {
                "prompt_tokens": 1,
                "completion_tokens": 2,
                "completion_tokens_details": {"reasoning_tokens": 3},
            },
            "reasoning_tokens",
        ),
        ({"prompt_tokens": -1, "completion_tokens": 0}, "prompt_tokens must be >= 0"),
        ({"prompt_tokens": "12", "completion_tokens": 0}, "prompt_tokens must be a whole number"),
        ({"prompt_tokens": 1.5, "completion_tokens": 0}, "whole number"),
    ],
)
def test_openai_inconsistent_or_invalid_usage_is_rejected(payload: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        TokenUsage.from_openai(payload)


def test_integral_floats_from_json_are_accepted():
    assert TokenUsage.from_openai({"prompt_tokens": 12.0, "completion_tokens": 3}) == TokenUsage(12, output=3)


def test_token_usage_rejects_negative_and_non_int_counts():
    with pytest.raises(ValueError, match="cache_read"):
        TokenUsage(cache_read=-1)
    with pytest.raises(TypeError, match="output"):
        TokenUsage(output=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reasoning"):
        TokenUsage(reasoning=True)


def test_usages_add_per_kind_for_streamed_responses():
    start = TokenUsage.from_anthropic(
        {"input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 1}
    )
    delta = TokenUsage.from_anthropic({"input_tokens": 0, "output_tokens": 99})
    assert start + delta == TokenUsage(uncached_input=100, cache_read=50, output=100)


def test_items_are_in_ledger_order_with_zeros():
    assert list(TokenUsage(1, 2, 3, 4, 5).items()) == list(zip(TOKEN_KINDS, [1, 2, 3, 4, 5], strict=True))
