// The Models page: the catalog browser. One fetch of /api/models; filtering (search, task,
// provider, capability, price, usable now), sorting and paging into cards happen here.
// The filters live in the hash (#/models?task=image&cap=seed) so a view can be linked.
import { api } from "../api.js";
import { h, empty, tokens } from "../ui.js";

const PAGE_SIZE = 48;
const TASKS = { chat: "Chat", image: "Image", upscale: "Upscale", video: "Video" };
const CAPABILITIES = {
  reasoning: "Reasoning", vision: "Vision input", tools: "Tools", web_search: "Web search",
  structured_output: "Structured output", seed: "Seed", negative_prompt: "Negative prompt",
};
const PRICES = [["", "Any price"], ["0", "Free"], ["0.5", "Up to $0.50"], ["2", "Up to $2"], ["10", "Up to $10"]];
const SORTS = { name: "Name", price: "Price, lowest first", context: "Context, largest first", newest: "Newest first" };
// The price a model is compared by, and its unit: what a user pays per typical unit of work.
const HEADLINE = {
  chat: ["input_per_mtok", "M input tokens"], image: ["per_image", "image"],
  upscale: ["per_megapixel", "megapixel"], video: ["per_second", "second"],
};

let stylesheetAdded = false;
function addStylesheet() {
  if (stylesheetAdded) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/static/pages/models.css" }));
  stylesheetAdded = true;
}

function usd(value) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "free";
  // cents always, and up to four significant digits for fractions of a cent ($0.075, $0.0004)
  const text = String(Number(value.toPrecision(4)));
  const decimals = (text.split(".")[1] || "").length;
  return `$${decimals >= 2 ? text : value.toFixed(2)}`;
}

function headlinePrice(model) {
  const [field] = HEADLINE[model.task] || [];
  const value = field ? model.pricing[field] : undefined;
  return value ?? (model.task === "upscale" ? model.pricing.per_image : null) ?? null;
}

function readFilters(params) {
  return {
    q: params.get("q") || "", task: params.get("task") || "", provider: params.get("provider") || "",
    caps: params.getAll("cap").filter((c) => c in CAPABILITIES), max: PRICES.some(([v]) => v && v === params.get("max")) ? params.get("max") : "",
    usable: params.get("usable") === "1", sort: SORTS[params.get("sort")] ? params.get("sort") : "name",
  };
}

function writeFilters(f) {
  const qs = new URLSearchParams();
  for (const key of ["q", "task", "provider", "max"]) if (f[key]) qs.set(key, f[key]);
  f.caps.forEach((c) => qs.append("cap", c));
  if (f.usable) qs.set("usable", "1");
  if (f.sort !== "name") qs.set("sort", f.sort);
  const query = qs.toString();
  history.replaceState(null, "", `#/models${query ? `?${query}` : ""}`);
}

// Does `m` pass every filter but `skip` (so a select can count what picking it would give)?
function matches(m, f, skip = "") {
  if (skip !== "task" && f.task && m.task !== f.task) return false;
  if (skip !== "provider" && f.provider && m.provider !== f.provider) return false;
  if (f.usable && !m.available) return false;
  if (f.caps.some((c) => !m.capabilities[c])) return false;
  if (f.max !== "") {
    const price = headlinePrice(m);
    if (price === null || price > Number(f.max)) return false;
  }
  // every word of the search somewhere in the id, name or aliases: "sonnet claude" works too
  return f.q.toLowerCase().split(/\s+/).every((word) => m._haystack.includes(word));
}

const ascending = (x, y) => (x < y ? -1 : x > y ? 1 : 0);  // Infinity-safe, unlike x - y
const SORTERS = {
  name: (a, b) => a.display_name.localeCompare(b.display_name),
  price: (a, b) => ascending(headlinePrice(a) ?? Infinity, headlinePrice(b) ?? Infinity),
  context: (a, b) => (b.context_window || 0) - (a.context_window || 0),
  newest: (a, b) => (b.release_date || "").localeCompare(a.release_date || ""),
};

function priceFacts(m) {
  const p = m.pricing;
  const facts = [];
  if (m.task === "chat") {
    if (p.input_per_mtok === 0 && !p.output_per_mtok) {
      facts.push(["Price", "free"]);
    } else if (p.input_per_mtok != null || p.output_per_mtok != null) {
      facts.push(["Price", `${usd(p.input_per_mtok)} in · ${usd(p.output_per_mtok)} out per M tokens`]);
    }
    if (p.cached_input_per_mtok != null && p.cached_input_per_mtok !== p.input_per_mtok) {
      facts.push(["Cached input", `${usd(p.cached_input_per_mtok)} per M tokens`]);
    }
  }
  if (p.per_image != null) facts.push(["Price", `${usd(p.per_image)} per image`]);
  if (p.per_megapixel != null) facts.push(["Price", `${usd(p.per_megapixel)} per megapixel`]);
  if (p.per_second != null) facts.push(["Price", `${usd(p.per_second)} per second`]);
  if (!facts.length) facts.push(["Price", "not in the catalog"]);
  return facts;
}

