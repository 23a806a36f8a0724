"""The data plane imports nothing from the control plane, so it runs through a database outage."""

from __future__ import annotations

import ast
from pathlib import Path

import comptroller.gateway

FORBIDDEN = ("state", "api", "cli", "ingest", "reports", "attribution", "governance", "context")
PACKAGE = Path(comptroller.gateway.__file__).parent


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: use absolute imports so this check sees them")
            names.append(node.module or "")
    return names


def test_gateway_modules_import_no_control_plane_code():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in modules
        for name in _imports(path)
        if any(name == f"comptroller.{p}" or name.startswith(f"comptroller.{p}.") for p in FORBIDDEN)
    ]
    assert offences == []


def test_the_check_catches_an_offence(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from comptroller.state.db import StateDB\n")
    assert "comptroller.state.db" in _imports(bad)
