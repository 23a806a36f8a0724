"""Reading FOCUS files for validation: every CSV cell as text, so format rules see what was written.

Letting a CSV reader infer types would "fix" values before they are checked ("1,200" becomes a
string column, "+3" becomes 3); Parquet keeps its declared types, which the format rules inspect.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from comptroller.focus_validation.errors import FocusValidationError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


def read_focus_file(path: str | Path) -> pa.Table:
    """Load a CSV, gzip'd CSV or Parquet file; raise FocusValidationError saying what to do."""
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise FocusValidationError(f"{path}: no such file; pass the path of a FOCUS export")
    try:
        if name.endswith((".parquet", ".pq")):
            return pq.read_table(path)
        if name.endswith(CSV_SUFFIXES):
            return _read_csv(path, delimiter="\t" if ".tsv" in name else ",")
    except (pa.ArrowInvalid, OSError) as exc:
        raise FocusValidationError(f"{path}: cannot be read as a FOCUS export ({exc})") from exc
    raise FocusValidationError(f"{path}: unsupported file type; use .csv, .csv.gz or .parquet")


def _read_csv(path: Path, delimiter: str) -> pa.Table:
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    # First pass reads only the header (one small block) to learn the column names.
    with pacsv.open_csv(path, parse_options=parse) as reader:
        names = reader.schema.names
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    return pacsv.read_csv(path, parse_options=parse, convert_options=convert)
