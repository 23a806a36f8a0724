"""The handles a command or request needs: settings, the ledger and the state database."""

from __future__ import annotations

from functools import cached_property

from comptroller.attribution.specs import Attribution
from comptroller.config import Settings
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.pricing import Pricer
from comptroller.state.db import StateDB
from comptroller.state.repository import load_attribution, load_overrides


class Context:
    """Opens what is used, lazily, and closes it all at the end; a DuckDB ledger file admits one
    writing process at a time, so commands hold it no longer than they need."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.ensure_home()

    @cached_property
    def ledger(self) -> Ledger:
        return open_ledger(self.settings.ledger_url)

    @cached_property
    def state(self) -> StateDB:
        return StateDB(self.settings.state_url)

    def attribution(self) -> Attribution:
        return load_attribution(self.state)

    def pricer(self) -> Pricer:
        return Pricer(load_overrides(self.state))

    def close(self) -> None:
        if "ledger" in self.__dict__:
            self.ledger.close()
            del self.__dict__["ledger"]
        if "state" in self.__dict__:
            self.state.close()
            del self.__dict__["state"]

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
