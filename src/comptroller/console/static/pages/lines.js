// The cost lines under a figure, one page at a time: the only view that shows raw lines.

import { api } from "../api.js";
import { esc, label, money, table } from "../ui.js";

const PAGE = 50;

export async function render(main, params) {
  const filters = params.getAll("filter");
  const offset = Number(params.get("offset") || 0);
  const from = params.get("from") || undefined;
  const to = params.get("to") || undefined;
  const allocate = params.get("allocate") !== "false";
  const data = await api("/cost-lines", {
    params: { filter: filters, from, to, limit: PAGE, offset, allocate: allocate ? undefined : "false" },
  });

  const chips = filters.map(f => {
    const [dim, ...rest] = f.split("=");
    const value = rest.join("=");
    return `<span class="chip">${esc(dim)} = ${value === "" ? "<em>unset</em>" : esc(value)}</span>`;
  });
  if (from || to) chips.push(`<span class="chip">${esc(from || "…")} to ${esc(to || "…")}</span>`);
  if (!allocate) chips.push('<span class="chip">shared costs not allocated</span>');
  const page = shift => {
    const next = new URLSearchParams(params);
    next.set("offset", String(Math.max(0, offset + shift)));
    return `#/lines?${next}`;
  };
  const last = Math.min(offset + PAGE, data.total_lines);
  const explore = new URLSearchParams(filters.map(f => ["filter", f]));
  if (from) explore.set("from", from);
  if (to) explore.set("to", to);

  main.innerHTML = `<h1>Cost lines</h1>
  <div class="chips">${chips.join("") || '<span class="muted">All lines</span>'}</div>
  <div class="grid">
    <div class="card"><h2>Lines</h2><div class="big" data-testid="line-count">${data.total_lines.toLocaleString("en-US")}</div></div>
    <div class="card"><h2>Total</h2><div class="big" data-testid="line-total">${money(data.total_cost)}</div>
      <div class="sub"><a href="#/explorer?${explore}">Explore this spend</a></div></div>
  </div>
  <div class="card">${table([
    { title: "Day", html: r => esc((r.ChargePeriodStart || "").slice(0, 10)) },
    { title: "Service", key: "ServiceName" },
    { title: "Description", html: r => esc(r.ChargeDescription || r.ResourceName || r.SubAccountName || "") },
    { title: "Layer", key: "cost_layer" },
    { title: "Team", html: r => label(r.team) },
    { title: "Model", html: r => label(r.model) },
    { title: "Owner", html: r => label(r.owner) },
    { title: "Allocated", html: r => esc(r.AllocatedMethodId || "") },
    { title: "Cost", num: true, html: r => money(r.cost) },
  ], data.rows, { empty: "No cost lines match." })}
    <div class="pager">
      ${offset > 0 ? `<a href="${page(-PAGE)}">← Previous</a>` : ""}
      <span class="muted">${data.total_lines ? `${offset + 1}–${last} of ${data.total_lines.toLocaleString("en-US")}` : ""}</span>
      ${last < data.total_lines ? `<a href="${page(PAGE)}" data-testid="next-page">Next →</a>` : ""}
    </div></div>`;
}
