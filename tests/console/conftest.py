"""A live ``comptroller serve`` over a demo-loaded home, and Debian's Chromium driven by
Playwright against it.

The demo is loaded once per session (``COMPTROLLER_E2E_SCALE``, default 0.1 of the full demo,
keeps it to seconds); the server runs as a real subprocess on a free port. With
``COMPTROLLER_SCREENSHOTS=DIR`` the same run saves the console's pages as ``DIR/*.png``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from comptroller.governance import users
from comptroller.state.db import StateDB

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "console-pass-1"
ACCOUNTS: dict[str, tuple[list[str], list[str]]] = {
    "console-admin": (["admin"], []),
    "console-finops": (["finops"], []),
    "console-viewer": (["viewer"], []),
    "console-approver": (["approver"], []),
    "console-owner": (["team_owner"], ["search"]),
}
DESKTOP = {"width": 1280, "height": 860}
TIMEOUT_MS = 30_000
"""For a first, uncached query on a busy machine; a page's load time is asserted separately."""
expect.set_options(timeout=TIMEOUT_MS)
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def comptroller(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "comptroller.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


@dataclass
class Live:
    url: str
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        """A session token for ``username``, from the same login endpoint the console uses."""
        if username not in self.tokens:
            answer = httpx.post(
                f"{self.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            answer.raise_for_status()
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def api(self, username: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token(username)}"},
            timeout=30,
        )


def create_accounts(state_url: str) -> None:
    db = StateDB(state_url)
    try:
        with db.session() as session, session.begin():
            for name, (roles, teams) in ACCOUNTS.items():
                users.create_user(
                    session, name, actor="user:console-tests", password=PASSWORD, roles=roles, teams=teams
                )
    finally:
        db.close()


def seed_governance(live: Live) -> None:
    """Budgets, an agent, a gateway key and a pending request, made through the API as their
    owners would, so the governance pages have something to show and act on."""
    with live.api("console-finops") as finops, live.api("console-owner") as owner:
        portfolio = {"name": "AI portfolio", "scope": "portfolio", "amount": "250000", "behaviour": "alert"}
        root = finops.post("/budgets", json={"id": "portfolio", **portfolio})
        root.raise_for_status()
        for budget in (
            {"id": "search", "name": "Search", "scope": "team", "scope_value": "search", "amount": "40000"},
            {"id": "ml-research", "name": "ML research", "scope": "team", "scope_value": "ml-research"}
            | {"amount": "90000", "behaviour": "hard_cap"},
        ):
            finops.post(
                "/budgets", json={"behaviour": "approval", "parent_id": "portfolio", **budget}
            ).raise_for_status()
        finops.post(
            "/agents",
            json={
                "id": "support-triage-agent",
                "name": "Support triage",
                "owner": "maya.chen@northwind.example",
                "team": "support-ai",
                "budget_per_run": "2",
                "budget_per_period": "500",
            },
        ).raise_for_status()
        finops.post(
            "/keys", json={"name": "search assistant (prod)", "attribution": {"team": "search"}}
        ).raise_for_status()
        owner.post(
            "/approvals", json={"budget_id": "search", "new_amount": "48000", "reason": "launch week traffic"}
        ).raise_for_status()
        finops.post("/alerts/evaluate", params={"send": "false"}).raise_for_status()
        for use_case in (
            {
                "name": "Support ticket triage",
                "purpose": "Classify and route inbound support tickets; draft first replies.",
                "owner": "maya.chen@northwind.example",
                "team": "support-ai",
                "vendor": "anthropic",
                "model": "claude-sonnet-4",
                "expected_monthly_cost": "150",
                "expected_monthly_value": "12000",
                "customer_impact": "indirect",
                "autonomy": "human_approved",
                "links": {"dimensions": {"agent": "support-triage-agent"}},
            },
            {
                "name": "Search answers",
                "purpose": "Generated answers on the product search page.",
                "owner": "li.wei@northwind.example",
                "team": "search",
                "vendor": "openai",
                "model": "gpt-4o",
                "expected_monthly_cost": "2500",
                "expected_monthly_value": "40000",
                "customer_impact": "direct",
                "links": {"dimensions": {"team": "search", "cost_layer": "model_api"}},
            },
        ):
            finops.post("/use-cases", json=use_case).raise_for_status()


@pytest.fixture(scope="package")
def live(tmp_path_factory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("console") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTROLLER_")}
    env["COMPTROLLER_HOME"] = str(home)
    comptroller("demo", "--scale", os.environ.get("COMPTROLLER_E2E_SCALE", "0.1"), env=env)
    create_accounts(f"sqlite:///{home / 'state.db'}")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "comptroller.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"comptroller serve did not start: {server.stderr.read() if server.stderr else ''}"
                )
            time.sleep(0.2)
        running = Live(url=url, home=home)
        seed_governance(running)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        if server.stderr:
            server.stderr.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Package-scoped: Playwright's sync API runs an event loop on the main thread while it is
    open, so it must close before the other packages' asyncio tests run."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()


def signed_in_context(
    browser: Browser, live: Live, username: str, viewport: dict[str, int]
) -> BrowserContext:
    """A browser context whose tab starts signed in as ``username`` (the login form itself is
    exercised by its own test)."""
    token = live.token(username)
    roles, teams = ACCOUNTS[username]
    user = {"username": username, "roles": roles, "teams": teams}
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.add_init_script(
        f"if (location.origin === {json.dumps(live.url)}) {{"
        f"sessionStorage.setItem('comptroller.token', {json.dumps(token)});"
        f"sessionStorage.setItem('comptroller.user', {json.dumps(json.dumps(user))});}}"
    )
    return context


@pytest.fixture
def as_user(browser, live) -> Iterator:
    """``as_user(name, viewport=DESKTOP)`` -> a Page signed in as ``name``."""
    contexts: list[BrowserContext] = []

    def open_page(username: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = signed_in_context(browser, live, username, viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def anonymous(browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


SCREENSHOTS = os.environ.get("COMPTROLLER_SCREENSHOTS")
LOAD_TIMES: dict[str, list[float]] = {}


def screenshot(page: Page, name: str) -> None:
    """Saved only in a screenshot run (``make screenshots``)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def open_page(page: Page, live: Live, route: str) -> float:
    """Load ``route`` as a fresh document and wait until its data is rendered; returns the time
    from navigation start to rendered data in ms (the page's ``ready:`` performance mark)."""
    page_id = route.split("?")[0]
    page.goto("about:blank")
    page.goto(f"{live.url}/#/{route}")
    page.wait_for_selector(f'main[data-ready="{page_id}"]')
    ready = page.evaluate(f"performance.getEntriesByName('ready:{page_id}')[0].startTime")
    LOAD_TIMES.setdefault(page_id, []).append(ready)
    return ready


def pytest_terminal_summary(terminalreporter) -> None:
    """Navigation start to data rendered, per page: the session's first load (which may compute
    what the report cache then keeps) apart from the loads after it."""
    if not LOAD_TIMES:
        return
    terminalreporter.section("console page loads, ms (navigation start to data rendered)")
    terminalreporter.write_line(
        f"{'page':<12} {'first':>7} {'best':>7} {'median':>7} {'worst':>7}  later loads"
    )
    for page_id, times in sorted(LOAD_TIMES.items()):
        later = sorted(times[1:]) or [times[0]]
        terminalreporter.write_line(
            f"{page_id:<12} {times[0]:7.0f} {later[0]:7.0f} {later[len(later) // 2]:7.0f} {later[-1]:7.0f}  {len(times) - 1}"
        )
