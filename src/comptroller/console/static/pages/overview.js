// Overview: this month against last and against budget, the four cost layers, the trend, top
// spenders, coverage and what is waiting for someone. Every figure links to its cost lines.

import { api, optional } from "../api.js";
import { pivot, stackedBars } from "../charts.js";
import { badge, bar, change, esc, label, money, moneyLink, pct, table, title } from "../ui.js";

const LAYERS = { infrastructure: "Infrastructure", model_api: "Model APIs", ai_platform: "AI platforms",
  saas_seats: "SaaS seats" };

function budgetCard(budget, data) {
  if (!budget) return `<div class="card"><h2>Against budget</h2><p class="muted">No monthly portfolio budget.</p></div>`;
  const share = data.this_month / budget.amount;
  const projected = data.run_rate / budget.amount;
  return `<div class="card"><h2>Against budget</h2>
    <div class="big">${pct(share)}</div>${bar(share)}
    <div class="sub">${money(data.this_month)} of ${money(budget.amount)} (${esc(budget.name)});
      run rate ${pct(projected)}${projected > 1 ? ` ${badge("over", "bad")}` : ""}</div></div>`;
}

export async function render(main, _params, { can }) {
  const [data, approvals, alerts] = await Promise.all([
    api("/overview"),
    optional("/approvals", [], { params: { status: "pending" } }),
    can(["viewer", "approver", "finops"]) ? optional("/alerts", [], { params: { limit: 20 } }) : [],
  ]);
  const month = { from: data.month_start, to: data.today };
  const lastMonth = { from: data.last_month_start, to: data.month_start && prevDay(data.month_start) };
  const pending = listOf(approvals).filter(a => (a.status || "pending") === "pending");
  const alertRows = listOf(alerts).filter(a => (a.period_start || "").slice(0, 10) >= data.month_start);

  main.innerHTML = `<h1>AI spend overview</h1>
  <div class="grid">
    <div class="card"><h2>This month</h2><div class="big" data-testid="this-month">${moneyLink(data.this_month, {}, month)}</div>
      <div class="sub">${change(data.this_month, data.last_month_to_date)} vs the same days last month
        (${money(data.last_month_to_date)})</div></div>
    <div class="card"><h2>Last month</h2><div class="big">${moneyLink(data.last_month, {}, lastMonth)}</div>
      <div class="sub">run rate this month: ${money(data.run_rate)}</div></div>
    ${budgetCard(data.budget, data)}
    <div class="card"><h2>Unowned this month</h2><div class="big">${moneyLink(data.unowned, { owner: "" }, month)}</div>
      <div class="sub">owner coverage ${pct(data.coverage.owner, 1)}, team coverage ${pct(data.coverage.team, 1)}</div></div>
  </div>
  <div class="grid">
    <div class="card wide"><h2>By cost layer</h2>${table([
      { title: "Layer", html: r => esc(LAYERS[r.cost_layer] || r.cost_layer) },
      { title: "This month", num: true, html: r => moneyLink(r.this, { cost_layer: r.cost_layer }, month) },
      { title: "Last month", num: true, html: r => moneyLink(r.last, { cost_layer: r.cost_layer }, lastMonth) },
      { title: "Share", num: true, html: r => pct(data.this_month ? r.this / data.this_month : 0) },
    ], data.layers, { empty: "No spend yet." })}</div>
    <div class="card wide"><h2>Daily spend by cost layer</h2><div class="chart"><canvas id="trend"></canvas></div></div>
  </div>
  <div class="grid">${["team", "model", "agent", "vendor"].map(dim => `
    <div class="card"><h2>Top ${dim}s this month</h2>${table([
      { title: title(dim), html: r => label(r.value) },
      { title: "Cost", num: true, html: r => moneyLink(r.cost, { [dim]: r.value ?? "" }, month) },
    ], data.top[dim] || [])}</div>`).join("")}
  </div>
  <div class="grid">
    <div class="card"><h2>Tag coverage this month</h2>${table([
      { title: "Dimension", key: "dim" },
      { title: "Spend covered", num: true, html: r => pct(r.share, 1) },
    ], Object.entries(data.coverage).map(([dim, share]) => ({ dim, share })))}</div>
    <div class="card"><h2>Open alerts</h2>${table([
      { title: "Budget", html: r => `<a href="#/budgets">${esc(r.budget_id)}</a>` },
      { title: "Alert", html: r => `${badge(r.kind, r.kind === "forecast" ? "warn" : "bad")} ${pct(Number(r.threshold))}` },
      { title: "Spent", num: true, html: r => money(Number(r.spend)) },
      { title: "Fired", html: r => esc((r.fired_at || "").slice(0, 16).replace("T", " ")) },
    ], alertRows.slice(0, 5), { empty: "No open alerts." })}</div>
    <div class="card"><h2>Waiting for approval</h2>${
      pending.length ? `<div class="big"><a href="#/approvals">${pending.length}</a></div>
        <div class="sub">${badge("pending", "warn")} requests in the inbox</div>` : '<p class="muted">Inbox is empty.</p>'}</div>
  </div>`;

  const { labels, series } = pivot(data.trend, "cost_layer", 6);
  stackedBars(document.getElementById("trend"), labels,
    series.map(s => ({ ...s, label: LAYERS[s.key] || s.label })), (at, which) => {
      const day = labels[at];
      const key = series[which].key;
      location.hash = `#/lines?${new URLSearchParams([...(key ? [["filter", `cost_layer=${key}`]] : []),
        ["from", day], ["to", day]])}`;
    });
}

function listOf(value) {
  if (Array.isArray(value)) return value;
  if (value && Array.isArray(value.items)) return value.items;
  return [];
}

function prevDay(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
