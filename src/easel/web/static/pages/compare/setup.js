// The comparison form: the task (chat or image), 2 to 8 model slots (add and remove), the prompt.
// Each slot is a plain <select> of the task's models, usable ones first; the choice is kept per task.
import { api } from "../../api.js";
import { h } from "../../ui.js";

export const MIN_MODELS = 2;
export const MAX_MODELS = 8;
const KEY = (task) => `easel.compare.models.${task}`;
const cache = new Map(); // task -> models, for this tab

async function modelsFor(task) {
  if (!cache.has(task)) {
    const { data } = await api(`/api/models?task=${task}`);
    data.sort((a, b) => (b.available - a.available) || (a.provider === "local" ? -1 : 0)
      || a.id.localeCompare(b.id));
    cache.set(task, data);
  }
  return cache.get(task);
}

export function setupForm({ onSubmit }) {
  let task = "chat";
  let models = [];
  const slots = h("ol", { class: "cmp-slots" });
  const add = h("button", { type: "button", class: "cmp-add" }, "+ Add model");
  const taskPick = h("select", { "aria-label": "Task", class: "cmp-task" },
    h("option", { value: "chat" }, "Chat"), h("option", { value: "image" }, "Image"));
  const prompt = h("textarea", { rows: 3, "aria-label": "Prompt", placeholder: "One prompt for every model…",
    class: "cmp-prompt-box" });
  const go = h("button", { type: "submit", class: "primary" }, "Compare");
  const note = h("p", { class: "muted small cmp-note", "aria-live": "polite" });
  const el = h("form", { class: "cmp-setup panel" },
    h("div", { class: "row" }, h("label", { class: "cmp-inline" }, "Task ", taskPick), add, note), slots,
    h("div", { class: "cmp-ask" }, prompt, go));

  function option(model) {
    const label = `${model.display_name} (${model.id})${model.available ? "" : " — not usable now"}`;
    return h("option", { value: model.id, disabled: !model.available }, label);
  }

  function slot(value) {
    const index = slots.children.length;
    const select = h("select", { "aria-label": `Model ${index + 1}`, class: "cmp-model" }, models.map(option));
    if (value && models.some((m) => m.id === value)) select.value = value;
    const remove = h("button", { type: "button", class: "cmp-remove", "aria-label": `Remove model ${index + 1}`,
      onclick: () => { item.remove(); relabel(); remember(); } }, "×");
    select.addEventListener("change", remember);
    const item = h("li", { class: "cmp-slot" }, select, remove);
    slots.append(item);
    relabel();
  }

  function relabel() {
    [...slots.children].forEach((item, i) => {
      item.querySelector("select").setAttribute("aria-label", `Model ${i + 1}`);
      item.querySelector("button").setAttribute("aria-label", `Remove model ${i + 1}`);
    });
    const count = slots.children.length;
    add.disabled = count >= MAX_MODELS;
    slots.querySelectorAll(".cmp-remove").forEach((b) => { b.disabled = count <= MIN_MODELS; });
    note.textContent = `${count} models (${MIN_MODELS} to ${MAX_MODELS})`;
  }

  function chosen() {
    return [...slots.querySelectorAll("select")].map((s) => s.value).filter(Boolean);
  }

  function remember() {
    localStorage.setItem(KEY(task), JSON.stringify(chosen()));
  }

  async function load(nextTask) {
    task = nextTask;
    taskPick.value = task;
    models = await modelsFor(task);
    slots.replaceChildren();
    let saved = [];
    try { saved = JSON.parse(localStorage.getItem(KEY(task)) || "[]"); } catch { /* ignore */ }
    const usable = models.filter((m) => m.available).map((m) => m.id);
    const start = saved.length >= MIN_MODELS ? saved : usable.slice(0, MIN_MODELS);
    for (const id of start.slice(0, MAX_MODELS)) slot(id);
    while (slots.children.length < MIN_MODELS) slot(usable[slots.children.length]);
  }

  add.addEventListener("click", () => {
    const used = new Set(chosen());
    slot(models.find((m) => m.available && !used.has(m.id))?.id);
    remember();
  });
  taskPick.addEventListener("change", () => load(taskPick.value));
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); el.requestSubmit(); }
  });
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text) { prompt.focus(); return; }
    onSubmit({ task, models: chosen(), prompt: text });
  });

  return {
    el,
    load,
    setBusy(busy) { go.disabled = busy; go.textContent = busy ? "Comparing…" : "Compare"; },
    clearPrompt() { prompt.value = ""; },
  };
}
