// Spend explorer: one or two group-bys, any filters, a grain, chart and table, CSV download.
// The query lives in the URL, so every view can be bookmarked and shared.

import { api } from "../api.js";
import { pivot, stackedBars } from "../charts.js";
import { esc, label, linesHref, money, pct, title } from "../ui.js";

export const DIMENSIONS = ["cost_layer", "team", "product", "function", "customer_segment", "workflow",
  "model", "vendor", "risk_tier", "environment", "owner", "feature", "agent", "customer",
  "ServiceName", "ServiceCategory", "ProviderName", "SubAccountName", "RegionName", "ChargeCategory",
  "x_Source", "tag:env"];
const GRAINS = ["day", "week", "month"];
const COSTS = ["effective", "list", "billed", "contracted"];
const MAX_PERIOD_COLUMNS = 6;

function periodEnd(start, grain) {
  const d = new Date(`${start}T00:00:00Z`);
  if (grain === "day") return start;
  if (grain === "week") d.setUTCDate(d.getUTCDate() + 6);
  else { d.setUTCMonth(d.getUTCMonth() + 1); d.setUTCDate(0); }
  return d.toISOString().slice(0, 10);
}

function clip(range, from, to) {
  return { from: from && from > range.from ? from : range.from, to: to && to < range.to ? to : range.to };
}

export function toCsv(by, rows) {
  const quote = v => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [["period", ...by, "cost"].join(",")];
  for (const r of rows) lines.push([r.period, ...by.map(d => r[d]), r.cost].map(quote).join(","));
  return lines.join("\n") + "\n";
}

