"""The data plane imports nothing from the control plane, so it runs through a database outage."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def test_starting_a_gateway_does_not_load_the_price_catalog(tmp_path):
    """genai-prices is the largest import a replica can put off; it loads after start-up."""
    code = (
        "import sys\n"
        "from comptroller.gateway.build import build_app\n"
        "from comptroller.gateway.config import parse_config\n"
        "import comptroller.gateway.serve\n"
        "config = parse_config({'deployments': [{'name': 'oa', 'provider': 'openai',"
        " 'base_url': 'http://127.0.0.1:9/v1', 'models': {'gpt-4o-mini': 'gpt-4o-mini'}}],"
        " 'spool_dir': sys.argv[1], 'snapshot': {'file': sys.argv[1] + '/s.json'}})\n"
        "parts = build_app(config)\n"
        "print(sorted(m for m in sys.modules if m.startswith('genai_prices')))\n"
        "parts.admission.start_pricing()\n"
        "parts.admission.pricer.wait(60)\n"
        "print(sorted(m for m in sys.modules if m == 'genai_prices'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == ["[]", "['genai_prices']"]
