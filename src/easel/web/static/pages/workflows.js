// The Workflows page: pick a template or a saved workflow, fill its inputs, run it and watch the
// steps advance; read and download the results, retry a failed step; import, view and download a
// workflow's YAML. #/workflows/<name> opens a workflow, #/workflows/run/<id> a run (deep links).
// The side column is pages/workflows/list.js; a workflow's form is form.js; a run is run.js.
import { api } from "../api.js";
import { empty, h, toast } from "../ui.js";
import { workflowView } from "./workflows/form.js";
import { sideColumn } from "./workflows/list.js";
import { runView } from "./workflows/run.js";
import { loadStyles, runHash, runUrl, workflowHash, workflowUrl } from "./workflows/util.js";

export async function mount(root, { rest = [] } = {}) {
  await loadStyles();
  let alive = true;
  let shown = null; // { destroy?() } of what the main column holds
  let workflows = [];

  const main = h("section", { class: "wf-main", "aria-label": "Workflow" });
  const side = sideColumn({
    onOpenWorkflow: (name) => openWorkflow(name, { push: true }),
    onOpenRun: (id) => openRun(id, { push: true }),
    onImported: (created) => {
      toast(`Saved “${created.title || created.name}”.`);
      openWorkflow(created.name, { push: true, record: created });
    },
  });
  root.append(h("div", { class: "wf-page" },
    h("aside", { class: "wf-side panel", "aria-label": "Workflows and runs" }, side.el), main));

  function show(el, handle = null) {
    if (shown && shown.destroy) shown.destroy();
    shown = handle;
    main.replaceChildren(el);
  }

  function go(hash, push) {
    if (push) history.pushState(null, "", hash);
    else history.replaceState(null, "", hash);
  }

  async function openWorkflow(name, { push = false, record = null, fillFrom = null } = {}) {
    let workflow = record;
    try {
      workflow ||= await api(workflowUrl(name));
    } catch (err) {
      if (!alive) return;
      toast(err.status === 404 ? `There is no workflow called “${name}”.` : `Could not open it: ${err.message || err}`, "error");
      return openDefault();
    }
    if (!alive) return;
    go(workflowHash(workflow.name), push);
    side.select({ workflow: workflow.name });
    const view = workflowView(workflow, {
      onRun: (run) => {
        side.updateRun(run);
        showRun(run, workflow, { push: true });
      },
      onDeleted: async (gone) => {
        toast(`Deleted “${gone.title || gone.name}”.`);
        workflows = await side.reload();
        openDefault();
      },
    });
    show(view.el);
    if (fillFrom) view.fill(fillFrom);
    if (push || fillFrom) view.focus();
  }

  function showRun(run, workflow, { push = false } = {}) {
    go(runHash(run.id), push);
    side.select({ run: run.id });
    const view = runView(run, {
      workflow,
      onChange: (current) => side.updateRun(current),
      onRunAgain: (done) => openWorkflow(done.workflow, { push: true, fillFrom: done.inputs }),
    });
    show(view.el, view);
    if (push) view.el.querySelector("h1").focus(); // a screen reader hears where the run went
  }

  async function openRun(id, { push = false } = {}) {
    try {
      const run = await api(runUrl(id));
      if (!alive) return;
      const workflow = workflows.find((w) => w.name === run.workflow) || null;
      showRun(run, workflow, { push });
    } catch (err) {
      if (!alive) return;
      toast(err.status === 404 ? "That run no longer exists." : `Could not open the run: ${err.message || err}`, "error");
      openDefault();
    }
  }

  function openDefault() {
    const first = workflows[0];
    if (first) return openWorkflow(first.name, { record: first });
    go("#/workflows", false);
    side.select({});
    show(empty("No workflows yet. Import one as YAML to start.",
      h("button", { type: "button", onclick: () => side.openImport() }, "Import YAML")));
    return undefined;
  }

  workflows = await side.reload();
  side.reloadRuns();
  if (rest[0] === "run" && rest[1]) await openRun(decodeURIComponent(rest[1]));
  else if (rest[0]) await openWorkflow(decodeURIComponent(rest[0]));
  else await openDefault();

  return () => {
    alive = false;
    if (shown && shown.destroy) shown.destroy();
  };
}
