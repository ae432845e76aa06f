// The JSON API: fetch with the session cookie and the CSRF token, one-key retries, and patient polling.
import { config } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not (plain-http LAN address, say).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Call the JSON API with the session cookie and the CSRF token; throw ApiError on a 4xx/5xx. */
export async function api(url, { method = "GET", body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": config.csrfToken, ...headers },
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON: a proxy's error page (for example 413 from a gateway); fall through to the status.
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    const fallback = response.status === 413 ? "image_too_large" : `http_${response.status}`;
    const message = error.message ?? `The server answered ${response.status}.`;
    throw new ApiError(response.status, error.code ?? fallback, message, error.fields);
  }
  return { status: response.status, data };
}

export const editGet = (id, query = "") => api(`${config.editsUrl}/${encodeURIComponent(id)}${query}`);

/** POST with one Idempotency-Key; a dropped connection is retried with the same key, so no duplicate. */
export async function editPost(body) {
  const key = uuid4();
  for (let attempt = 0; ; attempt++) {
    try {
      return await api(config.editsUrl, { method: "POST", body, headers: { "Idempotency-Key": key } });
    } catch (error) {
      if (error.code !== "network" || attempt >= 2) throw error;
      await sleep(1000 * (attempt + 1));
    }
  }
}

/** Long-poll an edit until it has finished; onStatus hears each status on the way. */
export async function editPollUntilDone(edit, onStatus) {
  let failures = 0;
  while (edit.status === "PENDING" || edit.status === "RUNNING") {
    onStatus(edit.status);
    try {
      ({ data: edit } = await editGet(edit.id, "?wait=10"));
      failures = 0;
    } catch (error) {
      // The edit keeps running whatever happens to one poll: ride out network blips, throttling and
      // 5xx with a growing pause, so nobody presses Run again and pays for a second edit.
      const transient = error.code === "network" || error.status === 429 || error.status >= 500;
      if (!transient || ++failures > 6) throw error;
      await sleep(Math.min(2000 * failures, 10000));
    }
  }
  return edit;
}

/** Ask for a presigned POST to send a file straight to storage (POST /api/v1/uploads). */
export async function uploadOffer(contentType, size, filename) {
  const body = JSON.stringify({ content_type: contentType, size, filename });
  const { data } = await api(config.uploadsUrl, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json" },
  });
  return data;
}
