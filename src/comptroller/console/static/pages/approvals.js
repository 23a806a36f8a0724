// Approvals inbox: pending budget increases and agent actions, decided by approvers.

import { api } from "../api.js";
import { badge, confirmAction, errorBox, esc, money, table } from "../ui.js";

const when = iso => esc((iso || "").slice(0, 16).replace("T", " "));

function subject(r) {
  if (r.budget_id) return `budget <strong>${esc(r.budget_id)}</strong>`;
  if (r.agent_id) return `agent <strong>${esc(r.agent_id)}</strong>${r.tool ? ` · tool ${esc(r.tool)}` : ""}`;
  return esc(r.kind);
}

export async function render(main, params, { can, refresh }) {
  const status = params.get("status") || "pending";
  const rows = await api("/approvals", { params: { status: status === "all" ? undefined : status, limit: 200 } });
  const approver = can(["approver"]);
  const tab = (value, text) => `<a href="#/approvals?status=${value}" class="${value === status ? "chip" : ""}">${text}</a>`;
  main.innerHTML = `<h1>Approvals</h1>
  <div class="toolbar">${tab("pending", "Pending")} ${tab("approved", "Approved")} ${tab("denied", "Denied")} ${tab("all", "All")}</div>
  <div id="decision"></div>
  <div class="card">${table([
    { title: "Request", html: r => `${badge(r.kind.replace(/_/g, " "))}<br>${subject(r)}` },
    { title: "Asked by", key: "requested_by" },
    { title: "Reason", key: "reason" },
    { title: "Amount", num: true, html: r => (r.requested_amount ? money(Number(r.requested_amount)) : "") },
    { title: "Asked", html: r => when(r.created_at) },
    { title: "Status", html: r => badge(r.status, r.status === "approved" ? "good" : r.status === "denied" ? "bad" : "warn")
      + (r.decided_by ? `<div class="sub">${esc(r.decided_by)}</div>` : "") },
    ...(approver && status === "pending" ? [{ title: "", html: r => r.status === "pending"
      ? `<button data-approve="${esc(r.id)}">Approve</button> <button class="danger" data-deny="${esc(r.id)}">Deny</button>` : "" }] : []),
  ], rows, { empty: status === "pending" ? "Nothing is waiting for a decision." : "No requests." })}</div>`;

  const decide = (verb, id) => async () => {
    const request = rows.find(r => r.id === id);
    const note = await confirmAction({
      heading: `${verb === "approve" ? "Approve" : "Deny"} this request?`,
      text: `${request.kind.replace(/_/g, " ")} from ${request.requested_by}${request.requested_amount
        ? ` for ${money(Number(request.requested_amount))}` : ""}.`,
      action: verb === "approve" ? "Approve" : "Deny", askReason: true, reasonLabel: "Note (optional)",
    });
    if (note === null) return;
    try {
      await api(`/approvals/${encodeURIComponent(id)}/${verb}`, { method: "POST", body: note ? { note } : {} });
      await refresh();
      main.insertAdjacentHTML("afterbegin", `<div class="notice" role="status">Request ${verb === "approve" ? "approved" : "denied"}.</div>`);
    } catch (error) {
      document.getElementById("decision").innerHTML = errorBox(error);
    }
  };
  main.querySelectorAll("[data-approve]").forEach(b => { b.onclick = decide("approve", b.dataset.approve); });
  main.querySelectorAll("[data-deny]").forEach(b => { b.onclick = decide("deny", b.dataset.deny); });
}
