from __future__ import annotations

import pytest

from tests.conftest import STATE_BACKENDS
from tests.notify.state_helpers import clear_state, open_module_state


@pytest.fixture(scope="module", params=STATE_BACKENDS)
def module_state(request, tmp_path_factory):
    yield from open_module_state(request, tmp_path_factory)


@pytest.fixture
def state(module_state):
    return clear_state(module_state)
