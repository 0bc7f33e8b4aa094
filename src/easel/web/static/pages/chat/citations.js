// Live web in the chat: the composer's Web toggle (off / auto / on, remembered), the choice of who
// searches (easel or the provider's own search, for models that have one), and an answer's
// sources: numbered links (title, host) with the quoted passage on hover and on expand, and the
// answer's [n] markers turned into links to their sources. Once the answer is complete each
// source says whether it was `cited`: the cited ones come first, the others under "Also read".
import { h } from "../../ui.js";

const WEB_KEY = "easel.chat.web";
const BACKEND_KEY = "easel.chat.web.backend";
const MODES = [["off", "Off"], ["auto", "Auto"], ["on", "On"]];
const MARKER = /\[(\d{1,2})\]/g;
const HAS_MARKER = /\[\d{1,2}\]/; // not MARKER: a /g regex's test() keeps state between calls

// A row of pressed-or-not buttons, one of `choices` ([value, label]) on, remembered under `key`.
function rememberedChoice({ key, choices, fallback, name, label, title, onChange = () => {} }) {
  const saved = localStorage.getItem(key);
  let current = choices.some(([value]) => value === saved) ? saved : fallback;
  const buttons = choices.map(([value, text]) => {
    const button = h("button", { type: "button", class: "web-mode", dataset: { mode: value },
      "aria-pressed": String(value === current) }, text);
    button.addEventListener("click", () => set(value));
    return button;
  });
  const el = h("div", { class: "web-toggle", role: "group", "aria-label": name, title },
    h("span", { class: "web-toggle-label small muted" }, label), ...buttons);

  function set(value) {
    current = value;
    localStorage.setItem(key, value);
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.mode === value));
    onChange(value);
  }
  return { el, buttons, value: () => current, set };
}

export function webToggle({ onChange } = {}) {
  const { el, value, set } = rememberedChoice({ key: WEB_KEY, choices: MODES, fallback: "off", name: "Web search",
    label: "Web", title: "Web: search the live web and cite sources (Auto: when the question needs it)", onChange });
  return { el, value, set, label: () => `Web ${value()}` };
}

// "Search with: easel | <Provider>'s own search" (remembered): shown only while the Web toggle is
// On or Auto and the model's catalog record says its provider can search server-side.
export function searchWithChoice() {
  const choice = rememberedChoice({ key: BACKEND_KEY, choices: [["easel", "easel"], ["native", "Provider's own search"]],
    fallback: "easel", name: "Search with", label: "Search with",
    title: "Who searches the web: easel (its own search, pages read and cited), or the provider's own search tool" });
  const own = choice.buttons[1];
  let shown = false;
  choice.el.classList.add("search-with");
  choice.el.hidden = true;
  return {
    el: choice.el,
    // The model shown in the picker (undefined: the studio's default) and the Web toggle's mode.
    show(model, mode) {
      shown = Boolean(model?.native_web_search) && mode !== "off";
      choice.el.hidden = !shown;
      if (model) own.textContent = `${model.provider_name || model.provider}'s own search`;
    },
    // What a turn sends: `web_search_backend` only when the choice is on screen and set to the provider's.
    value: () => (shown && choice.value() === "native" ? "native" : null),
    label: () => (shown && choice.value() === "native" ? own.textContent : ""), // easel's own search goes unsaid
  };
}

const hostOf = (url) => { try { return new URL(url).hostname; } catch { return url; } };

// Only http(s) links are drawn as links: a source URL is data from the web.
const safeHref = (url) => (/^https?:\/\//i.test(url) ? url : undefined);

function sourceItem(c) {
  const link = h("a", { href: safeHref(c.url), target: "_blank", rel: "noopener noreferrer nofollow",
    title: c.quote || c.url, class: "source-link" }, c.title || c.url);
  const quote = c.quote ? h("details", { class: "source-quote" }, h("summary", { class: "small muted" }, "Quote"),
    h("blockquote", {}, c.quote)) : null;
  return h("li", { class: "source", dataset: { index: String(c.index) } },
    h("span", { class: "source-index" }, `[${c.index}]`), " ", link, " ",
    h("span", { class: "source-host small muted" }, hostOf(c.url)), quote);
}

export function sourcesList(citations) {
  if (!citations?.length) return null;
  // `cited` is absent while the answer streams (and on answers stored before it existed): all are sources then
  const cited = citations.filter((c) => c.cited !== false);
  const alsoRead = citations.filter((c) => c.cited === false);
  const group = (title, items, cls) => (items.length ? [h("h3", { class: `sources-title small muted ${cls}` }, title),
    h("ol", { class: `sources-list ${cls}` }, items.map(sourceItem))] : []);
  return h("section", { class: "sources", "aria-label": "Sources" },
    ...group("Sources", cited, "sources-cited"), ...group("Also read", alsoRead, "sources-also-read"));
}

// Replaces "[n]" in the rendered answer's text (never inside code or links) with a link to source n.
export function linkMarkers(root, citations) {
  if (!citations?.length) return;
  const byIndex = new Map(citations.map((c) => [String(c.index), c]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest("code, pre, a") || !HAS_MARKER.test(node.data)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = [];
    let last = 0;
    for (const match of node.data.matchAll(MARKER)) {
      const source = byIndex.get(match[1]);
      if (!source) continue;
      parts.push(node.data.slice(last, match.index));
      parts.push(h("a", { class: "cite", href: safeHref(source.url), target: "_blank",
        rel: "noopener noreferrer nofollow", title: `${source.title} — ${source.quote || source.url}` }, match[0]));
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    parts.push(node.data.slice(last));
    node.replaceWith(...parts);
  }
}
