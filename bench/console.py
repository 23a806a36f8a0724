"""Console speed in a real browser: every page, and explorer questions of new shapes, cold and warm.

For each ledger (the demo, and N generated cost lines) the script starts ``comptroller serve`` on
loopback, waits for its report warm-up (``GET /console/warm-up``), signs in through the login form
in Debian's Chromium (Playwright) and times:

* each page: navigation start to data rendered (the ``ready:<page>`` performance mark the console
  sets when the page's fetches have finished and it has drawn them), first load and second load;
  baseline: the page's main API call alone (httpx, no browser), which the load just cached;
* explorer questions of shapes the server has not been asked (one and two dimensions, a filter,
  each grain): the in-app navigation (``location.hash``, as the Apply button does) to data
  rendered, first time (cold) and second time (warm, answered by the report cache); the cold
  baseline is the same question on list cost through the API alone, which the report cache
  cannot answer and which costs the server the same work (list cost's daily totals are built
  first, after one question kept out of the table, as the warm-up builds effective cost's); the
  warm baseline is the API call alone, cached. That first list-cost question is reported too:
  it is what the first question of a new cost kind or period costs (answered straight from the
  ledger, after which the period's daily totals are built in the background).

Server CPU is read from ``/proc`` around every cold question, so a busy machine stretches the
wall-clock columns but not that one.

    .venv/bin/python bench/console.py                    # demo, then 10,000,000 lines (~10 min)
    .venv/bin/python bench/console.py --rows 200000      # quick
    .venv/bin/python bench/console.py --skip-demo --rows 10000000
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

import spend_query as sq  # bench/ is sys.path[0] when run as a script
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.governance.demo_users import DEMO_USERS, ensure_demo_users
from comptroller.state.repository import add_rule

CHROMIUM = "/usr/bin/chromium"
GOAL_MS = 1000.0
TIMEOUT_MS = 180_000
ADMIN = next(u for u in DEMO_USERS if u.username == "admin")
PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    "overview": ("/overview", {}),
    "explorer": ("/spend/trend", {"by": "team", "grain": "week", "cost": "effective"}),
    "lines": ("/cost-lines", {}),
    "budgets": ("/console/budgets", {}),
    "approvals": ("/approvals", {"limit": 200}),
    "use-cases": ("/console/use-case-actuals", {}),
    "inventory": ("/console/inventory", {}),
    "keys": ("/keys", {}),
    "rules": ("/rules", {}),
    "audit": ("/audit", {"limit": 50}),
}
"""Each page and the API call that carries its data (the baseline of its load)."""

WAIT_FOR_MARK = """([hash, name]) => new Promise(resolve => {
  const started = performance.now();
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if (entry.name === name && entry.startTime >= started) {
        observer.disconnect();
        resolve(entry.startTime - started);
      }
    }
  });
  observer.observe({ type: "mark" });
  location.hash = hash;
})"""
"""Set the hash as the explorer's Apply button does; resolve with the ms until the page is ready."""


@dataclass(frozen=True)
class Question:
    """An explorer question: group-bys, grain and filters (a filter's value is read off the data)."""

    by: tuple[str, ...]
    grain: str
    filter_on: str | None = None

    def label(self, value: str | None) -> str:
        text = f"by {','.join(self.by)} per {self.grain}"
        return f"{text}, {self.filter_on}={value}" if self.filter_on else text


QUESTIONS: tuple[Question, ...] = (
    Question(("model",), "day"),
    Question(("product",), "month"),
    Question(("vendor", "model"), "week"),
    Question(("ServiceName",), "day"),
    Question(("cost_layer", "model"), "month", filter_on="team"),
    Question(("customer",), "week"),
    Question(("agent",), "day", filter_on="team"),
    Question(("SubAccountName", "team"), "week", filter_on="vendor"),
    Question(("tag:env",), "month"),
)


@dataclass
class Results:
    name: str
    lines: int
    built_s: float
    warm_up_s: float
    new_period_ms: float = 0.0
    """The first list-cost question: answered from the ledger, then starts that cost kind's
    daily totals."""
    daily_totals_s: float = 0.0
    """From that question until a second list-cost question no longer waits for the totals."""
    pages: list[tuple[str, float, float, float]] = field(default_factory=list)
    """(page, first load ms, second load ms, API alone ms)."""
    questions: list[tuple[str, float, float, float, float, float]] = field(default_factory=list)
    """(question, cold ms, cold server CPU ms, API alone cold ms, warm ms, API alone warm ms)."""


