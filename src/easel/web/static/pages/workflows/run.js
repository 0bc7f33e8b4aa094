// One run on the Workflows page (#/workflows/run/<id>): its status, inputs, the steps as a vertical
// list that advances live (EventSource on /api/runs/{id}/events; on a dropped connection the run is
// read again, so nothing is missed), Cancel while it runs, Retry on a failed step, the final
// Markdown (with a download of its stored .md document) and images, and the bundle download once it
// has ended.
import { api } from "../../api.js";
import { h, money, toast } from "../../ui.js";
import { when } from "../chat/list.js";
import { documentLink, imagesOnly, markdownBlock, stepView, thumbnails } from "./step.js";
import { ACTIVE, TERMINAL, chip, runUrl, took, workflowHash } from "./util.js";

export function runView(initial, { workflow, onChange, onRunAgain }) {
  let run = initial;
  let source = null; // the EventSource while following
  let alive = true;
  let canceling = false; // asked to cancel; the stream has not said so yet

  const status = h("span", { class: "wf-run-status" });
  const meta = h("p", { class: "small muted wf-run-meta" });
  const actions = h("div", { class: "row wf-run-actions" });
  const inputs = h("dl", { class: "wf-inputs" });
  const steps = h("ol", { class: "wf-steps", "aria-label": "Steps" });
  const error = h("p", { class: "error-text wf-run-error", role: "alert", hidden: true });
  const result = h("section", { class: "panel wf-result", "aria-labelledby": "wf-result-title", hidden: true });
  const live = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const viewer = h("dialog", { class: "wf-viewer", "aria-label": "Image" });
  const title = workflow ? workflow.title || workflow.name : run.workflow;

  const el = h("article", { class: "wf-run", dataset: { runId: run.id } },
    h("header", { class: "wf-head" },
      h("div", { class: "grow" },
        h("p", { class: "small wf-crumb" }, h("a", { href: workflowHash(run.workflow) }, `${title}: new run`)),
        h("h1", { tabindex: "-1" }, title, " ", status), meta),
      actions),
    error,
    h("details", { class: "wf-run-inputs" }, h("summary", {}, "Inputs"), inputs),
    steps, result, live, viewer);

  function openImage(id) {
    const close = h("button", { type: "button", class: "wf-viewer-close" }, "Close");
    close.addEventListener("click", () => viewer.close());
    viewer.replaceChildren(
      h("img", { src: `/api/assets/${encodeURIComponent(id)}/content`, alt: "Full-size image" }),
      h("div", { class: "row" }, h("a", { class: "button", href: `/api/assets/${encodeURIComponent(id)}/content`, download: "" }, "Download"),
        h("a", { href: `#/images?asset=${encodeURIComponent(id)}` }, "Open in Images"), close));
    viewer.showModal();
    close.focus();
  }
  viewer.addEventListener("click", (event) => { if (event.target === viewer) viewer.close(); });

  function drawHead() {
    status.replaceChildren(chip(run.status));
    el.dataset.status = run.status;
    meta.textContent = [`Run ${run.id}`, run.status === "queued" ? "waiting for a worker" : `started ${when(run.created_at)}`, took(run) && `took ${took(run)}`,
      run.cost !== null && run.cost !== undefined ? `cost ${money(run.cost)}` : ""].filter(Boolean).join(" · ");
    const buttons = [];
    if (!ACTIVE.has(run.status)) canceling = false;
    if (ACTIVE.has(run.status)) {
      const cancel = h("button", { type: "button", class: "danger wf-cancel", disabled: canceling }, canceling ? "Canceling…" : "Cancel");
      cancel.addEventListener("click", () => cancelRun(cancel));
      buttons.push(cancel);
    }
    if (TERMINAL.has(run.status)) {
      buttons.push(h("a", { class: "button primary wf-bundle", href: `${runUrl(run.id)}/bundle`, download: `${run.workflow}-${run.id}.zip` }, "Download bundle"));
      if (onRunAgain) {
        const again = h("button", { type: "button" }, "Run again");
        again.addEventListener("click", () => onRunAgain(run));
        buttons.push(again);
      }
    }
    actions.replaceChildren(...buttons);
    error.textContent = run.error || "";
    error.hidden = !run.error;
    inputs.replaceChildren(...Object.entries(run.inputs || {}).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  }

  const stepOptions = () => ({ onRetry: retry, onOpenImage: openImage, canRetry: !ACTIVE.has(run.status),
    finalMarkdown: run.outputs && run.outputs.markdown });

  // A step records its model once it has answered; before that (or when it failed) show the one
  // it was asked to use: the run's override, else the workflow's declaration.
  function withModel(step) {
    if (step.model) return step;
    const declared = workflow && workflow.steps.find((s) => s.id === step.id);
    return { ...step, model: (run.models && run.models[step.id]) || (declared && declared.model) || null };
  }

  function drawSteps() {
    steps.replaceChildren(...run.steps.map((s, i) => stepView(withModel(s), i + 1, stepOptions())));
  }

  function drawResult() {
    const out = run.outputs || {};
    const images = thumbnails(imagesOnly(out.assets, out.documents), openImage, "Result image");
    result.hidden = !out.markdown && !images;
    if (result.hidden) return;
    const body = out.markdown ? markdownBlock(out.markdown, openImage, "wf-final") : null;
    const download = out.document ? h("div", { class: "row wf-result-actions" }, documentLink(out.document)) : null;
    result.replaceChildren(...[h("h2", { id: "wf-result-title" }, "Result"), download, body, images].filter(Boolean));
  }

  function draw(next) {
    const before = run.status;
    run = next;
    drawHead();
    drawSteps();
    drawResult();
    if (before !== run.status) live.textContent = `Run ${run.status}.`;
    onChange(run);
  }

  // A step event replaces that step in place (and the run's copy of it), keeping the rest.
  function drawStep(step) {
    const index = run.steps.findIndex((s) => s.id === step.id);
    if (index < 0) return;
    const previous = run.steps[index];
    run = { ...run, steps: run.steps.map((s) => (s.id === step.id ? step : s)) };
    if (run.status === "queued") { run.status = "running"; drawHead(); onChange(run); }
    const node = steps.querySelector(`[data-step-id="${CSS.escape(step.id)}"]`);
    const fresh = stepView(withModel(step), index + 1, stepOptions());
    if (node) node.replaceWith(fresh);
    if (previous.status !== step.status) live.textContent = `${step.title || step.id}: ${step.status}.`;
  }

  async function refetch() {
    try {
      const fresh = await api(runUrl(run.id));
      if (alive && !stale(fresh)) draw(fresh);
      return fresh;
    } catch {
      return null;
    }
  }

  // An answer read before the stream's `done` may arrive after it: an ended run that nothing is
  // following (a retry follows again) does not go back to running on such an answer.
  function stale(record) {
    return !source && TERMINAL.has(run.status) && !TERMINAL.has(record.status);
  }

  function stop() {
    if (source) { source.close(); source = null; }
  }

  function follow() {
    stop();
    if (!alive || TERMINAL.has(run.status)) return;
    const es = new EventSource(`${runUrl(run.id)}/events`);
    source = es;
    const parse = (event) => { try { return JSON.parse(event.data); } catch { return null; } };
    es.addEventListener("snapshot", (event) => { const data = parse(event); if (data) draw(data); });
    es.addEventListener("step", (event) => { const data = parse(event); if (data) drawStep(data); });
    es.addEventListener("done", (event) => {
      const data = parse(event);
      if (source === es) stop();
      if (data) draw(data); else refetch();
    });
    // The browser reconnects by itself; meanwhile read the run, and stop if it has ended.
    es.addEventListener("error", async () => {
      const fresh = await refetch();
      if (fresh && TERMINAL.has(fresh.status) && source === es) stop();
    });
  }

  async function cancelRun(button) {
    canceling = true;
    button.disabled = true;
    button.textContent = "Canceling…";
    try {
      const answer = await api(`${runUrl(run.id)}/cancel`, { method: "POST" });
      // Usually still running here: the stream brings the canceled run a moment later.
      if (answer && answer.id && !stale(answer)) draw(answer);
    } catch (err) {
      toast(`Could not cancel the run: ${err.message || err}`, "error");
      canceling = false;
      button.disabled = false;
      button.textContent = "Cancel";
    }
  }

  async function retry(step, model) {
    try {
      const body = model ? { model } : {};
      const answer = await api(`${runUrl(run.id)}/steps/${encodeURIComponent(step.id)}/retry`, { method: "POST", body });
      draw(answer && answer.steps ? answer : await api(runUrl(run.id)));
      follow();
    } catch (err) {
      toast(`Could not retry ${step.title || step.id}: ${err.message || err}`, "error");
    }
  }

  draw(run);
  follow();

  return {
    el,
    destroy() { alive = false; stop(); if (viewer.open) viewer.close(); },
  };
}
