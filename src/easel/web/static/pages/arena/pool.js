// The Arena's pool picker: models chosen by typing (with suggestions of the usable ones) shown
// as removable chips; an empty pool means "every usable model of the task".
import { api } from "../../api.js";
import { h } from "../../ui.js";

export function poolPicker() {
  const chosen = [];
  const list = h("datalist", { id: "arena-pool-options" });
  const input = h("input", { id: "arena-pool-input", list: "arena-pool-options", autocomplete: "off",
    placeholder: "model id, e.g. local:smollm2-135m" });
  const chips = h("ul", { class: "arena-chips", "aria-label": "Models in the pool" });
  const hint = h("p", { class: "muted small arena-pool-hint" }, "Empty: every usable model can be drawn.");

  function render() {
    chips.replaceChildren(...chosen.map((id) => h("li", { class: "arena-chip" }, id,
      h("button", { type: "button", "aria-label": `Remove ${id}`, onclick: () => { chosen.splice(chosen.indexOf(id), 1); render(); } }, "×"))));
    hint.hidden = chosen.length > 0;
  }
  function add() {
    const id = input.value.trim();
    if (id && !chosen.includes(id)) chosen.push(id);
    input.value = "";
    render();
  }
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); add(); } });
  const addButton = h("button", { type: "button", id: "arena-pool-add", onclick: add }, "Add");

  async function load(task) {
    try {
      const models = await api(`/api/models?task=${task}&available=true`);
      const data = Array.isArray(models) ? models : models.data || [];
      list.replaceChildren(...data.map((m) => h("option", { value: m.id })));
    } catch { list.replaceChildren(); }
  }

  const el = h("div", { class: "arena-pool" },
    h("label", { for: "arena-pool-input" }, "Pool"),
    h("div", { class: "arena-pool-row" }, input, addButton), list, chips, hint);
  return { el, load, models: () => [...chosen] };
}
