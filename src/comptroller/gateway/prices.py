"""The price catalog, loaded off the gateway's start-up path.

Importing genai-prices parses its bundled catalog: about a fifth of the gateway's import time
and the largest piece a replica does not need to answer ``/healthz``. So the gateway starts
without it and ``start_loading`` loads it (and warms the lookups of every served model) in a
thread once the process is up. A costed call that arrives before that finished waits for it
rather than running unpriced, so budgets never see an unpriced reservation; only requests in the
first few hundred milliseconds can wait, and never longer than the load itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from comptroller.pricing.usage import TokenUsage

if TYPE_CHECKING:
    from comptroller.pricing.catalog import Catalog
    from comptroller.pricing.pricer import PricedUsage, Pricer

log = logging.getLogger(__name__)


class PriceSource(Protocol):
    """What the gateway uses of a ``Pricer``."""

    @property
    def catalog(self) -> Catalog: ...

    def price(self, provider: str, model: str, usage: TokenUsage, at: datetime) -> PricedUsage: ...


def _new_pricer() -> Pricer:
    from comptroller.pricing.pricer import Pricer

    return Pricer()


class DeferredPricer:
    """A ``Pricer`` made on first use (or by ``start_loading``'s thread, whichever comes first)."""

    def __init__(self, factory: Callable[[], Pricer] = _new_pricer) -> None:
        self._factory = factory
        self._pricer: Pricer | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        return self._pricer is not None

    def get(self) -> Pricer:
        pricer = self._pricer
        if pricer is None:
            with self._lock:
                if self._pricer is None:
                    self._pricer = self._factory()
                pricer = self._pricer
        return pricer

    def start_loading(self, then: Callable[[], None] = lambda: None) -> None:
        """Load in a daemon thread, then run ``then`` (warming lookups) there too."""
        if self._thread is not None or self._pricer is not None:
            then()
            return

        def load() -> None:
            try:
                self.get()
                then()
            except Exception:
                log.exception("price catalog could not be loaded in the background; calls load it")

        self._thread = threading.Thread(target=load, name="price-catalog", daemon=True)
        self._thread.start()

    def wait(self, timeout_s: float | None = None) -> None:
        """Until the background load (if one was started) has finished."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def catalog(self) -> Catalog:
        return self.get().catalog

    def price(self, provider: str, model: str, usage: TokenUsage, at: datetime) -> PricedUsage:
        return self.get().price(provider, model, usage, at)
