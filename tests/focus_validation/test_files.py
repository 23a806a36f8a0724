"""Reading files (CSV as text, CSV.gz, Parquet) and validating at scale."""

from __future__ import annotations

import gzip
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from comptroller.focus_validation import FocusValidationError, validate_file, validate_table


def _write_csv(table: pa.Table, path) -> None:
    pacsv.write_csv(table, path)


def test_valid_csv_csv_gz_and_parquet(valid_table, tmp_path):
    _write_csv(valid_table, tmp_path / "f.csv")
    (tmp_path / "f.csv.gz").write_bytes(gzip.compress((tmp_path / "f.csv").read_bytes()))
    pq.write_table(valid_table, tmp_path / "f.parquet")
    for name in ("f.csv", "f.csv.gz", "f.parquet"):
        report = validate_file(tmp_path / name)
        assert report.ok, report.summary()
        assert report.rows == 4


def test_csv_cells_are_checked_as_written(mutate, tmp_path):
    # A type-inferring reader would turn this column into numbers and hide "+3".
    _write_csv(mutate("BilledCost", 3, "+3", "ListCost", 2, "1,000.00"), tmp_path / "f.csv")
    report = validate_file(tmp_path / "f.csv")
    assert report.find("FOCUS-1.2/BilledCost/numeric-format")[0].row == 3
    assert report.find("FOCUS-1.2/ListCost/numeric-format")[0].row == 2


def test_empty_csv_cell_is_null(tmp_path):
    text = "BilledCost,BillingCurrency\n1.5,USD\n,USD\n"
    (tmp_path / "f.csv").write_text(text)
    [violation] = validate_file(tmp_path / "f.csv").find("FOCUS-1.2/BilledCost/not-null")
    assert violation.row == 2


def test_csv_with_byte_order_mark_keeps_its_first_column_name(tmp_path):
    (tmp_path / "f.csv").write_bytes(b"\xef\xbb\xbfBilledCost,x_Note\n1.5,a\n")
    report = validate_file(tmp_path / "f.csv")
    assert "BilledCost" in report.columns
    assert not report.find("FOCUS-1.2/ColumnHandling/custom-prefix")


def test_unreadable_inputs_raise_a_validation_error(tmp_path):
    (tmp_path / "f.xlsx").write_text("x")
    with pytest.raises(FocusValidationError, match="unsupported file type"):
        validate_file(tmp_path / "f.xlsx")
    with pytest.raises(FocusValidationError, match="no such file"):
        validate_file(tmp_path / "missing.csv")


def test_unsupported_version(valid_table):
    with pytest.raises(FocusValidationError, match="not supported"):
        validate_table(valid_table, version="0.5")


def test_large_table_reports_first_row_and_count(valid_table):
    big = valid_table.take(pa.array([i % 4 for i in range(200_000)]))
    tags = big.column("Tags").to_pylist()
    for row in (123_457, 150_001, 199_998):
        tags[row - 1] = "not json"
    big = big.set_column(big.column_names.index("Tags"), "Tags", pa.array(tags, pa.string()))
    started = time.perf_counter()
    report = validate_table(big)
    elapsed = time.perf_counter() - started
    [violation] = report.find("FOCUS-1.2/Tags/key-value-format")
    assert (violation.row, violation.count) == (123_457, 3)
    assert {v.rule_id for v in report.violations} == {"FOCUS-1.2/Tags/key-value-format"}
    assert elapsed < 60, f"validation of 200k rows took {elapsed:.1f}s; rules must stay vectorised"