def load() -> float:
    return os.getloadavg()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTROLLER_")}
    env["COMPTROLLER_HOME"] = str(home)
    return env


def build_demo(home: Path, scale: float) -> tuple[int, float]:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "comptroller.cli.main", "demo", "--scale", str(scale)],
        env=environment(home),
        check=True,
        capture_output=True,
        timeout=900,
    )
    return count_lines(home), time.perf_counter() - started


def build_generated(home: Path, rows: int) -> tuple[int, float]:
    """``spend_query``'s ledger of ``rows`` lines and its eleven rules, moved in time so its 31
    days end today (the overview reads this month and the two before), plus the demo users."""
    first = datetime.now(UTC).date() - timedelta(days=30)
    sql, columns = sq.lines_select(rows)
    moved = sql.replace("TIMESTAMP '2025-10-01'", f"TIMESTAMP '{first}'")
    moved = moved.replace("TIMESTAMP '2025-11-01'", f"TIMESTAMP '{first + timedelta(days=31)}'")
    if moved.count(f"TIMESTAMP '{first}'") != 3 or "2025-" in moved:
        raise RuntimeError("spend_query.lines_select no longer writes its period as this script expects")
    started = time.perf_counter()
    ctx = Context(Settings.from_env(home))
    try:
        ctx.ledger.execute("SET enable_progress_bar = false")
        sq.insert_lines(ctx.ledger, moved, columns)
        with ctx.state.session() as session, session.begin():
            ensure_demo_users(session)
        for rule in sq.RULES:
            add_rule(ctx.state, rule)
    finally:
        ctx.close()
        if "state" in ctx.__dict__:
            ctx.state.close()
    return count_lines(home), time.perf_counter() - started


def count_lines(home: Path) -> int:
    ctx = Context(Settings.from_env(home))
    try:
        return int(ctx.ledger.execute('SELECT count(*) FROM "cost_lines"')[0][0])
    finally:
        ctx.close()


@contextmanager
def serve(home: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "comptroller.cli.main", "serve", "--port", str(port)],
        env=environment(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.2)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        if server.stderr:
            server.stderr.close()


def api_client(url: str) -> httpx.Client:
    token = httpx.post(
        f"{url}/api/v1/auth/login", json={"username": ADMIN.username, "password": ADMIN.password}, timeout=30
    ).json()["token"]
    return httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_MS / 1000
    )


def wait_for_warm_up(api: httpx.Client, limit_s: float = 900) -> float:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        state = api.get("/console/warm-up").json()
        if state["done"]:
            return float(state["seconds"])
        time.sleep(0.5)
    raise RuntimeError("the report warm-up did not finish")


def timed_get(api: httpx.Client, path: str, params: dict[str, Any]) -> float:
    started = time.perf_counter()
    api.get(path, params=params).raise_for_status()
    return (time.perf_counter() - started) * 1000


