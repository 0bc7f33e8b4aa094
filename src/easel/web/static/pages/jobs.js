// The Jobs page: running and recent jobs (paged, filtered by status and task) with live progress
// from each unfinished job's events, cancel, the error of a failed job, and thumbnails of outputs
// that open in the Images page's lightbox. Filters live in the hash (#/jobs?status=failed&task=image).
import { api, followJob } from "../api.js";
import { empty, h, money, toast } from "../ui.js";

const PAGE = 30;
const STATUSES = [["", "All statuses"], ["active", "Active (queued or running)"], ["queued", "Queued"], ["running", "Running"],
  ["succeeded", "Succeeded"], ["failed", "Failed"], ["canceled", "Canceled"]];
const TASKS = [["", "All tasks"], ["image", "Image"], ["upscale", "Upscale"], ["video", "Video"], ["workflow", "Workflow"]];
const DONE = new Set(["succeeded", "failed", "canceled"]);
const NEW_JOBS_EVERY_MS = 5000;

function loadCss(href) {
  if (document.querySelector(`link[data-page-css="${href}"]`)) return Promise.resolve();
  const link = h("link", { rel: "stylesheet", href, dataset: { pageCss: href } });
  const loaded = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
  document.head.append(link);
  return loaded;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
function ago(iso) {
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  const [value, unit] = Math.abs(seconds) < 60 ? [seconds, "second"] : Math.abs(seconds) < 3600 ? [Math.round(seconds / 60), "minute"]
    : Math.abs(seconds) < 86400 ? [Math.round(seconds / 3600), "hour"] : [Math.round(seconds / 86400), "day"];
  return relative.format(value, unit);
}

function took(job) {
  if (!job.started_at || !job.finished_at) return "";
  const s = (new Date(job.finished_at) - new Date(job.started_at)) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

function summary(job) {
  const req = job.request || {};
  if (job.task === "upscale") return `Upscale ${req.scale || "?"}×`;
  return req.prompt || req.brief || req.title || job.task;
}

export async function mount(root, { params } = {}) {
  await loadCss("/static/pages/jobs.css");
  const controller = new AbortController();
  const state = { status: params?.get("status") || "", task: params?.get("task") || "", offset: 0, total: 0 };
  const rows = new Map(); // job id -> { el, job, following }
  let live = new AbortController(); // the followers of the list on screen; a reload ends them

  const statusSelect = h("select", { id: "jobs-status" }, STATUSES.map(([v, l]) => h("option", { value: v }, l)));
  const taskSelect = h("select", { id: "jobs-task" }, TASKS.map(([v, l]) => h("option", { value: v }, l)));
  statusSelect.value = state.status;
  taskSelect.value = state.task;
  const count = h("span", { class: "muted small jobs-count", "aria-live": "polite" });
  const list = h("ul", { class: "job-list", "aria-label": "Jobs" });
  const status = h("div", { class: "jobs-status-line" });
  const more = h("button", { type: "button", class: "jobs-more", hidden: true }, "Load more jobs");
  const refresh = h("button", { type: "button" }, "Refresh");
  root.append(h("div", { class: "jobs-page" },
    h("div", { class: "jobs-head" }, h("h1", {}, "Jobs"), count,
      h("div", { class: "jobs-filters" },
        h("div", { class: "jobs-filter" }, h("label", { for: "jobs-status" }, "Status"), statusSelect),
        h("div", { class: "jobs-filter" }, h("label", { for: "jobs-task" }, "Task"), taskSelect), refresh)),
    list, status, more));

  function query(offset, limit = PAGE) {
    const q = new URLSearchParams({ limit, offset });
    if (state.status === "active") { q.append("status", "queued"); q.append("status", "running"); } else if (state.status) q.append("status", state.status);
    if (state.task) q.set("task", state.task);
    return `/api/jobs?${q}`;
  }

  function thumb(id, label) {
    return h("a", { href: `#/images?asset=${encodeURIComponent(id)}`, class: "job-thumb", title: `${label}: open in the gallery` },
      h("img", { src: `/api/assets/${encodeURIComponent(id)}/thumbnail`, alt: `${label} ${id}`, loading: "lazy", width: 64, height: 64,
        onerror: (event) => event.target.closest("a").replaceWith(h("span", { class: "job-thumb gone", title: `${label} deleted` }, "deleted")) }));
  }

  // The outputs' thumbnails; an upscale shows its source first.
  function outputs(job) {
    const ids = (job.outputs && job.outputs.assets) || [];
    const source = job.task === "upscale" && job.request && job.request.asset_id;
    if (!ids.length && !source) return null;
    return h("div", { class: "job-outputs", "aria-label": "Outputs" },
      source ? [thumb(source, "Source"), h("span", { class: "muted", "aria-hidden": "true" }, "→")] : null,
      ids.slice(0, 6).map((id) => thumb(id, "Output")),
      ids.length > 6 ? h("span", { class: "muted small" }, `+${ids.length - 6}`) : null);
  }

  function render(job) {
    const done = DONE.has(job.status);
    const pct = Math.round((job.status === "succeeded" ? 1 : job.progress || 0) * 100);
    const cancel = done ? null : h("button", { type: "button", class: "danger job-cancel" }, job.cancel_requested ? "Canceling…" : "Cancel");
    if (cancel) cancel.addEventListener("click", () => cancelJob(job, cancel));
    const meta = [job.model, ago(job.created_at), took(job) && `took ${took(job)}`,
      job.cost !== null && job.cost !== undefined ? money(job.cost) : ""].filter(Boolean).join(" · ");
    const badge = { succeeded: "ok", failed: "warn", canceled: "", running: "run", queued: "" }[job.status] || "";
    return h("li", { class: "job-row", dataset: { jobId: job.id, status: job.status } },
      h("div", { class: "job-kind" }, h("span", { class: `badge ${badge}` }, job.status), h("span", { class: "job-task" }, job.task)),
      h("div", { class: "job-main" },
        h("p", { class: "job-summary", title: summary(job) }, summary(job)),
        h("p", { class: "small muted job-meta" }, meta, h("span", { class: "job-id" }, ` · ${job.id}`)),
        done ? null : h("div", { class: "job-live" },
          h("div", { class: "progress", role: "progressbar", "aria-label": "Progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct },
            h("div", { style: `width:${pct}%` })),
          h("span", { class: "small muted" }, job.status === "queued" ? "waiting for a worker" : `${pct}%${job.progress_message ? ` · ${job.progress_message}` : ""}`)),
        job.status === "failed" ? h("p", { class: "error-text small job-error", role: "note" }, job.error || "The job failed.") : null),
      outputs(job),
      h("div", { class: "job-actions" }, cancel));
  }

  function place(job, { atTop = false } = {}) {
    const existing = rows.get(job.id);
    const el = render(job);
    if (existing) existing.el.replaceWith(el);
    else if (atTop) list.prepend(el);
    else list.append(el);
    const row = { el, job, following: existing ? existing.following : false };
    rows.set(job.id, row);
    if (!DONE.has(job.status) && !row.following) follow(row);
  }

  // Progress changes the bar and its line in place (keeps focus on Cancel); a new status re-renders.
  function update(job) {
    const row = rows.get(job.id);
    if (!row || row.job.status !== job.status) return place(job);
    row.job = job;
    const pct = Math.round((job.progress || 0) * 100);
    const bar = row.el.querySelector(".progress");
    if (!bar) return place(job);
    bar.setAttribute("aria-valuenow", pct);
    bar.firstChild.style.width = `${pct}%`;
    row.el.querySelector(".job-live > span").textContent = `${pct}%${job.progress_message ? ` · ${job.progress_message}` : ""}`;
    return undefined;
  }

  async function follow(row) {
    const { signal } = live;
    row.following = true;
    const job = { ...row.job };
    try {
      const final = await followJob(job.id, (name, data) => {
        if (name === "snapshot") Object.assign(job, data.job);
        else if (name === "started") job.status = "running";
        else if (name === "progress") Object.assign(job, { status: "running", progress: data.progress, progress_message: data.message });
        else return; // terminal events: the final GET below has the whole record
        if (rows.has(job.id)) update({ ...job });
      }, signal);
      const current = rows.get(final.id);
      if (current) { current.following = false; place(final); }
    } catch (err) {
      const current = rows.get(job.id);
      if (current) current.following = false;
      if (err.name !== "AbortError" && !signal.aborted) toast(`Lost the progress of ${job.id}: ${err.message || err}`, "error");
    }
  }

  async function cancelJob(job, button) {
    button.disabled = true;
    button.textContent = "Canceling…";
    try {
      const updated = await api(`/api/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST", signal: controller.signal });
      if (DONE.has(updated.status)) place(updated);
    } catch (err) {
      if (err.name === "AbortError") return;
      toast(`Could not cancel ${job.id}: ${err.message || err}`, "error");
      const fresh = await api(`/api/jobs/${encodeURIComponent(job.id)}`).catch(() => null);
      if (fresh) place(fresh);
    }
  }

  function showState() {
    count.textContent = state.total ? `${state.total.toLocaleString()} job${state.total === 1 ? "" : "s"}` : "";
    more.hidden = state.offset >= state.total;
    if (rows.size) status.replaceChildren();
    else status.replaceChildren(empty(state.status || state.task ? "No jobs match these filters."
      : "No jobs yet. Images, upscales and videos you start show up here with their progress.",
    state.status || state.task ? null : h("a", { class: "button", href: "#/images" }, "Make an image")));
  }

  async function loadMore() {
    more.disabled = true;
    const generation = live;
    try {
      const page = await api(query(state.offset), { signal: controller.signal });
      if (generation !== live) return; // the filters changed meanwhile
      state.total = page.count;
      state.offset += page.data.length;
      for (const job of page.data) if (!rows.has(job.id)) place(job);
      showState();
    } catch (err) {
      if (err.name === "AbortError") return;
      status.replaceChildren(h("p", { class: "error-text", role: "alert" }, `Could not load jobs: ${err.message || err}`));
    } finally {
      more.disabled = false;
    }
  }

  // New jobs (started elsewhere) appear at the top; the list below is kept as it is.
  async function checkNew() {
    if (document.hidden) return;
    try {
      const generation = live;
      const page = await api(query(0, 20), { signal: controller.signal });
      if (generation !== live) return;
      const fresh = page.data.filter((job) => !rows.has(job.id)).reverse();
      for (const job of fresh) place(job, { atTop: true });
      state.offset += fresh.length;
      state.total = page.count;
      showState();
    } catch { /* the next tick tries again; loadMore shows errors */ }
  }

  function reload() {
    const hash = new URLSearchParams();
    if (state.status) hash.set("status", state.status);
    if (state.task) hash.set("task", state.task);
    history.replaceState(null, "", `#/jobs${hash.toString() ? `?${hash}` : ""}`);
    live.abort();
    live = new AbortController();
    rows.clear();
    list.replaceChildren();
    state.offset = 0;
    state.total = 0;
    status.replaceChildren(h("p", { class: "muted small" }, "Loading jobs…"));
    return loadMore();
  }

  statusSelect.addEventListener("change", () => { state.status = statusSelect.value; reload(); });
  taskSelect.addEventListener("change", () => { state.task = taskSelect.value; reload(); });
  refresh.addEventListener("click", () => reload());
  more.addEventListener("click", loadMore);
  const timer = setInterval(checkNew, NEW_JOBS_EVERY_MS);
  await reload();

  return () => {
    clearInterval(timer);
    live.abort();
    controller.abort();
  };
}
