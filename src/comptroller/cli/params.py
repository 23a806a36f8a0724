"""Parsing command-line values that Typer cannot type by itself."""

from __future__ import annotations

from datetime import date

import typer

from comptroller.pairs import split_pair


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option) from None


def parse_pairs(values: list[str] | None, option: str, shape: str = "KEY=VALUE") -> dict[str, str]:
    pairs = {}
    for item in values or []:
        try:
            key, value = split_pair(item, shape)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None
        pairs[key] = value
    return pairs
