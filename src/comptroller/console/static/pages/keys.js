// Gateway keys and registered agents, with the kill switch: engaging one stops every request of
// that key, agent, workflow or team at the gateway, so it always asks first and wants a reason.

import { api, optional } from "../api.js";
import { badge, confirmAction, errorBox, esc, linesHref, money, table } from "../ui.js";

const when = iso => esc((iso || "").slice(0, 16).replace("T", " "));

export async function render(main, _params, { can, refresh }) {
  const operator = can(["finops"]);
  const [keys, agents, switches] = await Promise.all([
    optional("/keys", null),
    optional("/agents", []),
    optional("/kill-switches", []),
  ]);
  const engaged = new Map(switches.filter(s => s.engaged).map(s => [`${s.scope}:${s.scope_value}`, s]));
  const killCell = (scope, value) => {
    const on = engaged.get(`${scope}:${value}`);
    if (on) return `${badge("stopped", "bad")}${operator ? ` <button class="secondary" data-release="${esc(on.id)}">Release</button>` : ""}`;
    return operator ? `<button class="danger" data-kill="${esc(scope)}" data-value="${esc(value)}">Kill switch</button>` : badge("running", "good");
  };

  main.innerHTML = `<h1>Keys &amp; agents</h1>
  <div id="kill-result"></div>
  <div class="card" style="margin-bottom:16px" id="switches"><h2>Engaged kill switches</h2>${table([
    { title: "Scope", html: s => `${esc(s.scope)}: <strong>${esc(s.scope_value)}</strong>` },
    { title: "Reason", key: "reason" },
    { title: "By", key: "engaged_by" },
    { title: "Since", html: s => when(s.engaged_at) },
    ...(operator ? [{ title: "", html: s => `<button class="secondary" data-release="${esc(s.id)}">Release</button>` }] : []),
  ], switches.filter(s => s.engaged), { empty: "No kill switch is engaged: all traffic flows." })}</div>
  <div class="card" style="margin-bottom:16px" id="agents"><h2>Agents</h2>${table([
    { title: "Agent", html: a => `<strong>${esc(a.name)}</strong><div class="sub">${esc(a.id)}</div>` },
    { title: "Team", key: "team" },
    { title: "Owner", key: "owner" },
    { title: "Autonomy", html: a => badge(a.autonomy_level) },
    { title: "Per run", num: true, html: a => (a.budget_per_run ? money(Number(a.budget_per_run)) : "–") },
    { title: "Per period", num: true, html: a => (a.budget_per_period ? money(Number(a.budget_per_period)) : "–") },
    { title: "Spend", html: a => `<a href="${esc(linesHref({ agent: a.id }))}">cost lines</a>` },
    { title: "", html: a => killCell("agent", a.id) },
  ], agents, { empty: "No agents are registered." })}</div>
  ${keys === null ? "" : `<div class="card" id="keys"><h2>Gateway keys</h2>${table([
    { title: "Key", html: k => `<strong>${esc(k.name)}</strong><div class="sub"><code>${esc(k.prefix)}…</code></div>` },
    { title: "Attribution", html: k => esc(Object.entries(k.attribution || {}).map(([d, v]) => `${d}=${v}`).join(", ")) },
    { title: "Models", html: k => esc((k.models || []).join(", ") || "any") },
    { title: "Status", html: k => badge(k.status, k.status === "active" ? "good" : "bad") },
    { title: "Created", html: k => `${when(k.created_at)}<div class="sub">${esc(k.created_by)}</div>` },
    { title: "", html: k => (k.status === "active" ? killCell("key", k.id) : "") },
  ], keys, { empty: "No gateway keys yet." })}</div>`}`;

  const report = html => { document.getElementById("kill-result").innerHTML = html; };
  main.querySelectorAll("[data-kill]").forEach(button => {
    button.onclick = async () => {
      const { kill: scope, value } = button.dataset;
      const reason = await confirmAction({
        heading: `Stop ${scope} ${value}?`,
        text: `Every gateway request of this ${scope} is refused until the switch is released.`,
        action: "Engage kill switch", askReason: true, reasonRequired: true,
      });
      if (reason === null) return;
      try {
        await api("/kill-switches", { method: "POST", body: { scope, scope_value: value, reason } });
        await refresh();
        report(`<div class="notice" role="status">Kill switch engaged for ${esc(scope)} ${esc(value)}.</div>`);
      } catch (error) {
        report(errorBox(error));
      }
    };
  });
  main.querySelectorAll("[data-release]").forEach(button => {
    button.onclick = async () => {
      const ok = await confirmAction({ heading: "Release this kill switch?",
        text: "Traffic it stopped flows again at once.", action: "Release" });
      if (ok === null) return;
      try {
        await api(`/kill-switches/${encodeURIComponent(button.dataset.release)}/release`, { method: "POST" });
        await refresh();
        report(`<div class="notice" role="status">Kill switch released.</div>`);
      } catch (error) {
        report(errorBox(error));
      }
    };
  });
}
