// Talking to easel's HTTP API: JSON calls that turn OpenAI-shaped errors into ApiError,
// and server-sent events read over fetch (so POST bodies and cancellation work).

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.type = error.type;
    this.code = error.code;
    this.param = error.param;
  }
}

export async function api(path, { method = "GET", body, headers = {}, signal, form } = {}) {
  const init = { method, headers: { ...headers }, signal };
  if (form) {
    init.body = form;
  } else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("application/json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

// Calls onEvent(name, data) for each SSE event of a POST or GET; resolves when the stream ends.
// Errors before the stream starts (an HTTP status) reject with ApiError.
export async function stream(path, { method = "POST", body, signal, onEvent }) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let payload = null;
    try { payload = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, payload);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let index;
    while ((index = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, index).replace(/\r$/, "");
      buffer = buffer.slice(index + 1);
      if (line === "") {
        if (data.length) {
          const text = data.join("\n");
          let parsed = text;
          try { parsed = JSON.parse(text); } catch { /* plain text */ }
          onEvent(name, parsed);
        }
        name = "message";
        data = [];
      } else if (line.startsWith("event:")) {
        name = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

// Follows a job's events (GET /api/jobs/{id}/events) until it ends; returns the final job.
export async function followJob(jobId, onEvent, signal) {
  await stream(`/api/jobs/${encodeURIComponent(jobId)}/events`, { method: "GET", signal, onEvent });
  return api(`/api/jobs/${encodeURIComponent(jobId)}`);
}
