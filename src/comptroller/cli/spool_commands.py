"""``comptroller spool``: what waits in the gateway's spend spool, and draining it by hand.

The gateway process drains its spool on its own; these commands are for a gateway that is
stopped, a ledger that was down, or a spool folder copied from another host.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from comptroller.cli.output import console, fail, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError, LedgerUnavailableError
from comptroller.gateway.spool import DEFAULT_DIRNAME, spool_status
from comptroller.ingest.gateway_events import OUTAGE_ERRORS, drain_spool

spool_app = typer.Typer(
    help="The gateway's durable spend spool: status, and draining it into the ledger.", no_args_is_help=True
)

DirOpt = Annotated[
    Path | None, typer.Option("--dir", help="Spool folder; default: the spool folder under COMPTROLLER_HOME.")
]


def _directory(ctx: Context, given: Path | None) -> Path:
    return given if given is not None else ctx.settings.home / DEFAULT_DIRNAME


@spool_app.command("drain")
def drain(
    directory: DirOpt = None,
    include_active: Annotated[
        bool,
        typer.Option(
            "--include-active",
            help="Also store the complete records of segments a live gateway still writes.",
        ),
    ] = False,
    archive: Annotated[
        Path | None, typer.Option(help="Move drained segments here instead of deleting them.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Events per ledger delivery (whole segments).")
    ] = 20_000,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Store sealed segments' events in the ledger, then delete the segments.

    A ledger that cannot be reached leaves them in place; replaying a segment adds nothing twice.
    """
    with Context() as ctx:
        folder = _directory(ctx, directory)
        try:
            try:
                ledger = ctx.ledger
            except OUTAGE_ERRORS as exc:
                raise LedgerUnavailableError(
                    f"cannot open the ledger; the spool is unchanged: {exc}"
                ) from exc
            result = drain_spool(
                folder,
                ledger,
                ctx.pricer(),
                batch_size=batch_size,
                include_active=include_active,
                archive=archive,
            )
        except ComptrollerError as exc:
            raise fail(exc) from exc
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"[green]drained[/] {result.segments} segment(s) from {folder}: {result.new_events:,} new event(s), "
        f"{result.duplicates:,} already stored, {result.torn_records} torn and "
        f"{result.corrupt_records} corrupt record(s) skipped, {result.rejected_records} rejected "
        f"in {result.seconds:.2f}s"
    )
    if include_active:
        console.print(f"{result.active_events:,} event(s) read from live segments, left in place")


@spool_app.command("status")
def status(
    directory: DirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Segments waiting to be drained: sealed, still being written, and left by a stopped writer."""
    with Context() as ctx:
        folder = _directory(ctx, directory)
    state = spool_status(folder)
    if as_json:
        print_json({"directory": str(folder), **asdict(state)})
        return
    age = "-" if state.oldest_age_s is None else f"{state.oldest_age_s:,.1f}s"
    table(
        f"spool {folder}",
        ["sealed", "being written", "orphaned", "bytes", "oldest"],
        [[state.sealed_segments, state.active_segments, state.orphaned_segments, f"{state.bytes:,}", age]],
        right=5,
    )