def sign_in(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('main[data-ready="login"]')
    page.fill("input[name=username]", ADMIN.username)
    page.fill("input[name=password]", ADMIN.password)
    page.click("button[type=submit]")
    page.wait_for_selector('main[data-ready="overview"]')


def page_load(page: Page, url: str, page_id: str) -> float:
    page.goto("about:blank")
    page.goto(f"{url}/#/{page_id}")
    page.wait_for_selector(f'main[data-ready="{page_id}"]')
    errors = page.locator("main .error").all_inner_texts()
    if errors:
        raise RuntimeError(f"{page_id}: {errors}")
    return float(page.evaluate(f"performance.getEntriesByName('ready:{page_id}')[0].startTime"))


def explorer_params(question: Question, value: str | None, cost: str = "effective") -> dict[str, Any]:
    params: dict[str, Any] = {"by": ",".join(question.by), "grain": question.grain, "cost": cost}
    if question.filter_on:
        params["filter"] = f"{question.filter_on}={value or ''}"
    return params


def ask(page: Page, question: Question, value: str | None) -> float:
    from urllib.parse import urlencode

    hash_ = "#/explorer?" + urlencode(explorer_params(question, value), doseq=True)
    elapsed = float(page.evaluate(WAIT_FOR_MARK, [hash_, "ready:explorer"]))
    errors = page.locator("main .error").all_inner_texts()
    if errors:
        raise RuntimeError(f"{question}: {errors}")
    return elapsed


def top_values(api: httpx.Client) -> dict[str, str | None]:
    """The largest team and vendor, for the filtered questions (read once, before timing)."""
    found: dict[str, str | None] = {}
    for dim in ("team", "vendor"):
        rows = api.get("/spend", params={"by": dim}).json()["rows"]
        found[dim] = next((r[dim] for r in rows if r[dim]), None)
    return found


def measure(name: str, home: Path, lines: int, built_s: float) -> Results:
    with serve(home) as (url, server), api_client(url) as api:
        results = Results(name, lines, built_s, wait_for_warm_up(api))
        values = top_values(api)
        started = time.perf_counter()
        results.new_period_ms = timed_get(api, "/spend/trend", {**PAGES["explorer"][1], "cost": "list"})
        timed_get(api, "/spend/trend", {"by": "", "grain": "month", "cost": "list"})  # waits for the build
        results.daily_totals_s = time.perf_counter() - started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 860})
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                sign_in(page, url)
                for page_id, (path, params) in PAGES.items():
                    first = page_load(page, url, page_id)
                    second = page_load(page, url, page_id)
                    results.pages.append((page_id, first, second, timed_get(api, path, params)))
                page.goto(f"{url}/#/explorer")
                page.wait_for_selector('main[data-ready="explorer"]')
                cold: list[tuple[float, float, float]] = []
                for q in QUESTIONS:
                    value = values.get(q.filter_on) if q.filter_on else None
                    cpu = cpu_seconds(server.pid)
                    elapsed = ask(page, q, value)
                    cpu = (cpu_seconds(server.pid) - cpu) * 1000
                    alone = timed_get(api, "/spend/trend", explorer_params(q, value, cost="list"))
                    cold.append((elapsed, cpu, alone))
                for q, (elapsed, cpu, alone) in zip(QUESTIONS, cold, strict=True):
                    value = values.get(q.filter_on) if q.filter_on else None
                    page.evaluate("location.hash = '#/overview'")
                    page.wait_for_selector('main[data-ready="overview"]')
                    warm = ask(page, q, value)
                    cached = timed_get(api, "/spend/trend", explorer_params(q, value))
                    results.questions.append((q.label(value), elapsed, cpu, alone, warm, cached))
            finally:
                browser.close()
    return results


def report(results: Results) -> None:
    print(
        f"\n### {results.name}: {results.lines:,} cost lines (built in {results.built_s:.0f} s; "
        f"report warm-up {results.warm_up_s:.1f} s after start)\n"
    )
    print("| Page | first load (ms) | second load (ms) | API alone (ms) | second / API |")
    print("|---|---:|---:|---:|---:|")
    for page_id, first, second, alone in results.pages:
        print(f"| {page_id} | {first:.0f} | {second:.0f} | {alone:.0f} | {second / alone:.1f}x |")
    print()
    print(
        "| Explorer question (new shape) | cold (ms) | server CPU cold (ms) | API alone cold (ms) "
        "| cold / API | warm (ms) | API alone warm (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, cold, cpu, alone, warm, cached in results.questions:
        print(
            f"| {label} | {cold:.0f} | {cpu:.0f} | {alone:.0f} | {cold / alone:.2f}x "
            f"| {warm:.0f} | {cached:.0f} |"
        )
    print(
        f"\n- first question on list cost (a new cost kind, answered from the ledger; API alone): "
        f"{results.new_period_ms:.0f} ms; its daily totals ready {results.daily_totals_s:.1f} s after it was asked"
    )
    slowest_page = max(first for _, first, _, _ in results.pages)
    colds = [cold for _, cold, *_ in results.questions]
    verdict = "meets" if max(slowest_page, *colds) <= GOAL_MS else "MISSES"
    print(
        f"- slowest page load {slowest_page:.0f} ms; cold questions median "
        f"{statistics.median(colds):.0f} ms, slowest {max(colds):.0f} ms: {verdict} the 1 s goal"
    )
    print(f"- load average now {load():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="generated cost lines (0: skip)")
    parser.add_argument("--skip-demo", action="store_true", help="measure only the generated ledger")
    parser.add_argument("--demo-scale", type=float, default=1.0, help="comptroller demo --scale")
    args = parser.parse_args()

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {sq.machine()}; load average {load():.2f}")
    with tempfile.TemporaryDirectory(prefix="console-bench-") as scratch:
        if not args.skip_demo:
            home = Path(scratch) / "demo"
            lines, built = build_demo(home, args.demo_scale)
            report(measure(f"demo (scale {args.demo_scale:g}, through {date.today()})", home, lines, built))
        if args.rows:
            home = Path(scratch) / "generated"
            lines, built = build_generated(home, args.rows)
            report(measure("generated (bench/spend_query.py's ledger and rules)", home, lines, built))


if __name__ == "__main__":
    main()
