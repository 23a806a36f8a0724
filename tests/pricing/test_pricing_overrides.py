"""Contract overrides: validation, selection, and their effect on contracted cost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from comptroller.errors import ConfigError
from comptroller.pricing import ContractOverride, Pricer, TokenUsage, parse_overrides, select_override

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def override(id: str = "o", **fields: Any) -> ContractOverride:
    base: dict[str, Any] = {
        "id": id,
        "provider": "openai",
        "model": "gpt-4o*",
        "effective_from": date(2026, 1, 1),
        "discount_pct": "10",
    }
    base.update(fields)
    return ContractOverride.model_validate(base)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"discount_pct": "120"}, "discount_pct must be between 0 and 100"),
        ({"discount_pct": "-1"}, "discount_pct must be between 0 and 100"),
        ({"discount_pct": "NaN"}, "discount_pct"),
        ({"discount_pct": None}, "set exactly one of discount_pct or unit_prices"),
        ({"unit_prices": {"output": "8"}}, "set exactly one of discount_pct or unit_prices"),
        ({"discount_pct": None, "unit_prices": {"completion": "8"}}, "unknown token kind"),
        ({"discount_pct": None, "unit_prices": {"output": "-8"}}, r"unit_prices\[output\]"),
        ({"discount_pct": None, "unit_prices": {}}, "at least one token kind"),
        ({"effective_to": date(2026, 1, 1)}, "effective_to .* must be after effective_from"),
        ({"model": "  "}, "model"),
        ({"discount_percent": "10"}, "discount_percent"),
    ],
)
def test_invalid_overrides_are_rejected_naming_the_field(fields: dict[str, Any], message: str):
    with pytest.raises(ValidationError, match=message):
        override(**fields)


def test_parse_overrides_reports_every_problem_with_its_override():
    with pytest.raises(ConfigError) as info:
        parse_overrides(
            [
                {
                    "id": "ok",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "effective_from": "2026-01-01",
                    "discount_pct": 5,
                },
                {"id": "acme-2026", "provider": "openai", "model": "o3*", "effective_from": "2026-01-01"},
                {
                    "id": "typo",
                    "provider": "openai",
                    "model": "o3",
                    "effective_from": "2026-01-01",
                    "discount": 5,
                },
            ]
        )
    text = str(info.value)
    assert "override #2 ('acme-2026')" in text and "exactly one of discount_pct or unit_prices" in text
    assert "override #3 ('typo'): discount:" in text
    assert "'ok'" not in text


def test_duplicate_override_ids_are_a_config_error():
    with pytest.raises(ConfigError, match="'dup' is used twice"):
        Pricer([override("dup"), override("dup", model="o3")])


# --- selection ----------------------------------------------------------------------------------


def test_latest_effective_from_wins_even_over_a_more_specific_pattern():
    older_exact = override("older", model="gpt-4o", effective_from=date(2025, 1, 1))
    newer_glob = override("newer", model="gpt-*", effective_from=date(2026, 6, 1))
    assert select_override([older_exact, newer_glob], "openai", "gpt-4o", AT) is newer_glob


def test_most_specific_pattern_breaks_ties():
    broad = override("broad", model="gpt-*")
    narrow = override("narrow", model="gpt-4o-mini*")
    exact = override("exact", model="gpt-4o-mini")
    candidates = [exact, broad, narrow]
    assert select_override(candidates, "openai", "gpt-4o-mini", AT) is exact
    assert select_override(candidates, "openai", "gpt-4o-mini-2024-07-18", AT) is narrow
    assert select_override(candidates, "openai", "gpt-4o", AT) is broad


def test_effective_to_is_exclusive_and_dates_are_utc():
    o = override(effective_from=date(2026, 1, 1), effective_to=date(2026, 2, 1))
    assert select_override([o], "openai", "gpt-4o", datetime(2026, 1, 31, 23, 59, tzinfo=UTC)) is o
    assert select_override([o], "openai", "gpt-4o", datetime(2026, 2, 1, 0, 0, tzinfo=UTC)) is None
    assert select_override([o], "openai", "gpt-4o", datetime(2025, 12, 31, 23, 59)) is None


def test_provider_and_model_must_both_match():
    o = override(provider="aws-bedrock", model="anthropic.claude-3-5-sonnet*")
    model = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert select_override([o], "aws.bedrock", model, AT) is o  # same provider, another alias
    assert select_override([o], "anthropic", model, AT) is None
    assert select_override([o], "aws-bedrock", "ANTHROPIC.CLAUDE-3-5-SONNET-X", AT) is o  # case-insensitive
    assert select_override([o], "aws-bedrock", "anthropic.claude-3-haiku", AT) is None


# --- effect on cost -----------------------------------------------------------------------------


def test_discount_applies_to_every_kind_and_leaves_list_alone():
    pricer = Pricer([override("acme-openai", discount_pct="15")])
    result = pricer.price("openai", "gpt-4o", TokenUsage(2_000, 8_000, output=1_000), AT)
    assert result.list_cost == Decimal("0.025")  # gpt-4o: 2.5 input, 1.25 cached, 10 output
    assert result.contracted_cost == Decimal("0.02125")
    for charge in result.charges:
        assert charge.contracted_unit_price == charge.list_unit_price * Decimal("0.85")
        assert charge.contracted_cost == charge.list_cost * Decimal("0.85")
    assert result.price_version == f"{pricer.price_version}+override:acme-openai"
    assert result.override_id == "acme-openai"


def test_unit_prices_replace_only_the_kinds_they_name():
    pricer = Pricer([override(discount_pct=None, unit_prices={"uncached_input": "2", "output": "8"})])
    result = pricer.price("openai", "gpt-4o", TokenUsage(1_000_000, 1_000_000, output=1_000_000), AT)
    contracted = {c.kind: c.contracted_unit_price for c in result.charges}
    assert contracted == {"uncached_input": Decimal(2), "cache_read": Decimal("1.25"), "output": Decimal(8)}
    assert result.contracted_cost == Decimal("11.25")
    assert result.list_cost == Decimal("13.75")


def test_reasoning_follows_the_negotiated_output_rate_unless_priced_separately():
    rule = {"discount_pct": None, "unit_prices": {"output": "6"}, "model": "*"}
    o3 = Pricer([override(**rule)]).price("openai", "o3", TokenUsage(output=10, reasoning=90), AT)
    assert {c.kind: c.contracted_unit_price for c in o3.charges} == {
        "output": Decimal(6),
        "reasoning": Decimal(6),
    }
    # sonar-deep-research lists reasoning at 3 (output 8): a negotiated output rate leaves it alone.
    sonar = Pricer([override(provider="perplexity", **rule)]).price(
        "perplexity", "sonar-deep-research", TokenUsage(output=10, reasoning=90), AT
    )
    assert sonar.charge("reasoning") is not None
    assert sonar.charge("reasoning").contracted_unit_price == Decimal(3)  # type: ignore[union-attr]


def test_cache_tokens_billed_as_input_follow_the_negotiated_input_rate():
    # gpt-4o-2024-05-13 has no cached-input price, so the catalog bills cached tokens as input (5).
    pricer = Pricer([override(discount_pct=None, unit_prices={"uncached_input": "4"})])
    result = pricer.price("openai", "gpt-4o-2024-05-13", TokenUsage(100, 900), AT)
    assert result.charge("cache_read").list_unit_price == Decimal(5)  # type: ignore[union-attr]
    assert result.charge("cache_read").contracted_unit_price == Decimal(4)  # type: ignore[union-attr]


def test_override_written_against_the_catalog_model_id_applies_to_dated_names():
    pricer = Pricer([override(provider="anthropic", model="claude-sonnet-4-0", discount_pct="20")])
    result = pricer.price("anthropic", "claude-sonnet-4-20250514", TokenUsage(1_000_000), AT)
    assert result.contracted_cost == Decimal("2.4")  # list 3


def test_override_outside_its_dates_changes_nothing():
    pricer = Pricer([override("later", effective_from=date(2027, 1, 1))])
    result = pricer.price("openai", "gpt-4o", TokenUsage(1_000), AT)
    assert result.contracted_cost == result.list_cost
    assert "+override" not in result.price_version
    assert result.override_id is None


def test_override_does_not_price_an_unknown_model():
    pricer = Pricer([override(model="*")])
    result = pricer.price("openai", "gpt-4o-private-finetune-xyz", TokenUsage(1_000), AT)
    assert (result.flag, result.list_cost, result.contracted_cost) == ("unknown_model", None, None)
