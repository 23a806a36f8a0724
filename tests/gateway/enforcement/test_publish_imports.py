"""The publishing side of snapshots is imported by the control plane and the data plane alike,
so it may depend on the snapshot and budget models only."""

from __future__ import annotations

import ast
from pathlib import Path

import comptroller.gateway.snapshot_publish as snapshot_publish


def test_snapshot_publish_imports_only_the_models():
    tree = ast.parse(Path(snapshot_publish.__file__).read_text())
    project_imports = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("comptroller")
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("comptroller")
    }
    assert project_imports <= {"comptroller.gateway.snapshot", "comptroller.budgets.model"}
