from __future__ import annotations

import pytest

from tests.backends import open_test_ledger


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request, tmp_path):
    with open_test_ledger(request.param, tmp_path) as opened:
        yield opened
