"""The console in a real browser: sign-in, every page, drill-down, explorer, rules, phones."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import PASSWORD, PHONE, open_page, screenshot

MONEY = re.compile(r"-?\$[\d,]+(?:\.\d+)?")
PAGE_BUDGET_MS = 1000


def amount(text: str) -> float:
    found = MONEY.search(text)
    assert found, f"no amount in {text!r}"
    return float(found.group().replace("$", "").replace(",", ""))


def nav_titles(page: Page) -> list[str]:
    return page.locator("#nav a").all_inner_texts()


def test_sign_in_with_a_project_user_and_see_only_what_the_role_may(anonymous, live):
    page = anonymous
    page.goto(live.url)
    page.wait_for_selector('main[data-ready="login"]')
    screenshot(page, "login")
    page.fill("input[name=username]", "console-viewer")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("wrong")

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector('main[data-ready="overview"]')
    titles = nav_titles(page)
    assert {"Overview", "Spend", "Budgets", "Rules"} <= set(titles)
    assert "Audit" not in titles and "Approvals" in titles
    assert page.locator("#draft").count() == 0

    page.goto(f"{live.url}/#/audit")
    page.wait_for_selector('main[data-ready="none"]')
    expect(page.locator("main .error")).to_contain_text("no page")

    page.click("#logout")
    page.wait_for_selector('main[data-ready="login"]')
    assert nav_titles(page) == []


def test_admin_sees_every_page(as_user, live):
    page = as_user("console-admin")
    open_page(page, live, "overview")
    assert {"Overview", "Spend", "Budgets", "Approvals", "Rules", "Audit"} <= set(nav_titles(page))


@pytest.mark.parametrize(
    "route",
    [
        "overview",
        "explorer?by=team,model&grain=month",
        "lines?filter=team=search",
        "budgets",
        "approvals",
        "use-cases",
        "inventory",
        "keys",
        "rules",
        "audit",
    ],
)
def test_each_page_opens_without_errors_within_a_second(as_user, live, route):
    page = as_user("console-admin")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_page(page, live, route)  # the first load may compute what later loads reuse
    # The best of three: other processes on a shared machine can only slow a load down.
    elapsed = min(open_page(page, live, route) for _ in range(3))
    assert page.locator("main .error").count() == 0, page.locator("main .error").all_inner_texts()
    assert errors == []
    assert elapsed < PAGE_BUDGET_MS, f"{route} took {elapsed:.0f} ms"
    screenshot(page, route.split("?")[0])


def test_drill_from_the_overview_to_the_cost_lines(as_user, live):
    page = as_user("console-admin")
    open_page(page, live, "overview")
    this_month = amount(page.locator('[data-testid="this-month"]').inner_text())
    page.click('[data-testid="this-month"] a')
    page.wait_for_selector('main[data-ready="lines"]')
    assert amount(page.locator('[data-testid="line-total"]').inner_text()) == pytest.approx(this_month, abs=1)
    assert page.locator("main tbody tr").count() == 50

    page.go_back()
    page.wait_for_selector('main[data-ready="overview"]')
    team_card = page.locator(".card", has=page.locator("h2", has_text="Top teams"))
    first = team_card.locator("tbody tr").first
    team = first.locator("td").first.inner_text()
    figure = amount(first.locator("td").last.inner_text())
    first.locator("a.drill").click()
    page.wait_for_selector('main[data-ready="lines"]')
    expect(page.locator(".chips")).to_contain_text(f"team = {team}")
    assert amount(page.locator('[data-testid="line-total"]').inner_text()) == pytest.approx(figure, abs=1)
    assert set(page.locator("main tbody tr td:nth-child(5)").all_inner_texts()) == {team}
    screenshot(page, "cost-lines")


def test_explorer_groups_by_two_dimensions_downloads_csv_and_drills(as_user, live):
    page = as_user("console-finops")
    open_page(page, live, "explorer?by=team,model&grain=month")
    total = amount(page.locator('[data-testid="explorer-total"]').inner_text())
    header = [h.strip() for h in page.locator("#groups thead th").all_text_contents()]
    assert header[:2] == ["team", "model"] and header[-2:] == ["Total", "Share"]
    with page.expect_download() as download_info:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert list(rows[0]) == ["period", "team", "model", "cost"]
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(total, abs=1)

    first = page.locator("#groups tbody tr").first
    cell = first.locator("td").nth(2)
    figure = amount(cell.inner_text())
    cell.locator("a").click()
    page.wait_for_selector('main[data-ready="lines"]')
    assert amount(page.locator('[data-testid="line-total"]').inner_text()) == pytest.approx(figure, abs=0.01)

    open_page(page, live, "explorer?by=cost_layer&grain=week")
    page.fill("input[name=fdim]", "team")
    page.fill("input[name=fvalue]", "search")
    page.click("#query button[type=submit]")
    page.wait_for_function("location.hash.includes('filter=team%3Dsearch')")
    page.wait_for_selector('main[data-ready="explorer"]')
    expect(page.locator("#filters")).to_contain_text("team=search")
    assert amount(page.locator('[data-testid="explorer-total"]').inner_text()) < total


ASK = """hash => new Promise(resolve => {
  const started = performance.now();
  const observer = new PerformanceObserver(list => {
    const ready = list.getEntries().find(e => e.name === "ready:explorer" && e.startTime >= started);
    if (ready) { observer.disconnect(); resolve(ready.startTime - started); }
  });
  observer.observe({ type: "mark" });
  location.hash = hash;
})"""


def test_explorer_answers_questions_it_was_never_asked_within_a_second(as_user, live):
    with live.api("console-finops") as api:
        deadline = time.monotonic() + 120
        while not api.get("/console/warm-up").json()["done"]:
            assert time.monotonic() < deadline, "the report warm-up did not finish"
            time.sleep(0.2)
        questions = [
            ("customer,workflow", "day", "vendor=OpenAI"),
            ("risk_tier", "week", "environment="),
            ("SubAccountName,feature", "month", "model=northwind-llama-ft-v2"),
        ]
        expected = [
            api.get("/spend", params={"by": by, "filter": f}).json()["total"] for by, _, f in questions
        ]
    assert all(total > 0 for total in expected)
    page = as_user("console-finops")
    open_page(page, live, "explorer")
    for (by, grain, flt), total in zip(questions, expected, strict=True):
        elapsed = page.evaluate(ASK, f"#/explorer?by={by}&grain={grain}&filter={flt}")
        assert page.locator("main .error").count() == 0
        assert amount(page.locator('[data-testid="explorer-total"]').inner_text()) == pytest.approx(
            total, abs=1
        )
        assert elapsed < PAGE_BUDGET_MS, f"by {by} per {grain}, {flt}: {elapsed:.0f} ms"


def test_a_rule_previews_its_totals_and_moves_them_once_saved(as_user, live):
    page = as_user("console-finops")
    api = live.api("console-finops")
    before = {r["team"]: r["cost"] for r in api.get("/spend", params={"by": "team"}).json()["rows"]}
    open_page(page, live, "rules")
    assert page.locator("#allocations tbody tr").count() == len(api.get("/allocations").json()) > 0
    page.select_option("select[name=dimension]", "team")
    page.fill("input[name=value]", "console-e2e")
    page.fill("input[name=condition]", "ServiceName = 'Cursor Business'")
    page.check("input[name=override]")
    page.click("#preview")
    expect(page.locator('[data-testid="moved"]')).to_contain_text("moves")
    moved = amount(page.locator('[data-testid="moved"]').inner_text())
    assert moved > 0
    assert page.locator("#result tbody tr").count() >= 2
    screenshot(page, "rules-preview")
    page.click("#save")
    expect(page.locator(".notice")).to_contain_text("Rule saved")
    try:
        after = {r["team"]: r["cost"] for r in api.get("/spend", params={"by": "team"}).json()["rows"]}
        assert after["console-e2e"] == pytest.approx(moved, abs=1)
        assert "console-e2e" not in before
        open_page(page, live, "explorer?by=team&grain=month")
        row = page.locator("#groups tbody tr", has=page.locator("td", has_text="console-e2e"))
        assert amount(row.locator("td").nth(-2).inner_text()) == pytest.approx(moved, abs=1)
    finally:
        for rule in api.get("/rules").json():
            if rule["value"] == "console-e2e":
                api.delete(f"/rules/{rule['id']}").raise_for_status()


def test_a_team_owner_sees_only_their_team(as_user, live):
    page = as_user("console-owner")
    open_page(page, live, "overview")
    team_card = page.locator(".card", has=page.locator("h2", has_text="Top teams"))
    assert set(team_card.locator("tbody tr td:first-child").all_inner_texts()) == {"search"}
    assert "Audit" not in nav_titles(page) and "Budgets" not in nav_titles(page)


def test_pages_fit_a_phone(as_user, live):
    page = as_user("console-admin", viewport=PHONE)
    for route in ("overview", "explorer?by=team", "rules"):
        open_page(page, live, route)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{route} is {overflow}px wider than the phone"
        assert page.locator("#nav a").first.is_visible()
    open_page(page, live, "overview")
    screenshot(page, "overview-phone")


def test_an_approver_approves_a_budget_increase(as_user, live):
    page = as_user("console-approver")
    open_page(page, live, "approvals")
    row = page.locator("tbody tr", has=page.locator("td", has_text="launch week traffic"))
    expect(row).to_contain_text("budget search")
    screenshot(page, "approvals")
    row.locator("[data-approve]").click()
    expect(page.locator("#confirm")).to_be_visible()
    page.fill("#confirm-reason", "ok for launch week")
    page.click("#confirm-ok")
    expect(page.locator(".notice")).to_contain_text("approved")
    expect(page.locator("tbody tr", has=page.locator("td", has_text="launch week traffic"))).to_have_count(0)
    with live.api("console-approver") as api:
        decided = [
            r
            for r in api.get("/approvals", params={"status": "approved"}).json()
            if r["budget_id"] == "search"
        ]
        assert decided and decided[0]["decided_by"] == "user:console-approver"
        assert float(api.get("/budgets/search").json()["amount"]) == 48000


def test_a_kill_switch_asks_first_then_stops_the_agent(as_user, live):
    page = as_user("console-finops")
    open_page(page, live, "keys")
    agent = page.locator("#agents tbody tr", has=page.locator("td", has_text="support-triage-agent"))
    agent.locator("[data-kill]").click()
    expect(page.locator("#confirm")).to_be_visible()
    page.click("#confirm button[value=cancel]")
    with live.api("console-finops") as api:
        assert api.get("/kill-switches").json() == []

        agent.locator("[data-kill]").click()
        page.fill("#confirm-reason", "runaway loop in triage")
        page.click("#confirm-ok")
        expect(page.locator(".notice")).to_contain_text("engaged")
        agent = page.locator("#agents tbody tr", has=page.locator("td", has_text="support-triage-agent"))
        expect(agent).to_contain_text("stopped")
        engaged = api.get("/kill-switches").json()
        assert [(s["scope"], s["scope_value"], s["reason"]) for s in engaged] == [
            ("agent", "support-triage-agent", "runaway loop in triage")
        ]
        screenshot(page, "keys")

        agent.locator("[data-release]").click()
        page.click("#confirm-ok")
        expect(page.locator(".notice")).to_contain_text("released")
        assert api.get("/kill-switches").json() == []


def test_budgets_show_burn_and_forecast_in_a_tree(as_user, live):
    page = as_user("console-viewer")
    open_page(page, live, "budgets")
    rows = page.locator("#budgets tbody tr")
    names = [n.strip() for n in rows.locator("td:first-child").all_inner_texts()]
    assert names[0] == "AI portfolio" and {"└ ML research", "└ Search"} <= set(names)
    assert page.locator("[data-increase]").count() == 0  # a viewer asks for nothing
    search = page.locator('tr[data-budget="search"]')
    spent = amount(search.locator("td").nth(4).inner_text())
    search.locator("td").nth(4).locator("a").click()
    page.wait_for_selector('main[data-ready="lines"]')
    assert amount(page.locator('[data-testid="line-total"]').inner_text()) == pytest.approx(spent, abs=1)
    open_page(page, live, "budgets")
    screenshot(page, "budgets")


def test_use_cases_show_expected_against_actual_spend(as_user, live):
    page = as_user("console-viewer")
    open_page(page, live, "use-cases")
    row = page.locator("tbody tr", has=page.locator("td", has_text="Search answers"))
    expect(row).to_contain_text("$2,500")
    actual = amount(row.locator("td").nth(6).inner_text())
    assert actual > 0
    row.locator("td").nth(6).locator("a").click()
    page.wait_for_selector('main[data-ready="lines"]')
    expect(page.locator(".chips")).to_contain_text("cost_layer = model_api")
    assert amount(page.locator('[data-testid="line-total"]').inner_text()) == pytest.approx(actual, abs=1)
    open_page(page, live, "use-cases")
    screenshot(page, "use-cases")


def test_inventory_lists_shadow_ai_first_with_its_spend(as_user, live):
    page = as_user("console-viewer")
    open_page(page, live, "inventory?status=unregistered")
    rows = page.locator("tbody tr")
    assert rows.count() > 0
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"shadow"}
    screenshot(page, "inventory")
