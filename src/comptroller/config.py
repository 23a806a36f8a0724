"""Where data lives. Embedded defaults (DuckDB + SQLite under one folder) need no server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    ledger_url: str
    """``duckdb:///path/ledger.duckdb`` (default) or ``postgresql://user@host:port/db``."""
    state_url: str
    """A SQLAlchemy URL: ``sqlite:///path/state.db`` (default) or ``postgresql+psycopg://...``."""
    redis_url: str | None = None
    """Where gateway snapshots are published besides the file (``COMPTROLLER_REDIS_URL``)."""
    redis_namespace: str = "comptroller"
    """Prefix of the snapshot's Redis key and channel; the gateway's ``redis_namespace``."""
    reporting_currency: str = "USD"
    """Lines billed in other currencies are converted to it at ingest (``COMPTROLLER_REPORTING_CURRENCY``)."""

    @classmethod
    def from_env(cls, home: Path | str | None = None) -> Settings:
        root = Path(home or os.environ.get("COMPTROLLER_HOME") or ".comptroller").resolve()
        ledger = os.environ.get("COMPTROLLER_LEDGER_URL") or f"duckdb:///{root / 'ledger.duckdb'}"
        state = os.environ.get("COMPTROLLER_STATE_URL") or f"sqlite:///{root / 'state.db'}"
        return cls(
            home=root,
            ledger_url=ledger,
            state_url=state,
            redis_url=os.environ.get("COMPTROLLER_REDIS_URL") or None,
            redis_namespace=os.environ.get("COMPTROLLER_REDIS_NAMESPACE") or "comptroller",
            reporting_currency=(os.environ.get("COMPTROLLER_REPORTING_CURRENCY") or "USD").upper(),
        )

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home
