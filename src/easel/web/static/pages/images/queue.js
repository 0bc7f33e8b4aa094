// The Images page's job strip: one card per image or upscale job with a live progress bar
// (from the job's events), cancel, the error of a failed job, and a done state.
// `onSucceeded(job)` is told once per job that finished with outputs.
import { api, followJob } from "../../api.js";
import { h, toast } from "../../ui.js";
import { isAbort } from "./util.js";

const KEEP_FINISHED = 4;

export function jobTitle(job) {
  const req = job.request || {};
  if (job.task === "upscale") return `Upscale ${req.scale || ""}× · ${job.model}`;
  const n = req.n || 1;
  return `${n} image${n === 1 ? "" : "s"} · ${job.model}`;
}

export function createQueue({ onSucceeded }) {
  const controller = new AbortController();
  const list = h("div", { class: "job-cards" });
  const element = h("section", { class: "img-queue", "aria-label": "Image jobs", hidden: true },
    h("h2", { class: "visually-hidden" }, "Image jobs"), list);
  const cards = new Map();

  function card(job) {
    const bar = h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress" }, h("div"));
    const status = h("span", { class: "badge job-status" });
    const cancel = h("button", { type: "button", class: "small-button cancel" }, "Cancel");
    const dismiss = h("button", { type: "button", class: "small-button dismiss", hidden: true, "aria-label": "Dismiss" }, "Dismiss");
    const req = job.request || {};
    const subject = job.task === "upscale" ? "" : req.prompt || "";
    const el = h("article", { class: "job-card", dataset: { jobId: job.id, task: job.task } },
      h("div", { class: "job-head" }, h("strong", { class: "job-title", title: job.model }, jobTitle(job)), status),
      subject ? h("p", { class: "job-prompt small muted", title: subject }, subject) : null,
      bar,
      h("div", { class: "job-foot" }, h("p", { class: "job-message small muted" }), cancel, dismiss),
      h("p", { class: "job-error error-text small", role: "alert", hidden: true }));
    cancel.addEventListener("click", () => cancelJob(job.id, cancel));
    dismiss.addEventListener("click", () => remove(job.id));
    return { el, bar, status, cancel, dismiss, settled: false, finishedAt: 0 };
  }

  function render(entry, job) {
    const { el, bar, status } = entry;
    el.dataset.status = job.status;
    status.textContent = job.status;
    status.className = `badge job-status ${job.status === "succeeded" ? "ok" : job.status === "failed" ? "warn" : ""}`;
    const pct = Math.round((job.status === "succeeded" ? 1 : job.progress || 0) * 100);
    bar.setAttribute("aria-valuenow", pct);
    bar.firstChild.style.width = `${pct}%`;
    const message = job.status === "queued" ? "waiting for a worker" : job.progress_message || "";
    el.querySelector(".job-message").textContent = message;
    const done = ["succeeded", "failed", "canceled"].includes(job.status);
    entry.cancel.hidden = done;
    entry.dismiss.hidden = !done;
    const error = el.querySelector(".job-error");
    error.hidden = job.status !== "failed";
    error.textContent = job.status === "failed" ? job.error || "The job failed." : "";
  }

  function onEvent(entry, job, name, data) {
    if (name === "snapshot") Object.assign(job, data.job);
    else if (name === "started") job.status = "running";
    else if (name === "progress") Object.assign(job, { status: "running", progress: data.progress, progress_message: data.message });
    else if (name === "failed") Object.assign(job, { status: "failed", error: data.error });
    else if (name === "canceled") job.status = "canceled";
    else if (name === "succeeded") Object.assign(job, { status: "succeeded", outputs: data.outputs, progress: 1 });
    render(entry, job);
  }

  function settle(entry, job) {
    if (entry.settled) return;
    entry.settled = true;
    entry.finishedAt = Date.now();
    render(entry, job);
    if (job.status === "succeeded") {
      const count = ((job.outputs || {}).assets || []).length;
      entry.el.querySelector(".job-message").textContent =
        `${count} image${count === 1 ? "" : "s"} added to the gallery${job.finished_at && job.started_at ? ` in ${seconds(job)}` : ""}`;
      onSucceeded(job);
    } else if (job.status === "failed") {
      toast(`${jobTitle(job)} failed: ${job.error || "unknown error"}`, "error");
    }
    trimFinished();
  }

  function trimFinished() {
    const finished = [...cards.entries()].filter(([, e]) => e.settled).sort((a, b) => b[1].finishedAt - a[1].finishedAt);
    for (const [id, e] of finished.slice(KEEP_FINISHED)) if (e.el.dataset.status === "succeeded") remove(id);
  }

  async function follow(entry, job, tries = 0) {
    try {
      const final = await followJob(job.id, (name, data) => onEvent(entry, job, name, data), controller.signal);
      if (["succeeded", "failed", "canceled"].includes(final.status)) settle(entry, final);
      else if (tries < 5) follow(entry, final, tries + 1);
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      if (tries >= 5) {
        entry.el.querySelector(".job-message").textContent = `Lost the job's progress: ${err.message || err}`;
        return;
      }
      setTimeout(() => follow(entry, job, tries + 1), 1000 * (tries + 1));
    }
  }

  async function cancelJob(id, button) {
    button.disabled = true;
    try {
      await api(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    } catch (err) {
      toast(`Could not cancel: ${err.message || err}`, "error");
      button.disabled = false;
    }
  }

  function remove(id) {
    const entry = cards.get(id);
    if (entry) entry.el.remove();
    cards.delete(id);
    element.hidden = cards.size === 0;
  }

  function add(job) {
    if (cards.has(job.id)) return cards.get(job.id).el;
    const entry = card(job);
    cards.set(job.id, entry);
    list.prepend(entry.el);
    element.hidden = false;
    render(entry, job);
    if (["succeeded", "failed", "canceled"].includes(job.status)) settle(entry, job);
    else follow(entry, { ...job });
    return entry.el;
  }

  return { element, add, destroy: () => controller.abort() };
}

function seconds(job) {
  const ms = new Date(job.finished_at) - new Date(job.started_at);
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
