"""The web console: a static single-page app built only on the REST API under ``/api/v1``.

Everything it loads is served from this package (the chart library is vendored under
``static/vendor``), so the console works with no network beyond the server itself.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from comptroller.api.auth import public

STATIC = Path(__file__).with_name("static")


def mount_console(app: FastAPI) -> None:
    """``/`` answers with the app shell and ``/console/*`` with its modules; pages are routed in
    the browser (``/#/explorer``), so no server route is needed per page. The shell and its
    modules are public: they hold no data, and every API call they make signs in."""
    app.mount("/console", StaticFiles(directory=STATIC), name="console")

    @app.get("/", include_in_schema=False, dependencies=[public()])
    def console_shell() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
