"""Changes made from the shell are audited like those made through the API.

The attribution and pricing stores commit on their own, so the entry is appended in a
transaction of its own right after the change; the actor is the operating-system user running
the command (the CLI acts with the machine's authority, not a Comptroller login).
"""

from __future__ import annotations

from typing import Any

from comptroller.cli.changes import cli_actor
from comptroller.context import Context
from comptroller.governance import audit


def record_change(ctx: Context, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
    with ctx.state.session() as session, session.begin():
        audit.record(session, actor=cli_actor(), action=action, subject=subject, detail=detail)
