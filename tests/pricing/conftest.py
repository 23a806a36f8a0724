from __future__ import annotations

import pytest

from comptroller.pricing import Pricer


@pytest.fixture
def pricer() -> Pricer:
    """A Pricer on the bundled genai-prices data, without overrides."""
    return Pricer()
