// The model picker: every language model in the catalog, grouped by provider, with price and
// capability badges (reasoning, vision, web); unavailable ones stay listed, marked with the reason.
// A button opens a searchable panel; arrow keys move between models, Escape closes it.
import { api } from "../../api.js";
import { h, toast } from "../../ui.js";

let cache = null; // { at, models } for this browser tab: the catalog rarely changes
const FRESH_MS = 30_000;

export async function loadModels() {
  if (cache && Date.now() - cache.at < FRESH_MS) return cache.models;
  const { data } = await api("/api/models?task=chat");
  cache = { at: Date.now(), models: data };
  return data;
}

function perMillion(value) {
  if (value == null) return null;
  return value === 0 ? "0" : `${+value.toPrecision(3)}`;
}

export function priceLabel(model) {
  const { input_per_mtok: input, output_per_mtok: output } = model.pricing || {};
  if (input == null && output == null) return null;
  if (!input && !output) return "free";
  return `$${perMillion(input) ?? "?"} in / $${perMillion(output) ?? "?"} out per 1M tokens`;
}

export function badges(model) {
  const caps = model.capabilities || {};
  const price = priceLabel(model);
  return [
    price && h("span", { class: "badge price", title: "Price per million tokens" },
      price === "free" ? "free" : price.replace(" per 1M tokens", "")),
    caps.reasoning && h("span", { class: "badge cap" }, "reasoning"),
    caps.vision && h("span", { class: "badge cap" }, "vision"),
    caps.web_search && h("span", { class: "badge cap" }, "web"),
  ];
}

export function groupOrder(models) {
  const groups = new Map();
  for (const model of models) {
    if (!groups.has(model.provider)) groups.set(model.provider, []);
    groups.get(model.provider).push(model);
  }
  const rank = ([name, items]) => (name === "local" ? 0 : items.some((m) => m.available) ? 1 : 2);
  const sorted = [...groups].sort((a, b) => rank(a) - rank(b) || a[0].localeCompare(b[0]));
  for (const [, items] of sorted) {
    items.sort((a, b) => (b.available - a.available) || (b.curated - a.curated)
      || a.display_name.localeCompare(b.display_name));
  }
  return sorted;
}

function optionEl(model, pick) {
  const button = h("button", {
    type: "button", class: `model-option${model.available ? "" : " unavailable"}`, role: "option",
    "aria-selected": "false", dataset: { id: model.id },
    title: model.available ? model.id : `${model.id}: ${model.unavailable_reason}`,
  },
  h("span", { class: "model-name" }, model.display_name),
  h("span", { class: "model-id" }, model.id),
  h("span", { class: "model-badges" }, badges(model),
    model.available ? null : h("span", { class: "model-reason" }, model.unavailable_reason)));
  button.addEventListener("click", () => pick(model));
  return button;
}

// `onShown(model)`: the model now shown (picked, set, or its record loaded); undefined for the default.
export function modelPicker({ onChange, onShown = () => {} }) {
  let models = [];
  let byId = new Map();
  let current = null;
  let built = false;

  const label = h("span", { class: "picker-label" }, "Default model");
  const note = h("span", { class: "picker-note" });
  const trigger = h("button", { type: "button", class: "picker-trigger", "aria-haspopup": "listbox",
    "aria-expanded": "false", "aria-label": "Model" }, label, note);
  const search = h("input", { type: "search", placeholder: "Search language models", "aria-label": "Search models",
    autocomplete: "off" });
  const onlyAvailable = h("input", { type: "checkbox" });
  const list = h("div", { class: "picker-list", role: "listbox", "aria-label": "Language models" });
  const count = h("p", { class: "picker-count muted small", "aria-live": "polite" });
  const panel = h("div", { class: "picker-panel", hidden: true },
    h("div", { class: "picker-tools" }, search,
      h("label", { class: "picker-check" }, onlyAvailable, "Available only")),
    count, list);
  const el = h("div", { class: "picker" }, trigger, panel);

  function describe() {
    const model = current && byId.get(current);
    label.textContent = model ? model.display_name : current || "Default model";
    note.replaceChildren(...(model ? [h("span", { class: "model-id" }, model.id), ...badges(model).filter(Boolean)]
      : [h("span", { class: "model-id" }, "the studio's default")]));
    if (model && !model.available) note.append(h("span", { class: "model-reason" }, model.unavailable_reason));
    onShown(model || undefined);
    for (const option of list.querySelectorAll(".model-option")) {
      option.setAttribute("aria-selected", String(option.dataset.id === current));
    }
  }

  function build() {
    built = true;
    const groups = groupOrder(models).map(([provider, items]) => {
      const heading = h("div", { class: "picker-group-name", id: `picker-group-${provider}` }, provider);
      return h("div", { class: "picker-group", role: "group", "aria-labelledby": heading.id },
        heading, items.map((m) => optionEl(m, pick)));
    });
    list.replaceChildren(...groups);
    filter();
    describe();
  }

  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const group of list.children) {
      let any = false;
      for (const option of group.querySelectorAll(".model-option")) {
        const model = byId.get(option.dataset.id);
        const haystack = `${model.id} ${model.display_name} ${model.family || ""}`.toLowerCase();
        const visible = words.every((w) => haystack.includes(w)) && (!onlyAvailable.checked || model.available);
        option.hidden = !visible;
        if (visible) { any = true; shown += 1; }
      }
      group.hidden = !any;
    }
    count.textContent = shown ? `${shown} of ${models.length} language models` : "No model matches.";
  }

  function open() {
    if (!built) build();
    panel.hidden = false;
    trigger.setAttribute("aria-expanded", "true");
    search.focus();
    const selected = list.querySelector('[aria-selected="true"]');
    if (selected) selected.scrollIntoView({ block: "nearest" });
  }

  function close(refocus = true) {
    if (panel.hidden) return;
    panel.hidden = true;
    trigger.setAttribute("aria-expanded", "false");
    if (refocus) trigger.focus();
  }

  function pick(model) {
    current = model.id;
    describe();
    close();
    if (!model.available) toast(`${model.display_name} is not usable now: ${model.unavailable_reason}.`, "error");
    onChange(model.id);
  }

  function move(step) {
    const options = [...list.querySelectorAll(".model-option")].filter((o) => !o.hidden && !o.closest("[hidden]"));
    if (!options.length) return;
    const index = options.indexOf(document.activeElement);
    const next = index < 0 ? (step > 0 ? 0 : options.length - 1)
      : Math.min(options.length - 1, Math.max(0, index + step));
    options[next].focus();
  }

  trigger.addEventListener("click", () => (panel.hidden ? open() : close()));
  search.addEventListener("input", filter);
  onlyAvailable.addEventListener("change", filter);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (event.key === "Enter" && event.target === search) {
      event.preventDefault();
      const first = [...list.querySelectorAll(".model-option")].find((o) => !o.hidden && !o.closest("[hidden]"));
      if (first) first.click();
    }
  });
  const outside = (event) => { if (!el.contains(event.target)) close(false); };
  document.addEventListener("pointerdown", outside);

  return {
    el,
    async load() {
      models = await loadModels();
      byId = new Map(models.map((m) => [m.id, m]));
      search.placeholder = `Search ${models.length} models`;
      if (built) build(); else describe();
    },
    set(id) { current = id || null; describe(); },
    value: () => current,
    model: (id) => byId.get(id),
    destroy() { document.removeEventListener("pointerdown", outside); },
  };
}
