// The conversation list: pages of the server's list (more load as the end scrolls into view),
// search on the server, rename and delete in place. Stays small with thousands of conversations:
// only the pages scrolled to are fetched and drawn.
import { api } from "../../api.js";
import { h, toast } from "../../ui.js";

const PAGE = 40;
const SEARCH_DELAY_MS = 250;

export function when(iso) {
  const then = new Date(iso);
  const seconds = (Date.now() - then.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (seconds < 60) return "just now";
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), "minute");
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), "hour");
  if (seconds < 7 * 86400) return rtf.format(-Math.round(seconds / 86400), "day");
  return then.toLocaleDateString();
}

export function conversationList({ onOpen, onDeleted, onRenamed }) {
  let query = "";
  let loaded = 0;
  let total = 0;
  let selected = null;
  let loading = null; // AbortController of the page being fetched
  let searchTimer = null;
  const items = new Map(); // id -> <li>

  const search = h("input", { type: "search", placeholder: "Search conversations", "aria-label": "Search conversations",
    autocomplete: "off" });
  const status = h("p", { class: "conv-status muted small", "aria-live": "polite" });
  const ul = h("ul", { class: "conv-list", "aria-label": "Conversations" });
  const more = h("button", { type: "button", class: "conv-more", hidden: true }, "Load more");
  const scroller = h("div", { class: "conv-scroll" }, ul, more);
  const el = h("div", { class: "conv-panel" }, h("div", { class: "conv-search" }, search), status, scroller);

  function itemEl(conv) {
    const title = conv.title || "Untitled";
    const link = h("a", { class: "conv-link", href: `#/chat/${encodeURIComponent(conv.id)}` },
      h("span", { class: "conv-title" }, title), h("span", { class: "conv-when" }, when(conv.updated_at)));
    link.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      onOpen(conv.id);
    });
    const renameButton = h("button", { type: "button", class: "icon", "aria-label": `Rename “${title}”`,
      title: "Rename" }, "✎");
    const deleteButton = h("button", { type: "button", class: "icon", "aria-label": `Delete “${title}”`,
      title: "Delete" }, "✕");
    const li = h("li", { class: "conv-item", dataset: { id: conv.id } }, link,
      h("span", { class: "conv-actions" }, renameButton, deleteButton));
    li.conv = conv;
    renameButton.addEventListener("click", () => startRename(li));
    deleteButton.addEventListener("click", () => confirmDelete(li));
    if (conv.id === selected) link.setAttribute("aria-current", "page");
    return li;
  }

  function startRename(li) {
    const input = h("input", { type: "text", class: "conv-rename", value: li.conv.title, maxlength: "200",
      "aria-label": "New title" });
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (save && title && title !== li.conv.title) {
        try {
          const url = `/api/conversations/${encodeURIComponent(li.conv.id)}`;
          const conv = await api(url, { method: "PATCH", body: { title } });
          upsert(conv, false);
          items.get(conv.id).querySelector(".conv-link").focus();
          onRenamed(conv);
          return;
        } catch (err) {
          toast(`Could not rename: ${err.message}`, "error");
        }
      }
      const fresh = itemEl(li.conv);
      li.replaceWith(fresh);
      items.set(li.conv.id, fresh);
      fresh.querySelector(".conv-link").focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
    li.replaceChildren(input);
    input.focus();
    input.select();
  }

  function confirmDelete(li) {
    const yes = h("button", { type: "button", class: "danger" }, "Delete");
    const no = h("button", { type: "button" }, "Cancel");
    const box = h("div", { class: "conv-confirm", role: "group", "aria-label": "Confirm delete" },
      h("span", { class: "small" }, `Delete “${li.conv.title || "Untitled"}”?`), h("span", { class: "row" }, yes, no));
    no.addEventListener("click", () => {
      const fresh = itemEl(li.conv);
      li.replaceWith(fresh);
      items.set(li.conv.id, fresh);
      fresh.querySelector(".conv-link").focus();
    });
    yes.addEventListener("click", async () => {
      try {
        await api(`/api/conversations/${encodeURIComponent(li.conv.id)}`, { method: "DELETE" });
      } catch (err) {
        if (err.status !== 404) { toast(`Could not delete: ${err.message}`, "error"); return; }
      }
      remove(li.conv.id);
      onDeleted(li.conv.id);
    });
    li.replaceChildren(box);
    no.focus();
  }

  function describe() {
    if (!total && !query) status.textContent = "No conversations yet.";
    else if (!total) status.textContent = `Nothing found for “${query}”.`;
    else status.textContent = `${total.toLocaleString()} conversation${total === 1 ? "" : "s"}${query ? " found" : ""}`;
    more.hidden = loaded >= total;
  }

  async function loadPage(reset) {
    if (loading && !reset) return;
    if (loading) loading.abort();
    const controller = new AbortController();
    loading = controller;
    const offset = reset ? 0 : loaded;
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (query) params.set("q", query);
    try {
      const page = await api(`/api/conversations?${params}`, { signal: controller.signal });
      if (reset) { ul.replaceChildren(); items.clear(); loaded = 0; }
      for (const conv of page.data) {
        if (items.has(conv.id)) continue; // a conversation moved up since the page before was read
        const li = itemEl(conv);
        items.set(conv.id, li);
        ul.append(li);
      }
      loaded = offset + page.data.length;
      total = page.count;
      describe();
      // A tall list may still show its end: keep filling it (the observer only reports changes).
      if (nearEnd()) requestAnimationFrame(() => loadPage(false));
    } catch (err) {
      if (err.name !== "AbortError") status.textContent = `Could not load conversations: ${err.message}`;
    } finally {
      if (loading === controller) loading = null;
    }
  }

  function nearEnd() {
    if (more.hidden || !el.isConnected) return false;
    return more.getBoundingClientRect().top < scroller.getBoundingClientRect().bottom + 200;
  }

  // Moves a conversation to the top (it was just written to) or updates it where it is.
  function upsert(conv, toTop = true) {
    const old = items.get(conv.id);
    const li = itemEl(conv);
    items.set(conv.id, li);
    if (old && !toTop) { old.replaceWith(li); return; }
    if (old) old.remove();
    else if (query) return; // not known to match the search
    else { total += 1; loaded += 1; }
    ul.prepend(li);
    describe();
  }

  function remove(id) {
    const li = items.get(id);
    if (!li) return;
    li.remove();
    items.delete(id);
    total = Math.max(0, total - 1);
    loaded = Math.max(0, loaded - 1);
    describe();
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { query = search.value.trim(); loadPage(true); }, SEARCH_DELAY_MS);
  });
  more.addEventListener("click", () => loadPage(false));
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !more.hidden) loadPage(false);
  }, { root: scroller, rootMargin: "200px" });
  observer.observe(more);

  return {
    el,
    reload: () => loadPage(true),
    upsert,
    remove,
    first: () => ul.firstElementChild?.conv || null,
    select(id) {
      selected = id;
      for (const [key, li] of items) {
        const link = li.querySelector(".conv-link");
        if (link) link.toggleAttribute("aria-current", key === id);
        if (link && key === id) link.setAttribute("aria-current", "page");
      }
    },
    destroy() { observer.disconnect(); clearTimeout(searchTimer); if (loading) loading.abort(); },
  };
}
