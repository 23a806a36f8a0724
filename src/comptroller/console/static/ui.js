// Small DOM and formatting helpers shared by every page.

export const esc = value => String(value ?? "").replace(/[&<>"']/g,
  c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export function money(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  const fraction = digits ?? (abs >= 1000 ? 0 : abs >= 0.01 || abs === 0 ? 2 : 4);
  return (value < 0 ? "-$" : "$") + abs.toLocaleString("en-US", {
    minimumFractionDigits: Math.min(fraction, 2), maximumFractionDigits: fraction,
  });
}

export const pct = (value, digits = 0) =>
  value === null || value === undefined ? "–" : `${(value * 100).toFixed(digits)}%`;

export const label = value => value === null || value === undefined || value === ""
  ? '<em class="none">unattributed</em>' : esc(value);

export const title = name => name.replace(/_/g, " ").replace(/^./, c => c.toUpperCase());

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function change(now, before) {
  if (!before) return "";
  const delta = (now - before) / before;
  const cls = delta > 0 ? "up" : "down";
  return `<span class="${cls}">${delta > 0 ? "▲" : "▼"} ${pct(Math.abs(delta), 1)}</span>`;
}

/** A link to the cost lines under a figure: filters as {dim: value}, plus a period. */
export function linesHref(filters = {}, { from, to, allocate = true } = {}) {
  const q = new URLSearchParams();
  for (const [dim, value] of Object.entries(filters)) q.append("filter", `${dim}=${value ?? ""}`);
  if (from) q.set("from", from);
  if (to) q.set("to", to);
  if (!allocate) q.set("allocate", "false");
  return `#/lines?${q.toString()}`;
}

export function moneyLink(value, filters, period) {
  return `<a class="drill" href="${esc(linesHref(filters, period))}">${money(value)}</a>`;
}

export function table(columns, rows, { empty = "Nothing here yet.", footer = "" } = {}) {
  if (!rows.length) return `<p class="muted">${esc(empty)}</p>`;
  const head = columns.map(c => `<th class="${c.num ? "n" : ""}">${esc(c.title)}</th>`).join("");
  const body = rows.map(row => `<tr>${columns.map(c =>
    `<td class="${c.num ? "n" : ""}">${c.html ? c.html(row) : esc(row[c.key])}</td>`).join("")}</tr>`).join("");
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}${footer}</tbody></table></div>`;
}

export function errorBox(error) {
  return `<div class="error" role="alert">${esc(error.message || error)}</div>`;
}

export function badge(text, kind = "") {
  return `<span class="badge ${kind}">${esc(text)}</span>`;
}

export function bar(share) {
  const width = Math.max(0, Math.min(1, share || 0)) * 100;
  const cls = share >= 1 ? "over" : share >= 0.8 ? "near" : "";
  return `<div class="bar ${cls}" title="${pct(share)}"><span style="width:${width}%"></span></div>`;
}

/** Ask before doing something that cannot be taken back; resolves to the reason or null. */
export function confirmAction({ heading, text, action = "Confirm", askReason = false, reasonLabel = "Reason",
  reasonRequired = false }) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = heading;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = action;
  const reason = document.getElementById("confirm-reason");
  reason.value = "";
  reason.required = askReason && reasonRequired;
  document.getElementById("confirm-reason-text").textContent = reasonLabel;
  document.getElementById("confirm-reason-label").hidden = !askReason;
  return new Promise(resolve => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? reason.value || "" : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}
