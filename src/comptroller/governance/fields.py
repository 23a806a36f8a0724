"""Text field types for API bodies: bounded, and free of NUL characters, which PostgreSQL
cannot store; a request carrying one gets a 422 naming the field instead of a server error."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, Field(min_length=1, max_length=200), NoNul]
ShortText = Annotated[str, Field(max_length=256), NoNul]
LongText = Annotated[str, Field(max_length=4000), NoNul]