export async function render(main, params) {
  const by = (params.get("by") ?? "team").split(",").filter(Boolean).slice(0, 2);
  const grain = GRAINS.includes(params.get("grain")) ? params.get("grain") : "week";
  const cost = COSTS.includes(params.get("cost")) ? params.get("cost") : "effective";
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const filters = params.getAll("filter");
  const data = await api("/spend/trend", { params: { by: by.join(","), grain, cost, from, to, filter: filters } });

  const filterMap = Object.fromEntries(filters.map(f => {
    const [dim, ...rest] = f.split("=");
    return [dim, rest.join("=")];
  }));
  const periods = [...new Set(data.rows.map(r => r.period))].sort();
  const groups = new Map();
  for (const r of data.rows) {
    const key = JSON.stringify(by.map(d => r[d] ?? null));
    const group = groups.get(key) || { values: by.map(d => r[d] ?? null), total: 0, byPeriod: {} };
    group.total += r.cost;
    group.byPeriod[r.period] = (group.byPeriod[r.period] || 0) + r.cost;
    groups.set(key, group);
  }
  const ranked = [...groups.values()].sort((a, b) => b.total - a.total);
  const showPeriods = periods.length <= MAX_PERIOD_COLUMNS ? periods : [];
  const cell = (value, groupValues, range) => {
    const f = { ...filterMap };
    by.forEach((d, i) => { f[d] = groupValues[i] ?? ""; });
    return `<a class="drill" href="${esc(linesHref(f, range))}">${money(value)}</a>`;
  };
  const whole = { from: from || undefined, to: to || undefined };

  const option = (value, selected, text = value) =>
    `<option value="${esc(value)}" ${value === selected ? "selected" : ""}>${esc(text)}</option>`;
  main.innerHTML = `<h1>Spend explorer</h1>
  <form class="toolbar card" id="query">
    <label>Group by <input name="by1" list="dims" value="${esc(by[0] || "")}" placeholder="none"></label>
    <label>then by <input name="by2" list="dims" value="${esc(by[1] || "")}" placeholder="none"></label>
    <label>Grain <select name="grain">${GRAINS.map(g => option(g, grain)).join("")}</select></label>
    <label>Cost <select name="cost">${COSTS.map(c => option(c, cost)).join("")}</select></label>
    <label>From <input type="date" name="from" value="${esc(from)}"></label>
    <label>To <input type="date" name="to" value="${esc(to)}"></label>
    <label>Filter <input name="fdim" list="dims" placeholder="dimension"></label>
    <label>equals <input name="fvalue" placeholder="value (empty: unset)"></label>
    <button type="submit">Apply</button>
    <button type="button" class="secondary" id="csv">Download CSV</button>
    <datalist id="dims">${DIMENSIONS.map(d => `<option value="${esc(d)}">`).join("")}</datalist>
  </form>
  <div class="chips" id="filters">${filters.map((f, i) =>
    `<span class="chip">${esc(f)}<button type="button" data-remove="${i}" aria-label="Remove filter">×</button></span>`).join("")}</div>
  <div class="grid">
    <div class="card"><h2>Total</h2><div class="big" data-testid="explorer-total">${cell(data.total, [], whole).replace(/<a /, '<a data-drill="total" ')}</div>
      <div class="sub">${ranked.length} group${ranked.length === 1 ? "" : "s"}, ${periods.length} ${grain}s</div></div>
  </div>
  <div class="card" style="margin-bottom:16px"><h2>${esc(title(grain))}ly spend${by[0] ? ` by ${esc(by[0])}` : ""}</h2>
    <div class="chart"><canvas id="chart"></canvas></div></div>
  <div class="card"><div class="scroll"><table id="groups"><thead><tr>
    ${by.map(d => `<th>${esc(d)}</th>`).join("")}
    ${showPeriods.map(p => `<th class="n">${esc(p)}</th>`).join("")}
    <th class="n">Total</th><th class="n">Share</th></tr></thead><tbody>
    ${ranked.map(g => `<tr>${g.values.map(v => `<td>${label(v)}</td>`).join("")}
      ${showPeriods.map(p => `<td class="n">${g.byPeriod[p] ? cell(g.byPeriod[p], g.values,
        clip({ from: p, to: periodEnd(p, grain) }, from, to)) : "–"}</td>`).join("")}
      <td class="n">${cell(g.total, g.values, whole)}</td>
      <td class="n">${pct(data.total ? g.total / data.total : 0, 1)}</td></tr>`).join("")}
    </tbody></table></div></div>`;

  const navigate = next => { location.hash = `#/explorer?${next}`; };
  const form = document.getElementById("query");
  form.onsubmit = event => {
    event.preventDefault();
    const f = new FormData(form);
    const next = new URLSearchParams();
    next.set("by", [f.get("by1"), f.get("by2")].filter(Boolean).join(","));
    next.set("grain", f.get("grain"));
    if (f.get("cost") !== "effective") next.set("cost", f.get("cost"));
    if (f.get("from")) next.set("from", f.get("from"));
    if (f.get("to")) next.set("to", f.get("to"));
    for (const existing of filters) next.append("filter", existing);
    if (f.get("fdim")) next.append("filter", `${f.get("fdim")}=${f.get("fvalue") || ""}`);
    navigate(next);
  };
  document.getElementById("filters").onclick = event => {
    const index = event.target.dataset.remove;
    if (index === undefined) return;
    const next = new URLSearchParams(params);
    next.delete("filter");
    filters.filter((_, i) => String(i) !== index).forEach(f => next.append("filter", f));
    navigate(next);
  };
  document.getElementById("csv").onclick = () => {
    const blob = new Blob([toCsv(by, data.rows)], { type: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `spend-${by.join("-") || "total"}-${grain}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };

  const series = by[0] ? pivot(data.rows, by[0], 8)
    : { labels: periods, series: [{ key: undefined, label: "total",
      values: periods.map(p => data.rows.filter(r => r.period === p).reduce((s, r) => s + r.cost, 0)) }] };
  stackedBars(document.getElementById("chart"), series.labels, series.series, (at, which) => {
    const p = series.labels[at];
    const key = series.series[which].key;
    if (by[0] && key === undefined) return; // "other" sums many values: its lines are in the table rows
    const f = { ...filterMap };
    if (by[0]) f[by[0]] = key ?? "";
    location.hash = linesHref(f, clip({ from: p, to: periodEnd(p, grain) }, from, to));
  });
}
