"""Kill switches checked on the hot path with one dictionary lookup per scope.

The board rebuilds its index once per snapshot version, so a request never walks the list of
switches; replicas learn of a new switch when their snapshot source delivers the next version.
"""

from __future__ import annotations

from collections.abc import Mapping

from comptroller.gateway.snapshot import KillSwitch, Snapshot


class SnapshotKillSwitchBoard:
    """``KillSwitchBoard`` over the current snapshot's kill switches."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._version: int | None = None
        self._by_scope: dict[str, dict[str, KillSwitch]] = {}
        if snapshot is not None:
            self.apply_snapshot(snapshot)

    @property
    def version(self) -> int | None:
        """Version of the snapshot the board was last built from."""
        return self._version

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Index the snapshot's switches by scope and value (the earliest engaged wins a tie)."""
        by_scope: dict[str, dict[str, KillSwitch]] = {}
        for switch in sorted(snapshot.kill_switches, key=lambda s: s.engaged_at):
            by_scope.setdefault(switch.scope, {}).setdefault(switch.scope_value, switch)
        self._by_scope = by_scope
        self._version = snapshot.version

    def engaged(self, attribution: Mapping[str, str | None]) -> KillSwitch | None:
        for scope, switches in self._by_scope.items():
            value = attribution.get(scope)
            if value is not None:
                switch = switches.get(value)
                if switch is not None:
                    return switch
        return None
