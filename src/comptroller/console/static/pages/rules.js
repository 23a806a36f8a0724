// Virtual-tag rules: the ordered list, and a draft form that previews the re-attributed totals
// before anything is saved.

import { api } from "../api.js";
import { compareBars, destroyCharts } from "../charts.js";
import { confirmAction, errorBox, esc, label, money, table } from "../ui.js";

const DIMENSIONS = ["team", "product", "function", "customer_segment", "workflow", "model", "vendor",
  "risk_tier", "environment", "owner", "feature", "agent", "customer", "cost_layer"];

function draftFrom(form) {
  const f = new FormData(form);
  return {
    dimension: f.get("dimension"), value: f.get("value").trim(), condition: f.get("condition").trim(),
    override: f.get("override") === "on", description: f.get("description").trim() || null,
  };
}

export async function render(main, _params, { can, refresh }) {
  const [rules, allocations] = await Promise.all([api("/rules"), api("/allocations")]);
  const editor = can(["finops"]);
  main.innerHTML = `<h1>Rules</h1>
  <p class="muted">Virtual tags are applied at query time, in order; the first matching rule wins.
    A rule without "override" only fills lines that carry no value of their own.</p>
  ${editor ? `<div class="card" style="margin-bottom:16px"><h2>New rule</h2>
    <form class="stack" id="draft">
      <label>Dimension <select name="dimension">${DIMENSIONS.map(d => `<option>${d}</option>`).join("")}</select></label>
      <label>Value <input name="value" required placeholder="ml-research"></label>
      <label style="grid-column: span 2">When (condition) <input name="condition" required
        placeholder="SubAccountName = 'nw-experiments'"></label>
      <label>Description <input name="description"></label>
      <label><span><input type="checkbox" name="override"> override tagged values</span></label>
      <div><button type="submit" id="preview">Preview</button>
        <button type="button" id="save" disabled>Save rule</button></div>
    </form>
    <div id="result"></div></div>` : ""}
  <div class="card"><h2>${rules.length} rules</h2>${table([
    { title: "#", key: "id" },
    { title: "Dimension", key: "dimension" },
    { title: "Value", key: "value" },
    { title: "When", html: r => `<code>${esc(r.condition)}</code>` },
    { title: "Override", html: r => (r.override ? "yes" : "") },
    { title: "Description", key: "description" },
    ...(editor ? [{ title: "", html: r => `<button class="secondary" data-delete="${r.id}">Delete</button>` }] : []),
  ], rules, { empty: "No rules yet." })}</div>
  <div class="card" style="margin-top:16px" id="allocations"><h2>Shared-cost allocations</h2>
    <p class="muted">Lines matching a condition are split across the values of a dimension each billing
      period; totals before and after allocation are equal.</p>${table([
    { title: "Name", key: "name" },
    { title: "Shared lines", html: a => `<code>${esc(a.condition)}</code>` },
    { title: "Split by", key: "dimension" },
    { title: "Method", html: a => esc(a.method + (a.metric ? ` by ${a.metric}` : "")) },
    { title: "Targets", html: a => esc(a.weights ? Object.entries(a.weights).map(([t, w]) => `${t} ${w}`).join(", ")
      : (a.targets || []).join(", ") || "every value with direct spend") },
  ], allocations, { empty: "No allocations." })}</div>`;
  if (!editor) return;

  const form = document.getElementById("draft");
  const result = document.getElementById("result");
  const save = document.getElementById("save");
  let previewed = null;
  form.oninput = () => { save.disabled = true; previewed = null; };
  form.onsubmit = async event => {
    event.preventDefault();
    const rule = draftFrom(form);
    result.innerHTML = '<p class="muted">Computing…</p>';
    try {
      const preview = await api("/rules/preview", { method: "POST", body: { rule } });
      previewed = rule;
      save.disabled = false;
      const moved = preview.rows.filter(r => Math.abs(r.delta) >= 0.005);
      destroyCharts();
      result.innerHTML = `<p data-testid="moved">This rule moves <strong>${money(preview.moved)}</strong>
        of ${esc(preview.dimension)} spend${moved.length ? "" : " (nothing changes)"}.</p>
        ${moved.length ? `<div class="chart small"><canvas id="compare"></canvas></div>` : ""}
        ${table([
          { title: preview.dimension, html: r => label(r.value) },
          { title: "Before", num: true, html: r => money(r.before) },
          { title: "After", num: true, html: r => money(r.after) },
          { title: "Change", num: true, html: r => `<span class="${r.delta > 0 ? "up" : "down"}">${r.delta > 0 ? "+" : ""}${money(r.delta)}</span>` },
        ], moved, { empty: "No totals change." })}`;
      if (moved.length) {
        compareBars(document.getElementById("compare"), moved.map(r => r.value ?? "unattributed"),
          moved.map(r => r.before), moved.map(r => r.after));
      }
    } catch (error) {
      result.innerHTML = errorBox(error);
    }
  };
  save.onclick = async () => {
    if (!previewed) return;
    try {
      await api("/rules", { method: "POST", body: previewed });
      await refresh();
      main.insertAdjacentHTML("afterbegin", `<div class="notice" role="status">Rule saved: ${
        esc(previewed.dimension)} = ${esc(previewed.value)}.</div>`);
    } catch (error) {
      result.innerHTML = errorBox(error);
    }
  };
  main.querySelectorAll("[data-delete]").forEach(button => {
    button.onclick = async () => {
      const ok = await confirmAction({ heading: `Delete rule #${button.dataset.delete}?`,
        text: "Spend it attributed goes back to what the other rules and tags say.", action: "Delete" });
      if (ok === null) return;
      try {
        await api(`/rules/${button.dataset.delete}`, { method: "DELETE" });
        await refresh();
      } catch (error) {
        main.insertAdjacentHTML("afterbegin", errorBox(error));
      }
    };
  });
}
