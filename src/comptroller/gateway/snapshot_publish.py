"""Publishing a gateway snapshot: a JSON file replaced atomically, or a Redis key plus a message.

The control plane calls these; the data plane imports only the key and channel names, so this
module depends on nothing but the snapshot model.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from comptroller.gateway.snapshot import Snapshot


def snapshot_key(namespace: str) -> str:
    """The Redis key holding the namespace's latest snapshot as JSON."""
    return f"{{{namespace}}}:snapshot"


def snapshot_version_key(namespace: str) -> str:
    """The Redis key holding the latest snapshot's version, for a cheap check without the JSON."""
    return f"{{{namespace}}}:snapshot:version"


def snapshot_channel(namespace: str) -> str:
    """The pub/sub channel on which each new snapshot's version is announced."""
    return f"{{{namespace}}}:snapshot:changed"


def write_snapshot_file(path: str | os.PathLike[str], snapshot: Snapshot) -> Path:
    """Write the snapshot next to ``path`` and rename it into place.

    A reader therefore sees the old file or the new one, never a half-written one; the data is
    flushed to disk before the rename so a crash cannot leave an empty file behind it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = snapshot.model_dump_json().encode()
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


async def publish_snapshot_redis(url: str, namespace: str, snapshot: Snapshot) -> None:
    """Store the snapshot and announce its version in one MULTI, so no subscriber hears of a
    version before it can read it."""
    import redis.asyncio as redis  # here: a replica fed from a file never loads the Redis client

    client = redis.Redis.from_url(url)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(snapshot_key(namespace), snapshot.model_dump_json())
            pipe.set(snapshot_version_key(namespace), str(snapshot.version))
            pipe.publish(snapshot_channel(namespace), str(snapshot.version))
            await pipe.execute()
    finally:
        await client.aclose()
