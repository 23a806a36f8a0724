// Registry of AI use cases: intake facts, risk tier and review state, and this month's actual
// spend of each use case's linked dimensions beside what it was expected to cost.

import { api } from "../api.js";
import { badge, bar, esc, linesHref, money, pct, table } from "../ui.js";

const TIER = { low: "good", medium: "warn", high: "bad", critical: "bad" };

function monthStart(today = new Date()) {
  return `${today.toISOString().slice(0, 7)}-01`;
}

export async function render(main) {
  const [useCases, actuals] = await Promise.all([api("/use-cases"), api("/console/use-case-actuals")]);
  const from = monthStart();
  const byId = new Map(actuals.map(a => [a.id, a.actual_month_to_date]));
  const rows = useCases.map(u => ({ ...u, actual: byId.has(u.id) ? byId.get(u.id) : null }));
  main.innerHTML = `<h1>Use cases</h1>
  <p class="muted">Each registered AI use case with its intake facts, risk tier and review; actual spend is this
    month's spend of the ledger dimensions it is linked to.</p>
  <div class="card">${table([
    { title: "Use case", html: u => `<strong>${esc(u.name)}</strong><div class="sub">${esc(u.id)} · ${esc(u.purpose).slice(0, 90)}</div>` },
    { title: "Team / owner", html: u => `${esc(u.team)}<div class="sub">${esc(u.owner)}</div>` },
    { title: "Vendor / model", html: u => `${esc(u.vendor)}<div class="sub">${esc(u.model)}</div>` },
    { title: "Risk", html: u => badge((u.risk && u.risk.tier) || "–", TIER[u.risk && u.risk.tier] || "") },
    { title: "Status", html: u => badge(u.status.replace("_", " "), u.status === "live" || u.status === "approved" ? "good" : u.status === "rejected" ? "bad" : "") },
    { title: "Expected / mo", num: true, html: u => money(u.expected_monthly_cost) },
    { title: "Actual MTD", num: true, html: u => (u.actual === null ? '<span class="muted">not linked</span>'
      : `<a class="drill" href="${esc(linesHref(u.links.dimensions, { from }))}">${money(u.actual)}</a>`) },
    { title: "Of expected", html: u => (u.actual === null || !u.expected_monthly_cost ? ""
      : `${bar(u.actual / u.expected_monthly_cost)}<span class="sub">${pct(u.actual / u.expected_monthly_cost)}</span>`) },
    { title: "Value / mo", num: true, html: u => money(u.expected_monthly_value) },
  ], rows, { empty: "No use cases are registered yet." })}</div>`;
}
