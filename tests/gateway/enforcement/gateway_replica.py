"""``python -m tests.gateway.enforcement.gateway_replica CONFIG.json``: one gateway process.

Builds the gateway from the config file exactly as production does, serves it with uvicorn on
a free loopback port, and prints that port on the first line of stdout.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import uvicorn
import uvloop

from comptroller.gateway.build import build_app
from comptroller.gateway.config import parse_config


async def serve(config_path: Path) -> None:
    parts = build_app(parse_config(json.loads(config_path.read_text())))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(parts.app, http="httptools", lifespan="on", access_log=False, log_level="warning")
    )
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    print(sock.getsockname()[1], flush=True)
    await task


if __name__ == "__main__":
    uvloop.run(serve(Path(sys.argv[1])))
