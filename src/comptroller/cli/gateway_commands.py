"""``comptroller gateway``: run the OpenAI- and Anthropic-compatible gateway (the data plane).

Besides serving, this command drains the gateway's spend spool into the ledger on a background
thread (every ``--drain-interval`` seconds and once more at shutdown), so one process both
serves traffic and records its spend. Replicas started with ``python -m comptroller.gateway``
only spool; a ``comptroller gateway`` or ``comptroller spool drain`` sharing the spool folder
loads their events.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from comptroller.cli.output import console, fail
from comptroller.errors import ComptrollerError


def gateway(
    config: Annotated[Path, typer.Option("--config", help="Gateway YAML file (see examples/gateway.yaml).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; more than one needs redis_url.")] = 1,
    drain_interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between loads of spooled spend events into the ledger.")
    ] = 5.0,
) -> None:
    """Run the gateway: keys, budgets, rate limits, kill switches, routing and spend logging."""
    from comptroller.context import Context
    from comptroller.gateway.build import comptroller_home
    from comptroller.gateway.config import load_config
    from comptroller.gateway.serve import check, serve
    from comptroller.ingest.gateway_events import SpoolDrainer
    from comptroller.ledger.store import open_ledger

    try:
        deployments = check(config, workers)
        spool_dir = load_config(config).spool_dir or comptroller_home() / "spool"
    except ComptrollerError as exc:
        raise fail(exc) from exc
    context = Context()
    ledger_url = context.settings.ledger_url
    # ``context.pricer`` builds a Pricer per drain, so contract prices edited while the gateway
    # runs apply from the next batch of events on.
    drainer = SpoolDrainer(spool_dir, lambda: open_ledger(ledger_url), drain_interval, pricer=context.pricer)
    console.print(
        f"gateway on http://{host}:{port} ({workers} worker(s), {deployments} deployment(s)); "
        f"spend drains from {spool_dir} into the ledger every {drain_interval:g}s"
    )
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it with the handler that was
    # installed before it started: this one turns that into a normal exit, so the final drain
    # below still runs.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    drainer.start()
    try:
        serve(config, host, port, workers)
    finally:
        try:
            drainer.stop()  # one last drain: a clean shutdown leaves no spend in the spool
        finally:
            context.close()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
