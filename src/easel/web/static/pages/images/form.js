// The "new images" form: prompt and prompt builder, enhance, model picker (ratios and price per
// image), aspect ratio, size, count, seed, more settings, and the generate button.
// It knows nothing of jobs: `onGenerate(body)` gets the POST /api/images body.
import { api } from "../../api.js";
import { h, money, toast } from "../../ui.js";
import { PART_FIELDS, SIZES, composeParts, dimensionsFor, fullPrompt, nearestRatio } from "./util.js";

const MODEL_KEY = "easel.images.model";
const ALL_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"];

function ratioShape(ratio) {
  const [w, hgt] = ratio.split(":").map(Number);
  const scale = 18 / Math.max(w, hgt);
  return h("span", { class: "ratio-shape", style: `width:${Math.round(w * scale)}px;height:${Math.round(hgt * scale)}px`, "aria-hidden": "true" });
}

export function createForm(models, { onGenerate }) {
  const byId = new Map(models.map((m) => [m.id, m]));
  const field = (name, labelText, control, hint) => h("div", { class: `field field-${name}` },
    h("label", { for: `img-${name}` }, labelText), control, hint || null);

  const prompt = h("textarea", { id: "img-prompt", name: "prompt", rows: 3, placeholder: "What should the picture show? A short idea is fine." });
  const partInputs = Object.fromEntries(PART_FIELDS.map(([name, , example]) =>
    [name, h("input", { id: `img-${name}`, name, autocomplete: "off", placeholder: example })]));
  const builder = h("details", { class: "builder", open: window.matchMedia("(min-width: 721px)").matches },
    h("summary", {}, "Prompt builder"),
    h("div", { class: "builder-grid" }, PART_FIELDS.map(([name, labelText]) => field(name, labelText, partInputs[name]))));
  const preview = h("p", { class: "preview small muted", "aria-live": "polite" });
  const enhance = h("button", { type: "button", class: "enhance", title: "A chat model expands your idea and builder fields into a detailed prompt" }, "Enhance prompt");

  const model = h("select", { id: "img-model", name: "model" });
  const groups = [["Ready", models.filter((m) => m.available)], ["Needs setup", models.filter((m) => !m.available)]];
  for (const [label, items] of groups) {
    if (!items.length) continue;
    model.append(h("optgroup", { label }, items.map((m) => h("option", { value: m.id, disabled: !m.available, title: m.id },
      m.available ? `${m.display_name} · ${priceText(m)}` : `${m.display_name} · unavailable: ${m.unavailable_reason}`))));
  }
  const modelInfo = h("p", { class: "model-info small muted", id: "img-model-info" });
  model.setAttribute("aria-describedby", "img-model-info");

  const ratios = h("div", { class: "ratios", role: "radiogroup", "aria-label": "Aspect ratio" });
  const size = h("select", { id: "img-size", name: "size" }, SIZES.map(([value, label]) => h("option", { value }, label)));
  const sizeField = field("size", "Size", size);
  const count = h("input", { id: "img-n", name: "n", type: "number", min: 1, max: 4, value: 1, inputmode: "numeric" });
  const seed = h("input", { id: "img-seed", name: "seed", type: "number", min: 0, max: 4294967295, placeholder: "random", inputmode: "numeric" });
  const dice = h("button", { type: "button", class: "dice", title: "Pick a random seed", "aria-label": "Pick a random seed" }, "Random");
  const steps = h("input", { id: "img-steps", name: "steps", type: "number", min: 1, max: 150, placeholder: "model default", inputmode: "numeric" });
  const negative = h("textarea", { id: "img-negative", name: "negative_prompt", rows: 2, placeholder: "What to keep out of the picture" });
  const negativeField = field("negative", "Negative prompt", negative);
  const more = h("details", { class: "more" }, h("summary", {}, "More settings"),
    field("steps", "Steps", steps, h("p", { class: "small muted hint" }, "Only for models that take a step count.")), negativeField);
  const error = h("p", { class: "form-error error-text", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary generate" }, "Generate");

  const form = h("form", { class: "img-form panel", "aria-label": "New images", novalidate: true },
    h("h2", {}, "New images"),
    field("prompt", "Prompt", prompt),
    builder, preview,
    h("div", { class: "row enhance-row" }, enhance, h("span", { class: "small muted" }, "via a chat model")),
    field("model", "Model", model), modelInfo,
    h("div", { class: "field" }, h("span", { class: "label", id: "img-ratio-label" }, "Aspect ratio"), ratios),
    h("div", { class: "settings-grid" }, sizeField, field("n", "Count", count),
      h("div", { class: "field field-seed" }, h("label", { for: "img-seed" }, "Seed"), h("div", { class: "seed-row" }, seed, dice))),
    more, error, submit);
  ratios.setAttribute("aria-labelledby", "img-ratio-label");

  const current = () => byId.get(model.value);
  const parts = () => Object.fromEntries(PART_FIELDS.map(([name]) => [name, partInputs[name].value]));

  function renderRatios(keep) {
    const m = current();
    const list = (m && m.media.aspect_ratios.length) ? m.media.aspect_ratios : ALL_RATIOS;
    const chosen = list.includes(keep) ? keep : list[0];
    ratios.replaceChildren(...list.map((r) => h("label", { class: "ratio" },
      h("input", { type: "radio", name: "aspect_ratio", value: r, checked: r === chosen }), ratioShape(r), h("span", {}, r))));
  }

  function ratio() {
    const checked = ratios.querySelector("input:checked");
    return checked ? checked.value : "1:1";
  }

  function onModel() {
    const m = current();
    if (!m) return;
    localStorage.setItem(MODEL_KEY, m.id);
    renderRatios(ratio());
    const max = Math.min(8, m.media.max_images || 8);
    count.max = max;
    if (Number(count.value) > max) count.value = max;
    const custom = m.media.resolutions.includes("custom");
    sizeField.hidden = !custom;
    seed.disabled = dice.disabled = !m.capabilities.seed;
    seed.placeholder = m.capabilities.seed ? "random" : "not supported";
    negativeField.hidden = !m.capabilities.negative_prompt;
    modelInfo.replaceChildren(
      h("span", { class: "model-id" }, m.id), " · ", `${priceText(m)} · up to ${max} per request`,
      h("br"), `Aspect ratios: ${(m.media.aspect_ratios.length ? m.media.aspect_ratios : ["any"]).join(", ")}`,
      m.capabilities.seed ? " · seeds" : "", m.capabilities.negative_prompt ? " · negative prompt" : "");
    updateLabels();
  }

  function updateLabels() {
    const m = current();
    const n = Math.max(1, Number(count.value) || 1);
    const per = m && m.pricing ? m.pricing.per_image : null;
    const cost = per === null || per === undefined ? "" : ` · ${money(per * n)}`;
    submit.textContent = `Generate ${n} image${n === 1 ? "" : "s"}${cost}`;
    const text = fullPrompt(prompt.value, parts());
    preview.replaceChildren(...(composeParts(parts()) ? [h("span", {}, "Sent as: "), h("q", {}, text)] : []));
  }

  function body() {
    const m = current();
    const out = { model: m ? m.id : "", prompt: fullPrompt(prompt.value, parts()), n: Math.max(1, Number(count.value) || 1) };
    const sizeChoice = SIZES.find(([value]) => value === size.value);
    if (!sizeField.hidden && sizeChoice && sizeChoice[2] !== 1) [out.width, out.height] = dimensionsFor(ratio(), sizeChoice[2]);
    else out.aspect_ratio = ratio();
    if (seed.value !== "" && !seed.disabled) out.seed = Number(seed.value);
    if (steps.value !== "") out.steps = Number(steps.value);
    if (negative.value.trim() && !negativeField.hidden) out.negative_prompt = negative.value.trim();
    return out;
  }

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  async function onSubmit(event) {
    event.preventDefault();
    showError("");
    const request = body();
    if (!request.prompt) {
      showError("Write a prompt, or fill in at least the subject.");
      prompt.focus();
      return;
    }
    submit.disabled = true;
    try {
      await onGenerate(request);
    } catch (err) {
      showError(err.message || String(err));
    } finally {
      submit.disabled = false;
    }
  }

  async function onEnhance() {
    const extra = parts();
    const idea = prompt.value.trim() || composeParts(extra);
    if (!idea) {
      showError("Write an idea (or a subject) first; enhance expands it.");
      prompt.focus();
      return;
    }
    showError("");
    enhance.disabled = true;
    enhance.textContent = "Enhancing…";
    form.setAttribute("aria-busy", "true");
    try {
      const payload = { idea };
      const filled = Object.fromEntries(Object.entries(extra).filter(([, v]) => v.trim()));
      if (prompt.value.trim() && Object.keys(filled).length) payload.parts = filled;
      const result = await api("/api/prompts/enhance", { method: "POST", body: payload });
      prompt.value = result.prompt;
      for (const input of Object.values(partInputs)) input.value = ""; // folded into the new prompt
      updateLabels();
      prompt.focus();
      toast(`Prompt expanded by ${result.model}.`);
    } catch (err) {
      showError(`Could not enhance the prompt: ${err.message || err}`);
    } finally {
      enhance.disabled = false;
      enhance.textContent = "Enhance prompt";
      form.removeAttribute("aria-busy");
    }
  }

  // Refill from a stored picture: {model, prompt, parts, aspect_ratio | width+height, n, seed, steps, negative_prompt}.
  function fill(values) {
    const m = byId.get(values.model);
    if (m && m.available) model.value = m.id;
    else if (values.model) toast(`${values.model} is not available now; the other settings were filled in.`, "error");
    onModel();
    prompt.value = values.prompt || "";
    for (const [name] of PART_FIELDS) partInputs[name].value = (values.parts && values.parts[name]) || "";
    if (values.parts && Object.values(values.parts).some(Boolean)) builder.open = true;
    const list = (current() && current().media.aspect_ratios.length) ? current().media.aspect_ratios : ALL_RATIOS;
    let chosen = values.aspect_ratio;
    size.value = "";
    if (!chosen && values.width && values.height) {
      chosen = nearestRatio(values.width, values.height, list);
      const area = (values.width * values.height) / (1024 * 1024);
      size.value = SIZES.reduce((best, s) => (Math.abs(s[2] - area) < Math.abs(best[2] - area) ? s : best))[0];
    }
    renderRatios(chosen);
    count.value = values.n || 1;
    seed.value = values.seed ?? "";
    steps.value = values.steps ?? "";
    negative.value = values.negative_prompt || "";
    if (values.steps || values.negative_prompt) more.open = true;
    showError("");
    updateLabels();
    form.scrollIntoView({ block: "start", behavior: "smooth" });
    prompt.focus({ preventScroll: true });
  }

  // Pick a model by id (links such as #/images?model=... from the Models page); false if it can't be used.
  function choose(id) {
    const m = byId.get(id);
    if (!m || !m.available) return false;
    model.value = m.id;
    onModel();
    return true;
  }

  const remembered = byId.get(localStorage.getItem(MODEL_KEY) || "");
  const fallback = models.find((m) => m.available && m.pricing && m.pricing.per_image === 0) || models.find((m) => m.available);
  model.value = (remembered && remembered.available ? remembered : fallback || models[0] || {}).id || "";
  renderRatios("1:1");
  onModel();

  model.addEventListener("change", onModel);
  count.addEventListener("input", updateLabels);
  prompt.addEventListener("input", updateLabels);
  builder.addEventListener("input", updateLabels);
  dice.addEventListener("click", () => { seed.value = Math.floor(Math.random() * 2 ** 32); });
  enhance.addEventListener("click", onEnhance);
  form.addEventListener("submit", onSubmit);
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  if (!models.some((m) => m.available)) showError("No image model is usable now: see Settings for provider keys.");

  return { element: form, fill, choose };
}

function priceText(m) {
  const per = m.pricing ? m.pricing.per_image : null;
  if (per === null || per === undefined) return "price unknown";
  return per === 0 ? "free" : `${money(per)} per image`;
}
