// One workflow on the Workflows page: its title and description, its YAML (view, download, delete
// a saved one), a form generated from its declared inputs (text, textarea, number, select; defaults,
// required marks and a client-side required check, the server's 400 shown too), per-step model
// overrides under "Advanced", and the Run button. `onRun(run)` gets the 202 answer.
import { api } from "../../api.js";
import { h } from "../../ui.js";
import { downloadText, modelSelect, stepTask, workflowUrl } from "./util.js";

function control(input, id) {
  const common = { id, name: input.name, "aria-required": input.required ? "true" : undefined,
    "aria-describedby": input.description ? `${id}-hint` : undefined };
  const initial = input.default ?? "";
  if (input.type === "choice") {
    const select = h("select", common,
      input.required && initial !== "" ? null : h("option", { value: "" }, input.required ? "Choose…" : "—"),
      (input.choices || []).map((c) => h("option", { value: String(c) }, String(c))));
    select.value = String(initial);
    return select;
  }
  if (input.type === "text") return h("textarea", { ...common, rows: 4 }, String(initial));
  if (input.type === "integer") {
    return h("input", { ...common, type: "number", step: 1, min: input.min ?? undefined, max: input.max ?? undefined,
      inputmode: "numeric", value: String(initial) });
  }
  return h("input", { ...common, type: "text", autocomplete: "off", value: String(initial) });
}

export function workflowView(workflow, { onRun, onDeleted }) {
  const fields = workflow.inputs.map((input) => {
    const id = `wf-in-${input.name}`;
    const el = control(input, id);
    const error = h("p", { class: "error-text small wf-field-error", id: `${id}-error`, hidden: true });
    const wrap = h("div", { class: "wf-field", dataset: { input: input.name } },
      h("label", { for: id }, input.title || input.name,
        input.required ? h("span", { class: "wf-required", "aria-hidden": "true", title: "required" }, " *") : null),
      el,
      input.description ? h("p", { class: "small muted wf-hint", id: `${id}-hint` }, input.description) : null,
      error);
    return { input, el, error, wrap };
  });

  const overrides = workflow.steps.filter((step) => stepTask(step)).map((step) => ({
    step, select: modelSelect(step, { id: `wf-model-${step.id}` }) }));
  const advanced = overrides.length ? h("details", { class: "wf-advanced" }, h("summary", {}, "Advanced: models per step"),
    overrides.map(({ step, select }) => h("div", { class: "wf-field" },
      h("label", { for: select.id }, step.title || step.id, h("span", { class: "muted" }, ` · ${step.kind}`)), select))) : null;

  const formError = h("p", { class: "error-text wf-form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary wf-run-button" }, "Run workflow");
  const form = h("form", { class: "wf-form", "aria-label": `Run ${workflow.title || workflow.name}`, novalidate: true },
    fields.length ? fields.map((f) => f.wrap) : h("p", { class: "muted" }, "This workflow takes no inputs."),
    advanced, formError, submit);

  const yaml = h("details", { class: "wf-yaml" }, h("summary", {}, "YAML"),
    h("pre", { class: "wf-code", tabindex: "0", "aria-label": "Workflow YAML" }, h("code", {}, workflow.source || "")));
  const download = h("button", { type: "button" }, "Download YAML");
  download.addEventListener("click", () => downloadText(`${workflow.name}.yaml`, workflow.source || ""));
  const remove = workflow.builtin ? null : h("button", { type: "button", class: "danger" }, "Delete");
  remove?.addEventListener("click", () => confirmRemove());

  const steps = h("ol", { class: "wf-outline", "aria-label": "Steps" }, workflow.steps.map((s) => h("li", {},
    h("span", {}, s.title || s.id), h("span", { class: "muted small" }, ` · ${s.kind}${s.for_each ? " · for each" : ""}${s.model ? ` · ${s.model}` : ""}`))));

  const el = h("article", { class: "wf-workflow", dataset: { name: workflow.name } },
    h("header", { class: "wf-head" },
      h("div", { class: "grow" },
        h("h1", {}, workflow.title || workflow.name, " ", workflow.builtin ? h("span", { class: "badge" }, "template") : h("span", { class: "badge ok" }, "saved")),
        workflow.description ? h("p", { class: "muted wf-description" }, workflow.description) : null),
      h("div", { class: "row wf-head-actions" }, download, remove)),
    h("div", { class: "wf-body" },
      h("section", { class: "panel", "aria-label": "Inputs" }, form),
      h("section", { class: "panel wf-about", "aria-label": "About this workflow" }, h("h2", {}, "Steps"), steps, yaml)));

  function showError(message) {
    formError.textContent = message || "";
    formError.hidden = !message;
  }

  function markField(field, message) {
    field.error.textContent = message || "";
    field.error.hidden = !message;
    if (message) {
      field.el.setAttribute("aria-invalid", "true");
      field.el.setAttribute("aria-errormessage", field.error.id);
    } else {
      field.el.removeAttribute("aria-invalid");
      field.el.removeAttribute("aria-errormessage");
    }
  }

  function collect() {
    const inputs = {};
    let firstMissing = null;
    for (const field of fields) {
      const raw = field.el.value;
      const value = field.input.type === "text" ? raw : raw.trim();
      markField(field, "");
      if (value === "") {
        if (field.input.required) { markField(field, "Fill this in."); firstMissing ||= field; }
        continue;
      }
      inputs[field.input.name] = field.input.type === "integer" ? Number(value) : value;
    }
    const models = {};
    for (const { step, select } of overrides) if (select.value) models[step.id] = select.value;
    return { inputs, models, firstMissing };
  }

  // The server names the input in `param` ("inputs.topic" or "topic"): mark that field too.
  function fieldFor(param) {
    if (!param) return null;
    const name = String(param).replace(/^inputs\./, "");
    return fields.find((f) => f.input.name === name) || null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const { inputs, models, firstMissing } = collect();
    if (firstMissing) {
      showError("Fill in the required inputs marked *.");
      firstMissing.el.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const run = await api(`${workflowUrl(workflow.name)}/runs`, { method: "POST", body: { inputs, models } });
      onRun(run);
    } catch (err) {
      showError(err.message || String(err));
      const field = fieldFor(err.param);
      if (field) { markField(field, err.message); field.el.focus(); }
    } finally {
      submit.disabled = false;
      submit.textContent = "Run workflow";
    }
  });

  async function confirmRemove() {
    if (remove.dataset.armed !== "1") {
      remove.dataset.armed = "1";
      remove.textContent = "Delete? Press again";
      remove.addEventListener("blur", () => { delete remove.dataset.armed; remove.textContent = "Delete"; }, { once: true });
      return;
    }
    remove.disabled = true;
    try {
      await api(workflowUrl(workflow.name), { method: "DELETE" });
      onDeleted(workflow);
    } catch (err) {
      showError(`Could not delete it: ${err.message || err}`);
      remove.disabled = false;
    }
  }

  // Fill the form from an earlier run's inputs ("Run again").
  function fill(values) {
    for (const field of fields) {
      if (values && Object.hasOwn(values, field.input.name)) field.el.value = String(values[field.input.name] ?? "");
    }
  }

  return { el, fill, focus: () => (fields[0]?.el || submit).focus() };
}
