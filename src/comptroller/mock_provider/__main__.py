"""``python -m comptroller.mock_provider --port N --latency-ms 50``: run the mock provider."""

from __future__ import annotations

import argparse

from aiohttp import web

from comptroller.mock_provider.app import MockSettings, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m comptroller.mock_provider", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fixed delay before every answer")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="delay between stream chunks")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        pass
    settings = MockSettings(latency_ms=args.latency_ms, chunk_delay_ms=args.chunk_delay_ms)
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
