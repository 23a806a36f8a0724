"""docs/cli.md is generated from the CLI itself; a changed command without regenerated docs fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from comptroller.cli.main import app

REFERENCE = Path(__file__).parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current(tmp_path):
    out = tmp_path / "cli.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "comptroller.cli.main",
            "utils",
            "docs",
            "--name",
            "comptroller",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_text() == REFERENCE.read_text(), "run `make docs` to regenerate docs/cli.md"


def test_every_command_says_what_it_does():
    def walk(group, path):
        for name, command in group.commands.items():
            yield f"{path} {name}", command
            if hasattr(command, "commands"):
                yield from walk(command, f"{path} {name}")

    undocumented = [
        path for path, cmd in walk(typer.main.get_command(app), "comptroller") if not (cmd.help or "").strip()
    ]
    assert undocumented == []
