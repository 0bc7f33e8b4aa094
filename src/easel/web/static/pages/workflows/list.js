// The Workflows page's side column: the templates and saved workflows (builtins badged), the
// "Import YAML" panel (a file or pasted text, saved through POST /api/workflows, the server's
// validation message shown as is; a name already saved offers "Replace it", which saves again
// with ?replace=true) and the recent runs with their status.
import { api } from "../../api.js";
import { h } from "../../ui.js";
import { when } from "../chat/list.js";
import { chip, runHash, workflowHash } from "./util.js";

const RECENT = 12;

export function sideColumn({ onOpenWorkflow, onOpenRun, onImported }) {
  let selected = { workflow: null, run: null };
  const workflows = h("ul", { class: "wf-list", "aria-label": "Workflows" });
  const runs = h("ul", { class: "wf-list wf-runs", "aria-label": "Recent runs" });
  const runsStatus = h("p", { class: "muted small wf-runs-status" });
  const listStatus = h("p", { class: "muted small" });

  const file = h("input", { type: "file", id: "wf-import-file", accept: ".yaml,.yml,application/yaml,text/yaml,text/plain" });
  const text = h("textarea", { id: "wf-import-text", rows: 8, spellcheck: "false", class: "wf-code",
    placeholder: "name: my-workflow\ntitle: My workflow\ninputs: ...\nsteps: ..." });
  const error = h("p", { class: "error-text small wf-import-error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "primary" }, "Save workflow");
  const replace = h("button", { type: "button", class: "wf-import-replace", hidden: true }, "Replace it");
  const importForm = h("form", { class: "wf-import-form", "aria-label": "Import a workflow" },
    h("label", { for: "wf-import-file" }, "YAML file"), file,
    h("label", { for: "wf-import-text" }, "or paste its YAML"), text, error, replace, save);
  const importPanel = h("details", { class: "wf-import" }, h("summary", {}, "Import YAML"), importForm);

  const el = h("div", { class: "wf-side-inner" },
    h("section", { "aria-labelledby": "wf-list-title" },
      h("h2", { id: "wf-list-title" }, "Workflows"), listStatus, workflows, importPanel),
    h("section", { "aria-labelledby": "wf-runs-title", class: "wf-runs-section" },
      h("h2", { id: "wf-runs-title" }, "Recent runs"), runsStatus, runs));

  function link(href, onClick, ...children) {
    const a = h("a", { href, class: "wf-link" }, ...children);
    a.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      onClick();
    });
    return a;
  }

  function mark() {
    for (const a of el.querySelectorAll(".wf-link")) a.removeAttribute("aria-current");
    const current = selected.run ? runs.querySelector(`[data-run-id="${CSS.escape(selected.run)}"] a`)
      : selected.workflow ? workflows.querySelector(`[data-name="${CSS.escape(selected.workflow)}"] a`) : null;
    if (!current) return;
    current.setAttribute("aria-current", "page");
    // On a phone the lists scroll sideways: bring the current one into view, without moving the page.
    const ul = current.closest("ul");
    const shift = current.getBoundingClientRect().left - ul.getBoundingClientRect().left;
    if (shift < 0 || shift + current.offsetWidth > ul.clientWidth) ul.scrollLeft += shift - 8;
  }

  function showWorkflows(items) {
    listStatus.textContent = items.length ? "" : "No workflows yet.";
    const sorted = [...items].sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.title.localeCompare(b.title));
    workflows.replaceChildren(...sorted.map((w) => h("li", { dataset: { name: w.name } },
      link(workflowHash(w.name), () => onOpenWorkflow(w.name),
        h("span", { class: "wf-link-title" }, w.title || w.name),
        h("span", { class: "wf-link-meta" }, w.builtin ? h("span", { class: "badge" }, "template") : h("span", { class: "badge ok" }, "saved"),
          h("span", { class: "muted small" }, `${w.steps.length} step${w.steps.length === 1 ? "" : "s"}`))))));
    mark();
  }

  function runItem(run, titles) {
    return h("li", { dataset: { runId: run.id, status: run.status } },
      link(runHash(run.id), () => onOpenRun(run.id),
        h("span", { class: "wf-link-title" }, titles.get(run.workflow) || run.workflow),
        h("span", { class: "wf-link-meta" }, chip(run.status), h("span", { class: "muted small" }, when(run.created_at)))));
  }

  let titles = new Map();
  async function reload() {
    try {
      const { data } = await api("/api/workflows");
      titles = new Map(data.map((w) => [w.name, w.title || w.name]));
      showWorkflows(data);
      return data;
    } catch (err) {
      listStatus.textContent = `Could not load the workflows: ${err.message || err}`;
      listStatus.className = "error-text small";
      return [];
    }
  }

  async function reloadRuns() {
    try {
      const { data, count } = await api(`/api/runs?limit=${RECENT}`);
      runs.replaceChildren(...data.map((run) => runItem(run, titles)));
      runsStatus.textContent = count ? "" : "No runs yet. Pick a workflow, fill its form and run it.";
      mark();
    } catch (err) {
      runsStatus.textContent = `Could not load the runs: ${err.message || err}`;
    }
  }

  // A run's row follows what the main view shows of it (status changes while it runs).
  function updateRun(run) {
    const existing = runs.querySelector(`[data-run-id="${CSS.escape(run.id)}"]`);
    const item = runItem(run, titles);
    if (existing) existing.replaceWith(item);
    else { runs.prepend(item); runsStatus.textContent = ""; while (runs.children.length > RECENT) runs.lastChild.remove(); }
    mark();
  }

  file.addEventListener("change", async () => {
    const chosen = file.files && file.files[0];
    if (chosen) text.value = await chosen.text();
  });
  text.addEventListener("input", () => { replace.hidden = true; });
  replace.addEventListener("click", () => saveSource({ replacing: true }));
  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveSource({ replacing: false });
  });

  async function saveSource({ replacing }) {
    error.hidden = true;
    replace.hidden = true;
    if (!text.value.trim()) {
      error.textContent = "Choose a YAML file or paste a workflow first.";
      error.hidden = false;
      text.focus();
      return;
    }
    save.disabled = replace.disabled = true;
    try {
      const path = replacing ? "/api/workflows?replace=true" : "/api/workflows";
      const created = await api(path, { method: "POST", body: { source: text.value } });
      text.value = "";
      file.value = "";
      importPanel.open = false;
      await reload();
      onImported(created);
    } catch (err) {
      const taken = err.status === 409 && err.code === "workflow_exists";
      error.textContent = taken
        ? "You already saved a workflow with this name. Replace it, or change the name in the YAML."
        : err.message || String(err);
      error.hidden = false;
      replace.hidden = !taken;
      save.disabled = replace.disabled = false; // a disabled button cannot take the focus
      (taken ? replace : text).focus();
    } finally {
      save.disabled = replace.disabled = false;
    }
  }

  return {
    el, reload, reloadRuns, updateRun,
    select(next) { selected = { workflow: null, run: null, ...next }; mark(); },
    openImport(source) { importPanel.open = true; if (source !== undefined) text.value = source; text.focus(); },
  };
}
