"""Changes made from the shell: who made them, and getting them to the gateway in the same command.

Every command that edits keys, limits, budgets or kill switches runs the same way: one state
transaction with its audit entry, then a snapshot republished so the gateway hears of it before
the command returns. Keeping that sequence here means a command only says what it changes.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Collection
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from comptroller.cli.output import errors, fail
from comptroller.context import Context
from comptroller.errors import ComptrollerError, InvalidInputError
from comptroller.keys.snapshot_builder import Applied, PublishResult, apply_change

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def cli_actor() -> str:
    """Who the audit log names for a shell command: ``COMPTROLLER_ACTOR``, else the login name.

    The CLI acts with the machine's authority, not a Comptroller login, so the operating-system
    user is the honest default; automation sets ``COMPTROLLER_ACTOR`` to say on whose behalf.
    """
    named = os.environ.get("COMPTROLLER_ACTOR")
    if named:
        return named
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary container uid
        return "cli:unknown"


def invalid(exc: ValidationError) -> typer.Exit:
    """The first problem, led by the field it is about."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return fail(InvalidInputError(f"{field}: {message}" if field else message))


def report_publish(published: PublishResult) -> None:
    """A change is committed even when Redis is down; say loudly that replicas have not heard."""
    if published.redis_error:
        errors.print(
            f"[bold yellow]warning[/]: snapshot v{published.version} written to {published.path}, "
            f"but {published.redis_error}"
        )


def publish_change(change: Callable[[Session, str], T], *, remeasure: Collection[str] = ()) -> Applied[T]:
    """Apply ``change(session, actor)`` in one transaction and republish the gateway snapshot;
    a refused change exits with its message and nothing stored."""
    actor = cli_actor()
    with Context() as ctx:
        try:
            applied = apply_change(ctx, lambda session: change(session, actor), remeasure=remeasure)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    report_publish(applied.published)
    return applied
