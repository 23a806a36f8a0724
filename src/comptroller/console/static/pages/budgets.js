// Budgets as a tree: each with its burn this period and a run-rate forecast to the period's end.

import { api } from "../api.js";
import { badge, bar, errorBox, esc, linesHref, money, pct } from "../ui.js";

const FILTERABLE = ["team", "product", "feature", "workflow", "agent", "model", "vendor", "function"];

/** Spend at the period's end if it continues at the rate so far; null before 10% has passed. */
export function forecast(budget, now = Date.now()) {
  if (!budget.period_end) return null;
  const start = Date.parse(budget.period_start);
  const end = Date.parse(budget.period_end);
  const elapsed = (now - start) / (end - start);
  if (!(elapsed >= 0.1)) return null;
  return Number(budget.spent) / Math.min(elapsed, 1);
}

function tree(budgets) {
  const byParent = new Map();
  const ids = new Set(budgets.map(b => b.id));
  for (const b of budgets) {
    const parent = b.parent_id && ids.has(b.parent_id) ? b.parent_id : null;
    byParent.set(parent, [...(byParent.get(parent) || []), b]);
  }
  const ordered = [];
  const walk = (parent, depth) => {
    for (const b of (byParent.get(parent) || []).sort((x, y) => x.name.localeCompare(y.name))) {
      ordered.push({ ...b, depth });
      walk(b.id, depth + 1);
    }
  };
  walk(null, 0);
  return ordered;
}

function spentLink(b) {
  const from = b.period_start.slice(0, 10);
  const filters = FILTERABLE.includes(b.scope) ? { [b.scope]: b.scope_value } : b.scope === "portfolio" ? {} : null;
  if (!filters) return money(Number(b.spent));
  // Budgets count the spend their scope caused, before shared costs are allocated.
  return `<a class="drill" href="${esc(linesHref(filters, { from, allocate: false }))}">${money(Number(b.spent))}</a>`;
}

export async function render(main, _params, { can, refresh }) {
  const budgets = await api("/console/budgets");
  const rows = tree(budgets);
  const manager = can(["finops"]);
  const requester = can(["finops", "team_owner"]);
  main.innerHTML = `<h1>Budgets</h1>
  <div class="card" style="margin-bottom:16px"><div class="scroll"><table class="tree" id="budgets"><thead><tr>
    <th>Budget</th><th>Scope</th><th>Behaviour</th><th class="n">Amount</th><th class="n">Spent</th>
    <th>Burn</th><th class="n">Forecast</th><th class="n">Remaining</th>${requester ? "<th></th>" : ""}
  </tr></thead><tbody>${rows.map(b => {
    const projected = forecast(b);
    const amount = Number(b.amount);
    const share = Number(b.percent_used) / 100;
    return `<tr data-budget="${esc(b.id)}">
      <td style="padding-left:${8 + b.depth * 18}px">${b.depth ? "└ " : ""}${esc(b.name)}${b.enabled ? "" : ` ${badge("disabled")}`}</td>
      <td>${esc(b.scope)}${b.scope_value ? `: ${esc(b.scope_value)}` : ""} <span class="muted">(${esc(b.period)})</span></td>
      <td>${badge(b.behaviour.replace("_", " "), b.behaviour === "hard_cap" ? "bad" : b.behaviour === "approval" ? "warn" : "")}</td>
      <td class="n">${money(amount)}</td>
      <td class="n">${spentLink(b)}</td>
      <td>${bar(share)}<span class="sub">${pct(share)}</span></td>
      <td class="n">${projected === null ? '<span class="muted">–</span>'
        : `<span class="${projected > amount ? "up" : ""}">${money(projected)}</span>${projected > amount ? ` ${badge("over", "bad")}` : ""}`}</td>
      <td class="n">${money(Number(b.remaining))}</td>
      ${requester ? `<td><button class="secondary" data-increase="${esc(b.id)}">Request increase</button></td>` : ""}
    </tr>`;
  }).join("") || `<tr><td colspan="9" class="muted">No budgets yet.</td></tr>`}</tbody></table></div>
  <div id="increase"></div></div>
  ${manager ? `<div class="card"><h2>New budget</h2><form class="stack" id="new-budget">
    <label>Name <input name="name" required></label>
    <label>Scope <select name="scope">${["portfolio", "team", "product", "feature", "workflow", "agent", "function",
      "model", "vendor", "key"].map(s => `<option>${s}</option>`).join("")}</select></label>
    <label>Value <input name="scope_value" placeholder="e.g. search"></label>
    <label>Period <select name="period">${["monthly", "weekly", "daily", "total"].map(p => `<option>${p}</option>`).join("")}</select></label>
    <label>Amount (USD) <input name="amount" type="number" min="1" step="any" required></label>
    <label>Behaviour <select name="behaviour">${["alert", "approval", "hard_cap"].map(b => `<option>${b}</option>`).join("")}</select></label>
    <label>Parent <select name="parent_id"><option value="">none</option>${budgets.map(b =>
      `<option value="${esc(b.id)}">${esc(b.name)}</option>`).join("")}</select></label>
    <div><button type="submit">Create</button></div>
  </form><div id="new-budget-result"></div></div>` : ""}`;

  main.querySelectorAll("[data-increase]").forEach(button => {
    button.onclick = () => {
      const b = budgets.find(x => x.id === button.dataset.increase);
      const box = document.getElementById("increase");
      box.innerHTML = `<form class="stack" id="increase-form" style="margin-top:12px">
        <label>New amount for ${esc(b.name)} <input name="new_amount" type="number" min="1" step="any"
          value="${Math.ceil(Number(b.amount) * 1.2)}" required></label>
        <label>Reason <input name="reason" required></label>
        <div><button type="submit">Send for approval</button></div></form>`;
      document.getElementById("increase-form").onsubmit = async event => {
        event.preventDefault();
        const f = new FormData(event.target);
        try {
          await api("/approvals", { method: "POST",
            body: { budget_id: b.id, new_amount: f.get("new_amount"), reason: f.get("reason") } });
          box.innerHTML = `<div class="notice" role="status">Request sent to the approvers.</div>`;
        } catch (error) {
          box.insertAdjacentHTML("afterbegin", errorBox(error));
        }
      };
    };
  });
  const form = document.getElementById("new-budget");
  if (form) {
    form.onsubmit = async event => {
      event.preventDefault();
      const f = Object.fromEntries(new FormData(form));
      const body = { name: f.name, scope: f.scope, period: f.period, amount: f.amount, behaviour: f.behaviour };
      if (f.scope !== "portfolio" && f.scope_value) body.scope_value = f.scope_value;
      if (f.parent_id) body.parent_id = f.parent_id;
      try {
        await api("/budgets", { method: "POST", body });
        await refresh();
      } catch (error) {
        document.getElementById("new-budget-result").innerHTML = errorBox(error);
      }
    };
  }
}
