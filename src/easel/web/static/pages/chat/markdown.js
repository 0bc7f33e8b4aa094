// Model-written Markdown, rendered safely: marked parses, DOMPurify keeps an allow-list, highlight.js
// colours code. Model output is untrusted: raw HTML in it is shown as text, images become plain
// links (nothing is fetched), links keep only http(s) and mailto targets and open in a new tab.
import { Marked } from "../../vendor/marked/marked.esm.js";
import DOMPurify from "../../vendor/dompurify/purify.es.js";
import hljs from "../../vendor/highlight/highlight.min.js";
import { h } from "../../ui.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

const PURIFY = {
  ALLOWED_TAGS: ["a", "p", "br", "hr", "strong", "b", "em", "i", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "input",
    "sup", "sub", "kbd"],
  ALLOWED_ATTR: ["href", "title", "class", "start", "align", "type", "checked", "disabled"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
};
const CODE_CLASS = /^language-[\w+#.-]{1,30}$/;
const AUTO_DETECT_LIMIT = 20000;

function tidy(fragment) {
  for (const el of fragment.querySelectorAll("[class]")) {
    const keep = el.tagName === "CODE" && CODE_CLASS.test(el.className);
    if (!keep) el.removeAttribute("class");
  }
  for (const a of fragment.querySelectorAll("a")) {
    if (!a.hasAttribute("href")) continue;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
  }
  for (const input of fragment.querySelectorAll("input")) {
    if (input.type !== "checkbox") input.remove();
    else input.disabled = true;
  }
}

function highlight(code, final) {
  const lang = (code.className.match(CODE_CLASS) || [""])[0].slice("language-".length);
  const text = code.textContent;
  let result = null;
  if (lang && hljs.getLanguage(lang)) result = hljs.highlight(text, { language: lang, ignoreIllegals: true });
  else if (final && text.length < AUTO_DETECT_LIMIT) result = hljs.highlightAuto(text);
  // highlight.js escapes every character of the text it is given; its output is markup we trust.
  if (result) code.innerHTML = result.value;
  code.classList.add("hljs");
  return result ? result.language || lang : lang;
}

function decorate(pre, language) {
  const code = pre.querySelector("code");
  const copy = h("button", { type: "button", class: "code-copy", "aria-label": "Copy code" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code ? code.textContent : pre.textContent);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed";
    }
  });
  const box = h("div", { class: "code-block" },
    h("div", { class: "code-head" }, h("span", {}, language || "code"), copy));
  pre.replaceWith(box);
  box.append(pre);
}

// Fills `target` with `markdown` rendered. `final` false (while streaming) skips the costly
// language guess and the copy buttons.
export function renderMarkdown(target, markdown, { final = true } = {}) {
  const html = marked.parse(String(markdown ?? ""), { async: false });
  const fragment = DOMPurify.sanitize(html, PURIFY);
  tidy(fragment);
  for (const pre of fragment.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const language = code ? highlight(code, final) : "";
    if (final) decorate(pre, language);
  }
  target.replaceChildren(fragment);
}
