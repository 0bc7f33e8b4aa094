// Past comparisons, newest first: each link reopens one at #/compare/<id>.
import { api } from "../../api.js";
import { h } from "../../ui.js";

export function comparisonList() {
  const items = h("ul", { class: "cmp-list" });
  const el = h("aside", { class: "cmp-side", "aria-label": "Past comparisons" },
    h("h2", {}, "Past comparisons"), items);

  async function refresh(currentId) {
    const { data } = await api("/api/comparisons?limit=50");
    items.replaceChildren(...data.map((c) => h("li", {},
      h("a", { href: `#/compare/${encodeURIComponent(c.id)}`, class: "cmp-link",
        "aria-current": c.id === currentId ? "page" : null },
      h("span", { class: "cmp-link-title" }, c.title || "Untitled"),
      h("span", { class: "muted small" }, `${c.task} · ${c.models.length} models`)))));
    if (!data.length) items.append(h("li", { class: "muted small" }, "None yet."));
  }

  return { el, refresh };
}
