"""The module-scoped attribution ledger: tests here only read it."""

from __future__ import annotations

import pytest

from comptroller.ingest.focus_ingest import ingest_focus
from tests.attribution.lines import LINES
from tests.focus_fixtures import write_focus


@pytest.fixture(scope="module")
def billing(module_ledger, tmp_path_factory):
    ingest_focus(module_ledger, [write_focus(tmp_path_factory.mktemp("focus") / "lines.csv", LINES)])
    return module_ledger
