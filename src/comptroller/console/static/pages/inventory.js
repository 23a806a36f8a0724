// Inventory and shadow AI: every vendor, product, model and agent seen in spend, seats, expenses
// and traffic, matched against the registry; unregistered ones come first, with their spend.

import { api } from "../api.js";
import { badge, esc, linesHref, money, table, title } from "../ui.js";

const KINDS = ["vendor", "product", "model", "agent"];
const LINKABLE = { product: "product", model: "model", agent: "agent" };

export async function render(main, params) {
  const status = params.get("status") || "";
  const items = await api("/console/inventory");
  const summary = KINDS.map(kind => {
    const of = items.filter(i => i.kind === kind);
    const shadow = of.filter(i => i.shadow);
    return { kind, found: of.length, registered: of.filter(i => i.status === "registered").length,
      shadow: shadow.length, shadowSpend: shadow.reduce((s, i) => s + i.spend, 0) };
  });
  const shown = status ? items.filter(i => i.status === status) : items;
  const name = i => (LINKABLE[i.kind]
    ? `<a href="${esc(linesHref({ [LINKABLE[i.kind]]: i.name }))}">${esc(i.name)}</a>` : esc(i.name));
  main.innerHTML = `<h1>Inventory &amp; shadow AI</h1>
  <div class="grid">${summary.map(s => `<div class="card"><h2>${esc(title(s.kind))}s</h2>
    <div class="big">${s.found}</div>
    <div class="sub">${s.registered} registered · <a href="#/inventory?status=unregistered">${s.shadow} unregistered</a>
      (${money(s.shadowSpend)})</div></div>`).join("")}</div>
  <div class="toolbar"><a href="#/inventory" class="${status ? "" : "chip"}">All</a>
    <a href="#/inventory?status=unregistered" class="${status === "unregistered" ? "chip" : ""}">Shadow AI</a>
    <a href="#/inventory?status=in_review" class="${status === "in_review" ? "chip" : ""}">In review</a>
    <a href="#/inventory?status=registered" class="${status === "registered" ? "chip" : ""}">Registered</a></div>
  <div class="card">${table([
    { title: "Kind", key: "kind" },
    { title: "Name", html: name },
    { title: "Status", html: i => badge(i.shadow ? "shadow" : i.status.replace("_", " "), i.shadow ? "bad" : i.status === "registered" ? "good" : "warn") },
    { title: "Use cases", html: i => esc(i.use_cases.join(", ")) },
    { title: "Seen in", html: i => esc(i.sources.join(", ")) },
    { title: "Users", num: true, html: i => esc(i.users ?? "") },
    { title: "Spend", num: true, html: i => money(i.spend) },
    { title: "Last seen", html: i => esc(i.last_seen.slice(0, 10)) },
  ], shown, { empty: "Nothing found for this filter." })}</div>`;
}
