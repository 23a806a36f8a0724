"""Rendering results for people (Rich tables) and for programs (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from comptroller.errors import ComptrollerError

console = Console()
errors = Console(stderr=True)


def money(value: Decimal | float | None, currency: str = "USD") -> str:
    if value is None:
        return "-"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{Decimal(value):,.2f}"


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, right: int = 0) -> None:
    """``right``: how many trailing columns are numbers, right-aligned."""
    out = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        out.add_column(name, justify="right" if i >= len(columns) - right else "left")
    for row in rows:
        out.add_row(*("-" if v is None else str(v) for v in row))
    console.print(out)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def fail(error: ComptrollerError) -> typer.Exit:
    errors.print(
        f"[bold red]error[/] ({error.code}): {error.message}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(code=2)
