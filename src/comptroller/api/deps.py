"""Dependencies every router shares: the per-request ``Context``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from comptroller.context import Context


def request_context(request: Request) -> Iterator[Context]:
    """Each request opens what it uses and lets go, so CLI writes can take the ledger between."""
    with Context(request.app.state.settings) as ctx:
        yield ctx


Ctx = Annotated[Context, Depends(request_context)]
