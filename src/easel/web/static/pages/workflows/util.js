// Shared bits of the Workflows page: its stylesheets, status chips, run timings, the models a step
// can be switched to (read once per task from /api/models) and the workflow/run URLs.
import { api } from "../../api.js";
import { h } from "../../ui.js";

// The chat page's stylesheet brings the rendered-Markdown (.md) and code-block styles.
const STYLES = [
  ["/static/pages/workflows.css", undefined],
  ["/static/pages/chat.css", undefined],
  ["/static/vendor/highlight/github.min.css", "not all and (prefers-color-scheme: dark)"],
  ["/static/vendor/highlight/github-dark.min.css", "(prefers-color-scheme: dark)"],
];

export function loadStyles() {
  return Promise.all(STYLES.map(([href, media]) => {
    if (document.querySelector(`link[href="${href}"]`)) return null;
    const link = h("link", { rel: "stylesheet", href, media });
    const ready = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
    document.head.append(link);
    return ready;
  }));
}

export const ACTIVE = new Set(["queued", "running"]);
export const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export const workflowUrl = (name) => `/api/workflows/${encodeURIComponent(name)}`;
export const runUrl = (id) => `/api/runs/${encodeURIComponent(id)}`;
export const workflowHash = (name) => `#/workflows/${encodeURIComponent(name)}`;
export const runHash = (id) => `#/workflows/run/${encodeURIComponent(id)}`;

const LABELS = { queued: "queued", running: "running", succeeded: "done", failed: "failed", canceled: "canceled",
  pending: "pending", skipped: "skipped" };

export function chip(status) {
  return h("span", { class: "badge wf-chip", dataset: { status } }, LABELS[status] || status);
}

export function took(record) {
  if (!record.started_at || !record.finished_at) return "";
  const s = (new Date(record.finished_at) - new Date(record.started_at)) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

// The catalog task a step's model belongs to: its kind when that names a task, else chat for the
// steps that name a model (writing steps), else none (steps that only assemble what came before).
const TASKS = new Set(["chat", "image", "upscale", "video"]);
export function stepTask(step) {
  if (TASKS.has(step.kind)) return step.kind;
  return step.model ? "chat" : null;
}

const modelCache = new Map(); // task -> Promise of the usable models
export function modelsFor(task) {
  if (!modelCache.has(task)) {
    const loading = api(`/api/models?task=${encodeURIComponent(task)}&available=true`).then((r) => r.data)
      .catch((err) => { modelCache.delete(task); throw err; });
    modelCache.set(task, loading);
  }
  return modelCache.get(task);
}

// A <select> of the usable models for a step (named by its <label for=id>): the first option keeps
// the step's own model.
export function modelSelect(step, { id }) {
  const select = h("select", { id },
    h("option", { value: "" }, step.model ? `Its model (${step.model})` : "Its default model"));
  const task = stepTask(step);
  if (task) {
    modelsFor(task).then((models) => {
      for (const m of models) if (m.id !== step.model) select.append(h("option", { value: m.id }, `${m.display_name || m.id} · ${m.id}`));
    }).catch(() => { select.title = "The model list could not be read; the step's own model is used."; });
  }
  return select;
}

// Saves `text` as a file called `name` through a temporary object URL.
export function downloadText(name, text, type = "application/yaml") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
