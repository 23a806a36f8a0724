// The audit trail: who changed what, newest first, and whether the hash chain is intact.

import { api } from "../api.js";
import { badge, esc, table } from "../ui.js";

export async function render(main, params) {
  const before = params.get("before") || undefined;
  const [entries, check] = await Promise.all([
    api("/audit", { params: { limit: 50, before } }),
    api("/audit/verify"),
  ]);
  const oldest = entries.length ? entries[entries.length - 1].seq : null;
  main.innerHTML = `<h1>Audit trail</h1>
  <div class="grid"><div class="card"><h2>Chain</h2><div class="big">${check.ok
    ? badge("verified", "good") : badge("broken", "bad")}</div>
    <div class="sub">${esc(check.entries)} entries, head #${esc(check.head_seq)}${check.problem ? ` — ${esc(check.problem)}` : ""}</div></div></div>
  <div class="card">${table([
    { title: "#", key: "seq" },
    { title: "When", html: r => esc(r.at.slice(0, 19).replace("T", " ")) },
    { title: "Who", key: "actor" },
    { title: "Action", key: "action" },
    { title: "Subject", key: "subject" },
    { title: "Detail", html: r => `<code>${esc(r.detail ? JSON.stringify(r.detail).slice(0, 160) : "")}</code>` },
  ], entries, { empty: "No entries." })}
  ${oldest && oldest > 1 ? `<div class="pager"><a href="#/audit?before=${oldest}">Older →</a></div>` : ""}</div>`;
}
