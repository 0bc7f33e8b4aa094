// The Arena's pool picker: the task's models as checkboxes grouped by provider (unusable ones
// listed disabled with the reason), a search box that filters them and also takes a typed model id
// (with suggestions of the usable ones), "select all usable" and "clear", the chosen ones as
// removable chips. Nothing chosen means "every usable model of the task" (the API's default).
// The last pool is remembered per task in localStorage.
import { api } from "../../api.js";
import { h } from "../../ui.js";
import { groupOrder } from "../chat/models.js";

const KEY = (task) => `easel.arena.pool.${task}`;
const CHIPS_SHOWN = 12; // beyond this ("select all usable") the ticks in the list tell the rest

function remembered(task) {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY(task)) || "[]");
    return Array.isArray(saved) ? saved.filter((id) => typeof id === "string") : [];
  } catch { return []; }
}

export function poolPicker() {
  let task = "chat";
  let chosen = [];
  let models = [];
  let byId = new Map();

  const suggestions = h("datalist", { id: "arena-pool-options" });
  const input = h("input", { id: "arena-pool-input", type: "search", list: "arena-pool-options", autocomplete: "off",
    placeholder: "Filter, or type a model id and press Enter", "aria-controls": "arena-pool-list" });
  const addButton = h("button", { type: "button", id: "arena-pool-add", onclick: () => add(input.value) }, "Add");
  const allButton = h("button", { type: "button", id: "arena-pool-all", onclick: () => choose(usableIds()) },
    "Select all usable");
  const clearButton = h("button", { type: "button", id: "arena-pool-clear", onclick: () => choose([]) }, "Clear");
  const usableOnly = h("input", { type: "checkbox", id: "arena-pool-usable", onchange: () => filter() });
  const list = h("div", { id: "arena-pool-list", class: "arena-pool-list", role: "group", "aria-label": "Models to draw from" });
  const count = h("p", { class: "muted small arena-pool-count", "aria-live": "polite" });
  const chips = h("ul", { class: "arena-chips", "aria-label": "Models in the pool" });
  const hint = h("p", { class: "muted small arena-pool-hint" });

  function usableIds() { return models.filter((m) => m.available).map((m) => m.id); }

  function choose(ids) {
    chosen = [...new Set(ids)];
    localStorage.setItem(KEY(task), JSON.stringify(chosen));
    render();
  }

  function toggle(id, on) { choose(on ? [...chosen, id] : chosen.filter((c) => c !== id)); }

  function add(text) {
    const typed = text.trim();
    if (!typed) { input.focus(); return; }
    // An exact id wins; otherwise, when the filter leaves exactly one usable model, take that one;
    // anything else is kept as typed (an alias, or a model the catalog lists later) for the API to judge.
    const visible = visibleModels().filter((m) => m.available);
    const id = byId.has(typed) || visible.length !== 1 ? typed : visible[0].id;
    if (!chosen.includes(id)) choose([...chosen, id]);
    input.value = "";
    filter();
  }

  function visibleModels() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    return models.filter((m) => {
      const haystack = `${m.id} ${m.display_name || ""} ${m.provider}`.toLowerCase();
      return (m.available || !usableOnly.checked) && words.every((w) => haystack.includes(w));
    });
  }

  function option(model) {
    const box = h("input", { type: "checkbox", value: model.id, disabled: !model.available,
      onchange: (event) => toggle(model.id, event.target.checked) });
    return h("label", { class: `arena-pool-option${model.available ? "" : " unavailable"}`, dataset: { id: model.id },
      title: model.available ? model.id : `${model.id}: ${model.unavailable_reason}` },
    box, h("span", { class: "arena-pool-name" }, model.display_name || model.id),
    h("span", { class: "arena-pool-id" }, model.id),
    model.available ? null : h("span", { class: "arena-pool-reason" }, `not usable: ${model.unavailable_reason}`));
  }

  function build() {
    list.replaceChildren(...groupOrder(models).map(([provider, items]) => {
      const usable = items.filter((m) => m.available).length;
      return h("fieldset", { class: "arena-pool-group", dataset: { provider } },
        h("legend", {}, provider, h("span", { class: "muted small" }, ` ${usable} of ${items.length} usable`)),
        items.map(option));
    }));
    suggestions.replaceChildren(...usableIds().map((id) => h("option", { value: id })));
    if (!models.length) list.append(h("p", { class: "muted small" }, "No models for this task in the catalog."));
  }

  function filter() {
    const shown = new Set(visibleModels().map((m) => m.id));
    for (const group of list.querySelectorAll(".arena-pool-group")) {
      let any = false;
      for (const label of group.querySelectorAll(".arena-pool-option")) {
        label.hidden = !shown.has(label.dataset.id);
        any = any || !label.hidden;
      }
      group.hidden = !any;
    }
    const usable = usableIds().length;
    count.textContent = shown.size !== models.length
      ? (shown.size ? `${shown.size} of ${models.length} models match` : "No model matches: Enter adds it as typed.")
      : `${usable} of ${models.length} ${task} models usable now`;
  }

  function render() {
    for (const box of list.querySelectorAll("input[type=checkbox]")) box.checked = chosen.includes(box.value);
    chips.replaceChildren(...chosen.slice(0, CHIPS_SHOWN).map((id) => {
      const model = byId.get(id);
      const unusable = model && !model.available;
      return h("li", { class: `arena-chip${unusable ? " unusable" : ""}`, dataset: { id },
        title: unusable ? `${id}: ${model.unavailable_reason}` : id },
      id, unusable ? h("span", { class: "arena-chip-note" }, " (not usable now)") : null,
      h("button", { type: "button", "aria-label": `Remove ${id}`, onclick: () => toggle(id, false) }, "×"));
    }));
    if (chosen.length > CHIPS_SHOWN) {
      chips.append(h("li", { class: "arena-chip-more muted small" }, `and ${chosen.length - CHIPS_SHOWN} more, ticked in the list`));
    }
    const usable = usableIds().length;
    hint.textContent = chosen.length
      ? `${chosen.length} picked: battles draw two of these.`
      : `None picked: battles draw from every usable ${task} model (${usable}).`;
    clearButton.disabled = !chosen.length;
    allButton.disabled = !usable || usableIds().every((id) => chosen.includes(id));
  }

  input.addEventListener("input", filter);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing) { event.preventDefault(); add(input.value); }
    else if (event.key === "Escape" && input.value) { event.preventDefault(); input.value = ""; filter(); }
  });

  async function load(nextTask) {
    task = nextTask;
    chosen = remembered(task);
    let data = [];
    try {
      ({ data } = await api(`/api/models?task=${encodeURIComponent(task)}`));
    } catch { /* an empty list says so */ }
    if (task !== nextTask) return; // the task changed again while this list was loading
    models = data;
    byId = new Map(models.map((m) => [m.id, m]));
    build();
    filter();
    render();
  }

  const el = h("div", { class: "arena-pool" },
    h("label", { for: "arena-pool-input" }, "Pool"),
    h("div", { class: "arena-pool-row" }, input, addButton), suggestions,
    h("div", { class: "arena-pool-tools" }, allButton, clearButton,
      h("label", { class: "arena-pool-check" }, usableOnly, "Usable only"), count),
    list, chips, hint);
  return { el, load, models: () => [...chosen] };
}
