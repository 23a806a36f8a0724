from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An embedded Comptroller home of its own; the environment cannot point elsewhere."""
    monkeypatch.setenv("COMPTROLLER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMPTROLLER_LEDGER_URL", raising=False)
    monkeypatch.delenv("COMPTROLLER_STATE_URL", raising=False)
    return tmp_path
