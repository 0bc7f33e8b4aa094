// The gallery grid: pages of image assets (limit/offset, the next page loads when the end of the
// grid scrolls into view), 256px thumbnails loaded lazily, prompt and settings on hover or focus,
// quick actions per picture, search by prompt, and an empty state. Full images never load here.
import { api } from "../../api.js";
import { empty, h } from "../../ui.js";
import { confirmDelete, dims, downloadName, isAbort, isUpscale, settingsLine } from "./util.js";

const PAGE = 48;

export function createGallery({ onOpen, onUpscale, onReuse, onDelete }) {
  const grid = h("ul", { class: "gallery-grid", "aria-label": "Images" });
  const count = h("span", { class: "muted small gallery-count" });
  const search = h("input", { type: "search", class: "gallery-search", placeholder: "Search prompts", "aria-label": "Search images by prompt" });
  const more = h("button", { type: "button", class: "load-more", hidden: true }, "Load more images");
  const sentinel = h("div", { class: "gallery-sentinel", "aria-hidden": "true" });
  const status = h("div", { class: "gallery-status" });
  const element = h("section", { class: "gallery", "aria-labelledby": "gallery-title" },
    h("div", { class: "gallery-head" }, h("h2", { id: "gallery-title" }, "Gallery"), count, h("span", { class: "grow" }), search),
    grid, status, sentinel, more);

  const assets = new Map(); // id -> asset, in display order
  let offset = 0;
  let total = 0;
  let done = false;
  let loading = null;
  let query = "";
  let aborter = new AbortController();

  function tile(asset) {
    const prompt = asset.prompt || asset.filename || "Untitled image";
    const open = h("button", { type: "button", class: "tile-open", "aria-label": `Open image: ${prompt.slice(0, 120)}` },
      h("img", { src: `/api/assets/${encodeURIComponent(asset.id)}/thumbnail`, alt: prompt.slice(0, 200), loading: "lazy",
        decoding: "async", width: 256, height: 256 }));
    open.addEventListener("click", () => onOpen(asset));
    const actions = h("div", { class: "tile-actions" },
      h("a", { class: "button small-button", href: `/api/assets/${encodeURIComponent(asset.id)}/content`, download: downloadName(asset) }, "Download"),
      h("button", { type: "button", class: "small-button", onclick: () => onUpscale(asset) }, "Upscale"),
      asset.prompt ? h("button", { type: "button", class: "small-button", onclick: () => onReuse(asset) }, "Reuse") : null,
      confirmDelete(h("button", { type: "button", class: "small-button danger" }, "Delete"), () => onDelete(asset)));
    return h("li", { class: "tile", dataset: { assetId: asset.id } }, open,
      isUpscale(asset) ? h("span", { class: "tile-badge" }, `${asset.settings.scale}× · ${dims(asset)}`) : null,
      h("div", { class: "tile-info" },
        h("p", { class: "tile-prompt" }, prompt),
        h("p", { class: "tile-meta" }, settingsLine(asset)),
        actions));
  }

  function updateCount() {
    count.textContent = total ? `${total.toLocaleString()} image${total === 1 ? "" : "s"}` : "";
    more.hidden = done;
    if (assets.size) status.replaceChildren();
    else if (done) status.replaceChildren(empty(query ? `No images match “${query}”.`
      : "No images yet. Describe a picture in the form and press Generate; it lands here."));
  }

  async function loadMore() {
    if (loading || done) return loading;
    const signal = aborter.signal;
    let failed = false;
    status.replaceChildren(...(assets.size ? [] : [h("p", { class: "muted small gallery-loading" }, "Loading images…")]));
    const params = new URLSearchParams({ kind: "image", limit: PAGE, offset });
    if (query) params.set("q", query);
    const request = api(`/api/assets?${params}`, { signal }).then((page) => {
      if (signal.aborted) return;
      total = page.count;
      offset += page.data.length;
      for (const asset of page.data) {
        if (assets.has(asset.id)) continue;
        assets.set(asset.id, asset);
        grid.append(tile(asset));
      }
      done = page.data.length < PAGE || offset >= total;
      updateCount();
    }).catch((err) => {
      if (isAbort(err)) return;
      failed = true;
      status.replaceChildren(h("p", { class: "error-text", role: "alert" }, `Could not load images: ${err.message || err}`));
      more.hidden = false;
    }).finally(() => {
      if (loading === request) loading = null;
      // the sentinel may still be in view after a short page: observe again to get a fresh callback
      if (!done && !failed && !signal.aborted) { observer.unobserve(sentinel); observer.observe(sentinel); }
    });
    loading = request;
    return request;
  }

  function reset() {
    aborter.abort();
    aborter = new AbortController();
    assets.clear();
    grid.replaceChildren();
    offset = 0;
    total = 0;
    done = false;
    loading = null;
    return loadMore();
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: "800px 0px" });
  observer.observe(sentinel);
  more.addEventListener("click", () => loadMore());
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { query = search.value.trim(); reset(); }, 300);
  });

  // New pictures go first; they shift the server's pages by one each, so the offset follows.
  function prepend(list) {
    for (const asset of [...list].reverse()) {
      if (assets.has(asset.id) || (query && !(asset.prompt || "").toLowerCase().includes(query.toLowerCase()))) continue;
      const rest = [...assets.entries()];
      assets.clear();
      assets.set(asset.id, asset);
      for (const [id, a] of rest) assets.set(id, a);
      grid.prepend(tile(asset));
      offset += 1;
      total += 1;
    }
    updateCount();
  }

  function remove(id) {
    if (!assets.has(id)) return;
    assets.delete(id);
    const el = grid.querySelector(`[data-asset-id="${CSS.escape(id)}"]`);
    if (el) el.remove();
    offset = Math.max(0, offset - 1);
    total = Math.max(0, total - 1);
    updateCount();
  }

  function destroy() {
    aborter.abort();
    observer.disconnect();
    clearTimeout(searchTimer);
  }

  return { element, load: loadMore, prepend, remove, items: () => [...assets.values()], destroy };
}
