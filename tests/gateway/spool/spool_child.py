"""Run as a child process: append spend events forever and report each durable prefix.

Prints ``flushed N`` once events 0..N-1 are fsynced; the parent kills the process with SIGKILL at
an arbitrary moment and checks that every reported event reaches the ledger exactly once.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from comptroller.gateway.spool import Spool
from tests.gateway.spool.helpers import spend_event


async def main(directory: Path) -> None:
    spool = Spool(directory, batch_max=64, flush_interval_s=0.005, segment_max_bytes=64 * 1024)
    await spool.start()
    n = 0
    while True:
        for _ in range(97):  # not a multiple of batch_max: batches straddle reports
            spool.append(spend_event(n))
            n += 1
        await spool.flush()
        print(f"flushed {n}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
