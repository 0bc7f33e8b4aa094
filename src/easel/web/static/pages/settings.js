// The Settings page: which providers have credentials (yes or no and the variable to set,
// never a key), the local models (installed, loaded, memory), the data folder and the
// database, and provider plugins that failed to load. Reads GET /api/settings.
import { api } from "../api.js";
import { h, empty } from "../ui.js";

let stylesheetAdded = false;
function addStylesheet() {
  if (stylesheetAdded) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/static/pages/settings.css" }));
  stylesheetAdded = true;
}

function section(title, intro, ...body) {
  const id = `settings-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "panel settings-section", "aria-labelledby": id },
    h("h2", { id }, title), intro ? h("p", { class: "muted small" }, intro) : null, ...body);
}

function table(caption, headers, rows) {
  return h("table", { class: "settings-table" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map((cells) =>
      h("tr", {}, cells.map((cell, i) => h("td", { "data-label": headers[i] }, cell))))));
}

function keyStatus(p) {
  if (p.has_key) return h("span", { class: "badge ok" }, "key set");
  if (!p.needs_key) return h("span", { class: "badge" }, "no key needed");
  return h("span", { class: "settings-missing" }, "No key: set ", h("code", {}, p.credentials_env));
}

function providersSection(data) {
  const providers = [...data.providers].sort((a, b) => a.display_name.localeCompare(b.display_name));
  const ready = providers.filter((p) => p.has_key || !p.needs_key).length;
  const rows = providers.map((p) => [
    h("span", {}, h("strong", {}, p.display_name), " ", h("code", { class: "muted" }, p.name)),
    keyStatus(p),
    p.models_count ? h("a", { href: `#/models?provider=${encodeURIComponent(p.name)}` },
      `${p.usable_count} of ${p.models_count} usable`) : h("span", { class: "muted" }, "no models yet"),
  ]);
  return section("Providers",
    `${ready} of ${providers.length} ready. A key comes from its environment variable or the [keys] table ` +
    `of ${data.config_file}; restart easel after changing one. Keys are never shown.`,
    providers.length ? table("Providers and their credentials", ["Provider", "Key", "Models"], rows)
      : empty("No providers are registered."));
}

function memory(m) {
  if (m.loaded === null) return h("span", { class: "muted" }, "–");
  if (!m.loaded) return h("span", { class: "muted" }, "not loaded");
  return m.memory_mb != null ? `loaded, ${m.memory_mb.toLocaleString()} MB` : "loaded";
}

function localSection(data) {
  const rows = data.local_models.map((m) => [
    h("span", {}, h("strong", {}, m.display_name), h("br"), h("code", { class: "muted" }, m.id)),
    m.task,
    m.installed ? h("span", { class: "badge ok" }, "installed")
      : h("span", { class: "settings-missing" }, m.reason || "not installed"),
    memory(m),
  ]);
  return section("Local models",
    "Models that run on this machine. They load on first use and unload when idle; memory is what loading took.",
    rows.length ? table("Local models", ["Model", "Task", "Installed", "Memory"], rows)
      : empty("No local models in the catalog."));
}

function dataSection(data) {
  const db = data.database;
  const facts = [
    ["Data folder", h("code", {}, data.data_folder)],
    ["Database", db.kind === "sqlite" ? ["SQLite", ...(db.file ? [" at ", h("code", {}, db.file)] : [])] : "PostgreSQL"],
    ["Config file", h("code", {}, data.config_file)],
  ];
  return section("Data", "Conversations, jobs and assets live here.",
    h("dl", { class: "settings-facts" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, ...[v].flat())])));
}

function failuresSection(data) {
  const failures = Object.entries(data.plugin_failures || {});
  if (!failures.length) return null;
  return section("Provider plugins that failed to load", "Their models are missing from the catalog until this is fixed.",
    h("ul", { class: "settings-failures" }, failures.map(([name, why]) =>
      h("li", {}, h("strong", {}, name), ": ", h("span", { class: "error-text" }, why)))));
}

export async function mount(root) {
  addStylesheet();
  const body = h("div", { class: "settings-body" }, h("p", { class: "muted" }, "Loading…"));
  const refresh = h("button", { type: "button" }, "Refresh");
  root.append(h("div", { class: "settings-page" },
    h("div", { class: "settings-head" }, h("h1", {}, "Settings"), refresh), body));

  async function load() {
    refresh.disabled = true;
    try {
      const data = await api("/api/settings");
      const failures = failuresSection(data);
      failures?.classList.add("wide");
      body.replaceChildren(...[failures, providersSection(data),
        h("div", { class: "settings-side" }, localSection(data), dataSection(data))].filter(Boolean));
    } catch (err) {
      body.replaceChildren(empty(`Could not load the settings: ${err.message}`));
    } finally {
      refresh.disabled = false;
    }
  }
  refresh.addEventListener("click", load);
  await load();
  return undefined;
}
