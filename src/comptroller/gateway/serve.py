"""Run the gateway under uvicorn (uvloop, httptools, no access log, no proxy-header rewriting),
one or more workers.

``python -m comptroller.gateway --config FILE`` starts it without loading the control plane's
CLI, so a replica starts quickly; ``comptroller gateway`` calls the same ``serve``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from comptroller.errors import ConfigError
from comptroller.gateway.build import CONFIG_ENV
from comptroller.gateway.config import load_config
from comptroller.gateway.http_protocol import GatewayHttpProtocol


def check(config_path: Path, workers: int) -> int:
    """Validate before forking workers; returns the number of deployments."""
    parsed = load_config(config_path)
    if workers > 1 and not parsed.redis_url:
        raise ConfigError(
            f"{config_path}: {workers} workers need redis_url, so that budgets and rate limits are "
            "counted once across the worker processes rather than once per process"
        )
    return len(parsed.deployments)


def serve(config_path: Path, host: str = "127.0.0.1", port: int = 4000, workers: int = 1) -> None:
    os.environ[CONFIG_ENV] = str(config_path.resolve())
    uvicorn.run(
        "comptroller.gateway.build:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=GatewayHttpProtocol,  # httptools, a response's head and body in one write
        lifespan="on",
        access_log=False,
        log_level="warning",
        # Nothing reads the peer address, so the per-request X-Forwarded-* rewrite is skipped;
        # the Server header only costs bytes on every response.
        proxy_headers=False,
        server_header=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m comptroller.gateway", description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        check(args.config, args.workers)
    except ConfigError as exc:
        parser.exit(2, f"error ({exc.code}): {exc.message}\n")
    serve(args.config, args.host, args.port, args.workers)
