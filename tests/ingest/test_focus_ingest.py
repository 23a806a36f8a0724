"""Ingesting FOCUS exports: every container format and version, and real exports' quirks."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from comptroller.ingest import json_lookups
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.focus_mapping import convert, decimal_from_text, token_count_from_source
from comptroller.ledger.schema import Kind
from comptroller.ledger.store import open_ledger
from tests.focus_fixtures import ledger_totals, version_columns, write_focus

FORMATS = ["csv", "csv.gz", "parquet"]


def column_values(ledger, *columns: str, order_by: str = "ResourceId") -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in columns)
    return ledger.execute(f'SELECT {cols} FROM cost_lines ORDER BY "{order_by}"')


# -- formats and versions ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_ingests_each_container_format(ledger, tmp_path, fmt):
    path = write_focus(
        tmp_path / f"export.{fmt}",
        [
            {"cost": "10.5", "ResourceId": "r1"},
            {"cost": "0.25", "ResourceId": "r2"},
            {"cost": "7", "ResourceId": "r3", "ChargeCategory": "Tax"},
        ],
    )
    result = ingest_focus(ledger, [path])

    assert result.rows == 3
    assert result.files[0].rows == 3
    assert ledger_totals(ledger) == (3, Decimal("17.75"), Decimal("17.75"))
    rows = column_values(ledger, "ResourceId", "ChargeCategory", "x_SourceFile", "x_DeliveryId")
    assert [r[0] for r in rows] == ["r1", "r2", "r3"]
    assert [r[1] for r in rows] == ["Usage", "Usage", "Tax"]
    assert {r[2] for r in rows} == {path.name}
    assert {r[3] for r in rows} == {result.delivery_id}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3"])
def test_ingests_each_focus_version(ledger, tmp_path, version):
    path = write_focus(tmp_path / "export.csv", [{"cost": "2", "ResourceId": "r1"}], version=version)
    header = path.read_text().splitlines()[0].split(",")
    assert header == version_columns(version)

    result = ingest_focus(ledger, [path])

    assert result.files[0].focus_version == version
    assert column_values(ledger, "x_FocusVersion", "BilledCost") == [(version, Decimal(2))]


def test_focus_1_0_file_has_no_later_columns_and_they_stay_empty(ledger, tmp_path):
    path = write_focus(tmp_path / "v10.csv", [{"cost": "1", "ResourceId": "r1"}], version="1.0")
    header = set(path.read_text().splitlines()[0].split(","))
    later = {"InvoiceId", "SkuPriceDetails", "ServiceSubcategory", "CommitmentDiscountQuantity", "SkuMeter"}
    assert not header & later

    ingest_focus(ledger, [path])

    assert column_values(ledger, *sorted(later)) == [(None,) * len(later)]


def test_focus_1_3_service_provider_fills_deprecated_provider_columns(ledger, tmp_path):
    path = write_focus(
        tmp_path / "v13.csv",
        [{"cost": "1", "ServiceProviderName": "OpenAI", "HostProviderName": "Microsoft"}],
        version="1.3",
        drop=["InvoiceIssuerName"],
    )
    header = path.read_text().splitlines()[0].split(",")
    assert "ProviderName" not in header and "PublisherName" not in header

    ingest_focus(ledger, [path])

    assert column_values(
        ledger,
        "ProviderName",
        "PublisherName",
        "InvoiceIssuerName",
        "ServiceProviderName",
        "HostProviderName",
    ) == [("OpenAI", "OpenAI", "OpenAI", "OpenAI", "Microsoft")]


def test_focus_1_2_provider_name_fills_service_provider_name(ledger, tmp_path):
    path = write_focus(tmp_path / "v12.csv", [{"cost": "1", "ProviderName": "AWS", "PublisherName": "Acme"}])
    ingest_focus(ledger, [path])
    assert column_values(ledger, "ProviderName", "PublisherName", "ServiceProviderName") == [
        ("AWS", "Acme", "AWS")
    ]


def test_typed_parquet_columns_are_converted(ledger, tmp_path):
    """Parquet from a warehouse carries real types: decimals, UTC timestamps, not strings."""
    text = write_focus(tmp_path / "text.parquet", [{"cost": "1", "ResourceId": "r1"}])
    table = pq.read_table(text)
    utc = pa.timestamp("us", tz="UTC")
    typed = {
        "BilledCost": pa.array([Decimal("123.456789012345")], pa.decimal128(20, 12)),
        "EffectiveCost": pa.array([1.5], pa.float64()),
        "ChargePeriodStart": pa.array([datetime(2025, 1, 10, 6)], utc),
        "ChargePeriodEnd": pa.array([datetime(2025, 1, 10, 7)], utc),
    }
    for name, values in typed.items():
        table = table.set_column(table.column_names.index(name), name, values)
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)

    ingest_focus(ledger, [path])

    assert column_values(ledger, "BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd") == [
        (Decimal("123.456789012345"), Decimal("1.5"), datetime(2025, 1, 10, 6), datetime(2025, 1, 10, 7))
    ]


def test_timestamps_with_offsets_are_stored_in_utc(ledger, tmp_path):
    path = write_focus(
        tmp_path / "tz.csv",
        [
            {
                "ResourceId": "r1",
                "ChargePeriodStart": "2025-01-10T02:00:00+02:00",
                "ChargePeriodEnd": "2025-01-10 03:00:00",
            }
        ],
    )
    ingest_focus(ledger, [path])
    assert column_values(ledger, "ChargePeriodStart", "ChargePeriodEnd") == [
        (datetime(2025, 1, 10, 0), datetime(2025, 1, 10, 3))
    ]


# -- quirks of real exports -------------------------------------------------------------------


def test_literal_null_cells_become_nulls(ledger, tmp_path):
    path = write_focus(
        tmp_path / "nulls.csv",
        [
            {"ResourceId": "r1", "RegionId": "NULL", "ChargeClass": "NULL", "PricingQuantity": "NULL"},
            {"ResourceId": "r2", "RegionId": "null", "ChargeClass": "", "PricingQuantity": "null"},
            {
                "ResourceId": "r3",
                "RegionId": "us-east-1",
                "ChargeClass": "Correction",
                "PricingQuantity": "4",
            },
        ],
    )
    assert "NULL" in path.read_text()

    ingest_focus(ledger, [path])

    assert column_values(ledger, "ResourceId", "RegionId", "ChargeClass", "PricingQuantity") == [
        ("r1", None, None, None),
        ("r2", None, None, None),
        ("r3", "us-east-1", "Correction", Decimal(4)),
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_extra_provider_columns_are_kept_in_the_x_namespace(ledger, tmp_path, fmt):
    path = write_focus(
        tmp_path / f"extras.{fmt}",
        [
            {"ResourceId": "r1", "ResourceGroup": "rg-prod", "x_Foo": "foo-1", "Team": "provider-team"},
            {"ResourceId": "r2", "ResourceGroup": None, "x_Foo": "foo-2", "Team": None},
        ],
    )
    result = ingest_focus(ledger, [path])

    assert set(result.files[0].provider_columns) == {"x_ResourceGroup", "x_Foo", "x_Provider_Team"}
    assert {"x_ResourceGroup", "x_Foo", "x_Provider_Team"} <= set(ledger.columns())
    assert "ResourceGroup" not in ledger.columns()
    assert column_values(ledger, "x_ResourceGroup", "x_Foo", "x_Provider_Team", "x_Team") == [
        ("rg-prod", "foo-1", "provider-team", None),
        (None, "foo-2", None, None),
    ]


def test_provider_column_named_like_a_dimension_in_lower_case_is_kept(ledger, tmp_path):
    """DuckDB identifiers ignore case, so a provider's ``team`` column must not become a second
    ``x_team`` beside our ``x_Team``."""
    path = write_focus(
        tmp_path / "lower.csv",
        [{"cost": "1", "ResourceId": "r1", "team": "provider-value", "Tags": {"team": "t"}}],
    )
    result = ingest_focus(ledger, [path])

    (kept,) = result.files[0].provider_columns
    assert kept.startswith("x_") and kept.lower() != "x_team"
    assert column_values(ledger, kept, "x_Team") == [("provider-value", "t")]


def test_provider_columns_differing_only_in_case_across_deliveries(ledger, tmp_path):
    first = write_focus(tmp_path / "first.csv", [{"cost": "1", "ResourceId": "r1", "ResourceGroup": "rg-1"}])
    second = write_focus(
        tmp_path / "second.csv",
        [{"cost": "2", "ResourceId": "r2", "BillingAccountId": "acct-2", "resourcegroup": "rg-2"}],
    )
    ingest_focus(ledger, [first])
    ingest_focus(ledger, [second])
    assert ledger_totals(ledger) == (2, Decimal(3), Decimal(3))


def test_bom_crlf_scientific_notation_and_special_characters(ledger, tmp_path):
    description = 'Line 1\nLine\t2 \\N back\\slash, Zürich 東京 "quoted"'
    path = write_focus(
        tmp_path / "windows.csv",
        [
            {"cost": "1.5E-7", "ResourceId": "r1", "ChargeDescription": description, "Tags": {"k": "a\tb"}},
            {
                "cost": " 2.25 ",
                "ResourceId": "r2",
                "BillingPeriodStart": "2025-01-01",
                "BillingPeriodEnd": "2025-02-01",
            },
        ],
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))

    ingest_focus(ledger, [path])

    assert ledger_totals(ledger) == (2, Decimal("2.25000015"), Decimal("2.25000015"))
    rows = column_values(ledger, "ChargeDescription", "Tags", "BillingPeriodStart")
    assert rows[0][0].replace("\r\n", "\n") == description
    assert json.loads(rows[0][1]) == {"k": "a\tb"}
    assert rows[1][2] == datetime(2025, 1, 1)


def test_tags_json_with_doubled_quotes_is_parsed_and_dimensions_materialised(ledger, tmp_path):
    tags = {"team": "search", "product": 'Assistant "Pro"', "env": "prod"}
    path = write_focus(
        tmp_path / "tags.csv",
        [
            {"ResourceId": "r1", "Tags": tags},
            {"ResourceId": "r2", "Tags": {"user:team": "growth"}},
            {"ResourceId": "r3", "Tags": {"Product": "Search"}},
            {"ResourceId": "r4", "Tags": None},
        ],
    )
    assert '""team"": ""search""' in path.read_text()  # the CSV quirk under test

    ingest_focus(ledger, [path])

    rows = column_values(ledger, "Tags", "x_Team", "x_Product")
    assert json.loads(rows[0][0]) == tags
    assert rows[0][1:] == ("search", 'Assistant "Pro"')
    assert rows[1][1:] == ("growth", None)
    assert rows[2][1:] == (None, "Search")
    assert rows[3] == (None, None, None)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_decimals_with_many_places_are_kept_exactly(ledger, tmp_path, fmt):
    amounts = [
        "0.000000123456789012",
        "1.123456789012",
        "12345.6789012345678",
        "0.3333333333333333",
        "-0.0000000000015",
        "987654321.000000000001",
    ]
    path = write_focus(
        tmp_path / f"decimals.{fmt}",
        [{"cost": a, "ResourceId": f"r{i}"} for i, a in enumerate(amounts)],
    )
    ingest_focus(ledger, [path])

    expected = sum((Decimal(a) for a in amounts), Decimal(0))
    _, billed, effective = ledger_totals(ledger)
    assert abs(billed - expected) < Decimal("1e-12")
    assert abs(effective - expected) < Decimal("1e-12")
    stored = [r[0] for r in column_values(ledger, "ListCost")]
    for given, kept in zip(amounts, stored, strict=True):
        assert abs(kept - Decimal(given)) < Decimal("1e-15"), given


def test_missing_recommended_columns_are_fine(ledger, tmp_path):
    recommended = ["AvailabilityZone", "ChargeFrequency", "InvoiceId", "ServiceSubcategory"]
    path = write_focus(tmp_path / "lean.csv", [{"cost": "2.5", "ResourceId": "r1"}], drop=recommended)
    header = path.read_text().splitlines()[0].split(",")
    assert not set(recommended) & set(header)

    ingest_focus(ledger, [path])

    assert ledger_totals(ledger) == (1, Decimal("2.5"), Decimal("2.5"))
    assert column_values(ledger, *recommended) == [(None,) * len(recommended)]


# -- fast conversions and lookups give what the direct ones give --------------------------------


DECIMAL_TEXTS = [
    "0.123095900000",
    "13831.000000000000",
    "999999.999999999999",
    "1000000.5",
    "123456.1234567890123",
    "0.00000000000001234",
    "1e5",
    "1.5E-14",
    "-0.5",
    "+3",
    "1_000.5",
    ".5",
    "7",
    "12345678901234",
    "987654321.000000000001",
    " 2.5 ",
    "\t0.000000000001234",
    "  123456.1234567890123  ",
    "1000064.000000000000",
    "-5011388.123456000000",
    "1000064.1234567000",
    "1000064.",
    "123456789012.5",
    "999999999999.999999",
    "12345678901234567890.5",
    " 1000064.5 ",
]


TOKEN_TEXTS = [
    "13831.000000000000",
    "5011388.500000000000",
    "-5011388.5",
    "1000064.4999999",
    "2.5",
    "-1.5",
    "0.4999999999995",
    "1e3",
    "99999999999999999",
    " 12 ",
    "1.4999999999999999",
    "x",
    None,
]


@pytest.mark.parametrize("source_type", ["VARCHAR", "DECIMAL(38,12)", "DECIMAL(38,16)", "DOUBLE"])
def test_token_counts_from_the_source_cell_equal_the_rounded_ledger_decimal(source_type):
    con = duckdb.connect()
    con.execute("CREATE TABLE raw (v VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?)", [[v] for v in TOKEN_TEXTS])
    con.execute(
        f'CREATE TABLE t AS SELECT v, TRY_CAST(v AS {source_type}) AS "ConsumedQuantity" FROM raw'
        if source_type != "VARCHAR"
        else 'CREATE TABLE t AS SELECT v, v AS "ConsumedQuantity" FROM raw'
    )
    fast = token_count_from_source({"ConsumedQuantity": source_type})
    ledger_decimal = convert('"ConsumedQuantity"', source_type, Kind.DECIMAL, "TRY_CAST")
    rows = con.execute(f"SELECT v, {fast}, TRY_CAST({ledger_decimal} AS BIGINT) FROM t ORDER BY v").fetchall()
    for text, cheap, exact in rows:
        assert cheap is None or cheap == exact, (source_type, text)
    if source_type in ("VARCHAR", "DECIMAL(38,12)"):
        assert [r[1] for r in rows if r[0] == "2.5"] == [3]  # the cheap path was taken
    if source_type == "VARCHAR":
        assert [r[1] for r in rows if r[0] == "5011388.500000000000"] == [5011389]  # its wide form


def test_text_decimals_take_the_fast_path_only_where_it_is_exact():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in DECIMAL_TEXTS])
    rows = con.execute(
        f"SELECT v, {decimal_from_text('v')}, CAST(v AS DECIMAL(38,16)) FROM t ORDER BY v"
    ).fetchall()
    assert [r[1] for r in rows] == [r[2] for r in rows]
    assert Decimal("1000000.5") in [r[1] for r in rows]  # too large for DECIMAL(18,12)
    assert Decimal("1000064.1234567") in [r[1] for r in rows]  # and seven places: the direct cast
    with pytest.raises(duckdb.ConversionException):
        con.execute(f"SELECT {decimal_from_text(repr('1,5'))}").fetchall()
    assert con.execute(f"SELECT {decimal_from_text(repr('x'), 'TRY_CAST')}").fetchone() == (None,)
    assert con.execute(f"SELECT {decimal_from_text(repr('   '))}").fetchone() == (None,)


@pytest.mark.parametrize("source_type", ["VARCHAR", "TIMESTAMP WITH TIME ZONE"])
def test_timestamps_convert_as_a_utc_cast_does(source_type):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    texts = ["2025-10-01T00:00:00Z", "2025-10-01T05:30:00+02:00", "2025-10-31 23:59:59.123456", None]
    con.execute(f"CREATE TABLE t (v {source_type})")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in texts])
    converted = convert("v", source_type, Kind.TIMESTAMP)
    rows = con.execute(f"SELECT {converted}, CAST(CAST(v AS TIMESTAMPTZ) AS TIMESTAMP) FROM t").fetchall()
    assert [r[0] for r in rows] == [r[1] for r in rows]
    assert rows[1][0] == datetime(2025, 10, 1, 3, 30)


def _dimension_rows(ledger):
    return ledger.execute(
        'SELECT "ResourceId", "x_Team", "x_Product", "x_Model", "x_Vendor", "x_CostLayer", '
        '"x_TokenKind", "x_ConsumedTokens" FROM cost_lines ORDER BY "ResourceId"'
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_inline_and_function_lookups_store_the_same_dimensions(tmp_path, monkeypatch, fmt):
    sku = {"ModelId": "gpt-4o", "ModelDeveloper": "OpenAI", "x_TokenKind": "output"}
    rows = [
        {"ResourceId": "r1", "Tags": {"team": "search", "cost_layer": "ai_platform"}, "SkuPriceDetails": sku},
        {"ResourceId": "r2", "Tags": {"Product": "Assistant 'Pro'"}, "ConsumedUnit": "Tokens"},
        {"ResourceId": "r3", "Tags": None, "SkuPriceDetails": {"ModelId": "claude"}},
        {"ResourceId": "r4", "Tags": {"vendor": "Acme", "model": "m"}},
    ]
    path = write_focus(tmp_path / f"dims.{fmt}", rows)
    stored = []
    for limit in (json_lookups.INLINE_LIMIT, 0):
        monkeypatch.setattr(json_lookups, "INLINE_LIMIT", limit)
        with open_ledger("duckdb://:memory:") as ledger:
            ingest_focus(ledger, [path])
            stored.append(_dimension_rows(ledger))
    inline, function = stored
    assert inline == function
    assert inline[0][1:7] == ("search", None, "gpt-4o", "OpenAI", "ai_platform", "output")
    assert inline[1][2] == "Assistant 'Pro'"
    assert inline[2][3] == "claude" and inline[2][5] == "model_api"
    assert inline[3][3:5] == ("m", "Acme")