function facts(m) {
  const out = [];
  if (m.context_window) out.push(["Context", `${tokens(m.context_window)} tokens`]);
  if (m.max_output_tokens) out.push(["Max output", `${tokens(m.max_output_tokens)} tokens`]);
  out.push(...priceFacts(m));
  const media = m.media;
  if (media.aspect_ratios.length) out.push(["Aspect ratios", media.aspect_ratios.join(", ")]);
  if (media.resolutions.length) out.push(["Sizes", media.resolutions.join(", ")]);
  if (media.upscale_factors.length) out.push(["Scales", media.upscale_factors.map((x) => `×${x}`).join(", ")]);
  if (media.durations_seconds.length) out.push(["Durations", media.durations_seconds.map((s) => `${s}s`).join(", ")]);
  if (m.release_date) out.push(["Released", m.release_date]);
  if (m.aliases.length) out.push(["Aliases", m.aliases.join(", ")]);
  return out;
}

// The request fields this model takes, named as the API names them.
function parameters(m) {
  const c = m.capabilities;
  const media = m.media;
  const names = {
    chat: ["max_tokens", "temperature", "top_p", "stop", c.seed && "seed", c.tools && "tools",
      c.reasoning && "reasoning_effort", c.vision && "image input", c.structured_output && "response_format",
      c.web_search && "web search"],
    image: ["prompt", media.aspect_ratios.length && "aspect_ratio", media.resolutions.includes("custom") && "width/height",
      media.max_images && `n ≤ ${media.max_images}`, c.seed && "seed", c.negative_prompt && "negative_prompt"],
    upscale: [media.upscale_factors.length && "scale"],
    video: ["prompt", media.durations_seconds.length && "duration", media.aspect_ratios.length && "aspect_ratio",
      c.seed && "seed"],
  }[m.task] || [];
  return names.filter(Boolean);
}

