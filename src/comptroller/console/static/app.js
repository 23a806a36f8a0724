// The console shell: sign-in, role-aware navigation and hash routing to page modules.

import { api, ApiError, session } from "./api.js";
import { destroyCharts } from "./charts.js";
import { errorBox, esc } from "./ui.js";

const READ = ["viewer", "approver", "finops", "team_owner"];
const GLOBAL = ["viewer", "approver", "finops"];

// Which roles see each page; the API enforces the same, this only keeps the menu honest.
export const PAGES = [
  { id: "overview", title: "Overview", roles: READ },
  { id: "explorer", title: "Spend", roles: READ },
  { id: "budgets", title: "Budgets", roles: GLOBAL },
  { id: "approvals", title: "Approvals", roles: READ },
  { id: "use-cases", title: "Use cases", roles: READ },
  { id: "inventory", title: "Inventory", roles: GLOBAL },
  { id: "keys", title: "Keys & agents", roles: READ },
  { id: "rules", title: "Rules", roles: READ },
  { id: "audit", title: "Audit", roles: ["finops"] },
  { id: "lines", title: "Cost lines", roles: READ, hidden: true },
];

/** True if the signed-in user has any of `roles` (admin has every role). */
export function can(roles) {
  const user = session.user;
  if (!user) return false;
  return user.roles.includes("admin") || roles.some(r => user.roles.includes(r));
}

const main = document.getElementById("main");

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = hash.split("?");
  return { id: path || "overview", params: new URLSearchParams(search) };
}

function renderNav(active) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!session.user) {
    nav.innerHTML = "";
    who.innerHTML = "";
    return;
  }
  nav.innerHTML = PAGES.filter(p => !p.hidden && can(p.roles)).map(p =>
    `<a href="#/${p.id}" data-page="${p.id}" class="${p.id === active ? "active" : ""}">${esc(p.title)}</a>`,
  ).join("");
  const user = session.user;
  who.innerHTML = `<span title="${esc(user.roles.join(", "))}">${esc(user.username)}</span>
    <button type="button" id="logout">Sign out</button>`;
  document.getElementById("logout").onclick = async () => {
    await api("/auth/logout", { method: "POST" }).catch(() => null);
    session.clear();
    show();
  };
}

function loginPage() {
  renderNav(null);
  main.innerHTML = `<div class="login card">
    <h1>Sign in to Comptroller</h1>
    <form id="login">
      <label>Username <input name="username" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <div id="login-error"></div>
      <button type="submit">Sign in</button>
    </form></div>`;
  main.dataset.ready = "login";
  document.getElementById("login").onsubmit = async event => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const answer = await api("/auth/login", {
        method: "POST", body: { username: form.get("username"), password: form.get("password") },
      });
      session.save(answer.token, answer.principal || answer.user);
      show();
    } catch (error) {
      document.getElementById("login-error").innerHTML = errorBox(error);
    }
  };
}

let rendering = 0;

async function show() {
  destroyCharts();
  const { id, params } = route();
  delete main.dataset.ready;
  if (!session.token) return loginPage();
  const page = PAGES.find(p => p.id === id && can(p.roles));
  const target = page ? id : PAGES.find(p => can(p.roles))?.id;
  renderNav(target);
  if (!page) {
    main.innerHTML = target
      ? errorBox(`There is no page "${id}" for your role.`) : errorBox("Your account has no console role.");
    main.dataset.ready = "none";
    return;
  }
  const ticket = ++rendering;
  main.innerHTML = '<p class="muted">Loading…</p>';
  try {
    const module = await import(`./pages/${id}.js`);
    await module.render(main, params, { can, stale: () => ticket !== rendering, refresh: show });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return loginPage();
    if (ticket === rendering) main.innerHTML = errorBox(error);
  }
  if (ticket === rendering) {
    main.dataset.ready = id;
    performance.mark(`ready:${id}`);
  }
}

window.addEventListener("hashchange", show);
window.addEventListener("comptroller:signed-out", () => loginPage());
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
else show();
