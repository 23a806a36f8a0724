"""Value formats: UTC ISO 8601 date/times, FOCUS numbers, JSON key-value objects, SKU keys."""

from __future__ import annotations

import pyarrow as pa
import pytest

from comptroller.focus_validation import Severity, validate_table

CPS = "FOCUS-1.2/ChargePeriodStart/datetime-format"


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-05 00:00:00Z",  # no 'T'
        "2024-01-05T00:00:00",  # no zone
        "2024-01-05T00:00:00+00:00",  # the spec demands the 'Z' designator
        "2024-01-05T01:00:00+01:00",
        "2024-01-05",
        "2024-01-05T0:00:00Z",  # one-digit hour
        "2024-13-05T00:00:00Z",  # right shape, no such month
        "05/01/2024",
    ],
)
def test_bad_datetime(mutate, value):
    report = validate_table(mutate("ChargePeriodStart", 3, value))
    [violation] = report.find(CPS)
    assert (violation.row, violation.count) == (3, 1)
    assert repr(value) in violation.message


@pytest.mark.parametrize("value", ["2024-01-05T00:00:00.250Z", "2024-01-05T00:00:00.0000000Z"])
def test_fractional_seconds_are_accepted(mutate, value):
    assert validate_table(mutate("ChargePeriodStart", 1, value)).ok


def test_far_future_end_dates_are_real_dates(mutate):
    report = validate_table(mutate("ChargePeriodEnd", 2, "9999-12-31T00:00:00Z"))
    assert not report.find("FOCUS-1.2/ChargePeriodEnd/datetime-format")


def _typed_dates(table: pa.Table, tz: str | None) -> pa.Table:
    for name in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        typed = table.column(name).cast(pa.timestamp("us", tz="UTC"))
        if tz is None:
            typed = typed.cast(pa.timestamp("us"))
        elif tz != "UTC":
            typed = typed.cast(pa.timestamp("us", tz=tz))
        table = table.set_column(table.column_names.index(name), name, typed)
    return table


def test_typed_utc_timestamps_pass(valid_table):
    assert validate_table(_typed_dates(valid_table, "UTC")).violations == ()


def test_typed_timestamps_in_another_zone_fail(valid_table):
    report = validate_table(_typed_dates(valid_table, "America/New_York"))
    [violation] = report.find(CPS)
    assert (violation.row, violation.count) == (1, 4)


def test_naive_typed_timestamps_warn(valid_table):
    report = validate_table(_typed_dates(valid_table, None))
    [violation] = report.find(CPS)
    assert violation.severity is Severity.WARNING
    assert report.ok


@pytest.mark.parametrize("value", ["$12.50", "1,250.00", "+3", "1e+3", "12.5 USD", "1/2", "NaN", "", " 1"])
def test_bad_number(mutate, value):
    report = validate_table(mutate("BilledCost", 1, value))
    rule = "FOCUS-1.2/BilledCost/not-null" if value == "" else "FOCUS-1.2/BilledCost/numeric-format"
    [violation] = report.find(rule)
    assert violation.row == 1


@pytest.mark.parametrize("value", ["1.25E-3", "-0.25", "12", "0.000000000011"])
def test_good_numbers(mutate, value):
    report = validate_table(mutate("BilledCost", 4, value))
    assert not report.find("FOCUS-1.2/BilledCost/numeric-format")


def test_nan_in_typed_float_column(valid_table):
    values = [12.5, float("nan"), 0.0, 1.25]
    table = valid_table.set_column(
        valid_table.column_names.index("BilledCost"), "BilledCost", pa.array(values, pa.float64())
    )
    [violation] = validate_table(table).find("FOCUS-1.2/BilledCost/numeric-format")
    assert violation.row == 2


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"team": }', "not valid JSON"),
        ('["search"]', "JSON array"),
        ('{"team": {"name": "search"}}', "JSON object"),
        ('{"team": ["a", "b"]}', "JSON array"),
        ('{"team": "a", "team": "b"}', "duplicate key 'team'"),
        ('{"share": NaN}', "not valid JSON"),
    ],
)
def test_tags_must_be_flat_json_objects(mutate, value, reason):
    report = validate_table(mutate("Tags", 2, value))
    [violation] = report.find("FOCUS-1.2/Tags/key-value-format")
    assert violation.row == 2
    assert reason in violation.message


def test_tag_values_may_be_scalars_of_any_json_type(mutate):
    assert validate_table(mutate("Tags", 2, '{"a": 1, "b": true, "c": null, "d": "x"}')).ok


def test_all_null_typed_columns_are_accepted(valid_table):
    table = valid_table
    for name in ("Tags", "AvailabilityZone", "CapacityReservationId", "CapacityReservationStatus"):
        table = table.set_column(table.column_names.index(name), name, pa.nulls(4))
    assert validate_table(table).violations == ()


def test_sku_price_details_custom_key_needs_x_prefix(mutate):
    report = validate_table(mutate("SkuPriceDetails", 3, '{"ModelId": "m", "Tier": "batch"}'))
    [violation] = report.find("FOCUS-1.2/SkuPriceDetails/custom-key-prefix")
    assert violation.row == 3
    assert "'Tier'" in violation.message


def test_sku_price_details_focus_property_type(mutate):
    report = validate_table(mutate("SkuPriceDetails", 1, '{"CoreCount": "4"}'))
    [violation] = report.find("FOCUS-1.2/SkuPriceDetails/property-type")
    assert violation.row == 1


def test_sku_price_details_token_values_follow_the_draft(mutate):
    report = validate_table(mutate("SkuPriceDetails", 1, '{"TokenDirection": "input"}'))
    [violation] = report.find("FOCUS-1.2/SkuPriceDetails/token-property-values")
    assert violation.severity is Severity.WARNING
    assert report.ok


def test_invalid_sku_json_is_reported_once(mutate):
    report = validate_table(mutate("SkuPriceDetails", 1, "{Tier: batch}"))
    assert {v.rule_id for v in report.violations} == {"FOCUS-1.2/SkuPriceDetails/key-value-format"}


def test_13_json_columns_are_checked_in_13_mode(valid_table):
    table = valid_table.append_column(
        "AllocatedMethodDetails", pa.array(['{"Ratio": 0.5}', "[0.5]", None, None], pa.string())
    )
    [violation] = validate_table(table, version="1.3").find("FOCUS-1.3/AllocatedMethodDetails/json-object")
    assert violation.row == 2
