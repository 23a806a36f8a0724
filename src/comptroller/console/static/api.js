// The REST API client: every page reads and writes only through /api/v1, with the session token.

const TOKEN = "comptroller.token";
const USER = "comptroller.user";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get user() { return JSON.parse(sessionStorage.getItem(USER) || "null"); },
  save(token, user) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(USER, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
  },
};

/** Query string from an object; array values repeat the key (filter=a=b&filter=c=d). */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(key, v);
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

function messageOf(body, status) {
  if (body && body.error && body.error.message) return body.error.message;
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map(d => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return `request failed (${status})`;
}

export async function api(path, { method = "GET", params, body } = {}) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}${query(params)}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 401 && !path.startsWith("/auth/login")) {
    session.clear();
    window.dispatchEvent(new Event("comptroller:signed-out"));
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status));
  return data;
}

/** Like api() but a missing endpoint or forbidden read yields `fallback` instead of an error,
 * so a page shows what it can while parts of the API are absent or not for this role. */
export async function optional(path, fallback, options) {
  try {
    return await api(path, options);
  } catch (error) {
    if (error instanceof ApiError && [403, 404, 405].includes(error.status)) return fallback;
    throw error;
  }
}
