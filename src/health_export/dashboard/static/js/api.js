// The dashboard's only way to the server: same-origin fetches carrying the session cookie.

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || response.statusText;
  } catch {
    return response.statusText;
  }
}

// An admin looking at another user's dashboard: ?user_id= of the address, sent with
// every read (the API refuses it to anyone else and audits each read it answers).
export function viewedUser() {
  const value = new URLSearchParams(window.location.search).get("user_id");
  return value || null;
}

export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  const viewed = viewedUser();
  if (viewed && !url.searchParams.has("user_id")) url.searchParams.set("user_id", viewed);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

export async function getJson(path, params) {
  let response;
  try {
    response = await fetch(apiUrl(path, params), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
  } catch {
    throw new ApiError(0, "the server cannot be reached; check that health-export is running");
  }
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.json();
}

export async function login(name, password) {
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ name, password }),
  });
  if (response.ok) return { ok: true };
  return {
    ok: false,
    status: response.status,
    retryAfter: response.headers.get("Retry-After"),
    detail: await problemDetail(response),
  };
}

export async function logout() {
  await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
}