let cardCount = 0;
function card(m) {
  const titleId = `model-card-${++cardCount}`;
  const params = parameters(m);
  const caps = Object.keys(CAPABILITIES).filter((c) => m.capabilities[c]);
  const useIn = { chat: "#/chat", image: "#/images", upscale: "#/images" }[m.task];
  return h("article", { class: "model-card", "aria-labelledby": titleId, tabindex: "-1", dataset: { id: m.id } },
    h("header", {},
      h("h2", { id: titleId }, m.display_name),
      h("code", { class: "model-id" }, m.id)),
    m.available
      ? h("p", { class: "model-status ok" }, "Usable now")
      : h("p", { class: "model-status warn" }, "Not usable: ", m.unavailable_reason || "unavailable"),
    h("p", { class: "model-badges" }, h("span", { class: "badge" }, TASKS[m.task] || m.task),
      caps.map((c) => h("span", { class: "badge" }, CAPABILITIES[c]))),
    h("dl", { class: "model-facts" }, facts(m).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    params.length ? h("p", { class: "model-params small" }, h("span", { class: "muted" }, "Parameters: "),
      params.map((p) => h("code", {}, p))) : null,
    m.description ? h("p", { class: "model-desc small muted" }, m.description) : null,
    h("p", { class: "model-actions" },
      m.available && useIn ? h("a", { class: "button", href: `${useIn}?model=${encodeURIComponent(m.id)}` },
        `Use in ${useIn === "#/chat" ? "Chat" : "Images"}`) : null,
      !m.available && m.unavailable_reason?.startsWith("set ")
        ? h("a", { href: "#/settings" }, "Keys and providers") : null));
}

function select(id, label, options, value) {
  const el = h("select", { id }, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value;
  return [h("label", { for: id }, label), el];
}

export async function mount(root, { params }) {
  addStylesheet();
  const f = readFilters(params);
  let shown = PAGE_SIZE;
  // Everything goes into this element: if the user navigates away while the catalog loads,
  // the router empties `root`, this element is detached, and nothing lands on the next page.
  const view = h("div", { class: "models-page" }, h("h1", {}, "Models"), h("p", { class: "muted" }, "Loading the catalog…"));
  root.append(view);

  let models;
  const names = {};
  try {
    const [catalog, settings] = await Promise.all([api("/api/models"), api("/api/settings").catch(() => null)]);
    models = catalog.data;
    for (const p of settings?.providers || []) names[p.name] = p.display_name;
  } catch (err) {
    view.replaceChildren(h("h1", {}, "Models"), empty(`Could not load the catalog: ${err.message}`));
    return undefined;
  }
  if (!view.isConnected) return undefined;  // the user has moved on
  for (const m of models) {
    m._haystack = [m.id, m.display_name, ...m.aliases].join(" ").toLowerCase();
  }
  const providers = [...new Set(models.map((m) => m.provider))].sort();

  const search = h("input", { id: "models-q", type: "search", placeholder: "Name, id or alias", value: f.q, autocomplete: "off" });
  const [taskLabel, task] = select("models-task", "Task", [["", "All tasks"]], f.task);
  const [providerLabel, provider] = select("models-provider", "Provider", [["", "All providers"]], f.provider);
  const [priceLabel, price] = select("models-price", "Price", PRICES, f.max);
  const [sortLabel, sort] = select("models-sort", "Sort", Object.entries(SORTS), f.sort);
  const capBoxes = Object.entries(CAPABILITIES).map(([key, text]) =>
    h("label", { class: "chip" }, h("input", { type: "checkbox", value: key, checked: f.caps.includes(key) }), text));
  const usable = h("input", { type: "checkbox", id: "models-usable", checked: f.usable });
  const summary = h("p", { class: "models-summary muted small", "aria-live": "polite" });
  const grid = h("div", { class: "model-grid" });
  const more = h("button", { type: "button", class: "models-more" });
  const unit = h("span", { class: "muted small" });

  // On a phone the less used filters fold away behind this button; on wider screens it is hidden.
  const toggle = h("button", { type: "button", class: "f-toggle", "aria-expanded": "false", "aria-controls": "models-extra" });
  const form = h("form", { class: "models-filters panel", role: "search", "aria-label": "Filter models" },
    h("div", { class: "f-search" }, h("label", { for: "models-q" }, "Search"), search),
    h("div", {}, taskLabel, task),
    h("div", {}, providerLabel, provider),
    toggle,
    h("div", { class: "f-extra", id: "models-extra" },
      h("div", {}, priceLabel, price, unit),
      h("div", {}, sortLabel, sort),
      h("fieldset", { class: "f-caps" }, h("legend", {}, "Capabilities"), capBoxes,
        h("label", { class: "chip usable" }, usable, "Usable now only"))));
  form.addEventListener("submit", (event) => event.preventDefault());
  toggle.addEventListener("click", () => {
    const open = form.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });

  // Option labels carry counts of what picking them would show, given the other filters.
  function refreshOptions() {
    const byTask = {};
    const byProvider = {};
    for (const m of models) {
      if (matches(m, f, "task")) byTask[m.task] = (byTask[m.task] || 0) + 1;
      if (matches(m, f, "provider")) byProvider[m.provider] = (byProvider[m.provider] || 0) + 1;
    }
    const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
    task.replaceChildren(h("option", { value: "" }, `All tasks (${total(byTask)})`),
      ...Object.entries(TASKS).map(([v, text]) => h("option", { value: v }, `${text} (${byTask[v] || 0})`)));
    provider.replaceChildren(h("option", { value: "" }, `All providers (${total(byProvider)})`),
      ...providers.map((p) => h("option", { value: p }, `${names[p] || p} (${byProvider[p] || 0})`)));
    task.value = f.task;
    provider.value = f.provider;
    const [, perUnit] = HEADLINE[f.task] || [];
    unit.textContent = perUnit ? `per ${perUnit}` : "chat: per M input tokens";
    const extras = f.caps.length + (f.max !== "") + f.usable + (f.sort !== "name");
    toggle.textContent = extras ? `More filters (${extras})` : "More filters";
  }

  function render() {
    const found = models.filter((m) => matches(m, f)).sort(SORTERS[f.sort]);
    const usableCount = found.filter((m) => m.available).length;
    const page = found.slice(0, shown);
    summary.textContent = found.length
      ? `Showing ${page.length} of ${found.length} models · ${usableCount} usable now`
      : "No model matches";
    grid.replaceChildren(...page.map(card));
    if (!found.length) {
      grid.append(empty("No model matches these filters.",
        h("button", { type: "button", onclick: clearFilters }, "Clear filters")));
    }
    const left = found.length - page.length;
    more.hidden = left <= 0;
    more.textContent = `Show ${Math.min(left, PAGE_SIZE)} more (${left} left)`;
  }

  function update() {
    shown = PAGE_SIZE;
    writeFilters(f);
    refreshOptions();
    render();
  }

  function clearFilters() {
    Object.assign(f, readFilters(new URLSearchParams()));
    search.value = "";
    price.value = "";
    sort.value = "name";
    usable.checked = false;
    capBoxes.forEach((label) => { label.querySelector("input").checked = false; });
    update();
    search.focus();
  }

  search.addEventListener("input", () => { f.q = search.value; update(); });
  task.addEventListener("change", () => { f.task = task.value; update(); });
  provider.addEventListener("change", () => { f.provider = provider.value; update(); });
  price.addEventListener("change", () => { f.max = price.value; update(); });
  sort.addEventListener("change", () => { f.sort = sort.value; update(); });
  usable.addEventListener("change", () => { f.usable = usable.checked; update(); });
  for (const label of capBoxes) {
    const box = label.querySelector("input");
    box.addEventListener("change", () => {
      f.caps = box.checked ? [...f.caps, box.value] : f.caps.filter((c) => c !== box.value);
      update();
    });
  }
  more.addEventListener("click", () => {
    const first = shown;
    shown += PAGE_SIZE;
    render();
    grid.children[first]?.focus();
  });

  view.replaceChildren(h("div", { class: "models-head" }, h("h1", {}, "Models"), summary), form, grid, more);
  refreshOptions();
  render();
  return undefined;
}
