// One step of a run as a list item: title, kind, model and status chip; per-item progress for a
// for_each step; its output (text as Markdown, JSON as code, images as thumbnails that open full
// size, a markdown step's stored document as a .md download); its error with a Retry button and an
// optional model to retry with.
import { h, money } from "../../ui.js";
import { renderMarkdown } from "../chat/markdown.js";
import { chip, modelSelect, took } from "./util.js";

const DONE_ITEMS = new Set(["succeeded", "failed", "canceled", "skipped"]);

function imageButton(id, label, onOpenImage, { inline = false } = {}) {
  const button = h("button", { type: "button", class: inline ? "wf-inline-image" : "wf-thumb", "aria-label": `Open ${label} full size` },
    h("img", { src: `/api/assets/${encodeURIComponent(id)}/${inline ? "content" : "thumbnail"}`, alt: label, loading: "lazy" }));
  button.addEventListener("click", () => onOpenImage(id));
  return button;
}

// A markdown step stores what it wrote as a document asset: a link that downloads it (the server
// names the file, e.g. article-<run>.md).
export function documentLink(id, label = "Download .md") {
  return h("a", { class: "button wf-document", href: `/api/assets/${encodeURIComponent(id)}/content`, download: "" }, label);
}

// The images among a step's or run's assets: documents have no thumbnail to show.
export function imagesOnly(ids, documents) {
  const skip = new Set(documents || []);
  return (ids || []).filter((id) => !skip.has(id));
}

export function thumbnails(ids, onOpenImage, label = "Image") {
  if (!ids || !ids.length) return null;
  return h("ul", { class: "wf-thumbs", "aria-label": "Images" },
    ids.map((id, i) => h("li", {}, imageButton(id, `${label.toLowerCase()} ${i + 1}`, onOpenImage))));
}

// Workflow Markdown embeds its own pictures as ![alt](/api/assets/<id>/content). The shared renderer
// turns images into links to outside addresses only, so these are swapped for tokens before it runs
// and for the pictures (buttons that open them full size) after.
const ASSET_IMAGE = /!\[([^\]]*)\]\(\/api\/assets\/([\w-]+)\/content\)/g;
const TOKEN = /(WFASSET\d+WF)/;

export function markdownBlock(text, onOpenImage, extraClass = "") {
  const box = h("div", { class: `md wf-md ${extraClass}`.trim() });
  const images = [];
  const source = String(text ?? "").replace(ASSET_IMAGE, (_, alt, id) => `WFASSET${images.push([id, alt || "Image"]) - 1}WF`);
  renderMarkdown(box, source);
  if (!images.length) return box;
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const hits = [];
  while (walker.nextNode()) if (TOKEN.test(walker.currentNode.data)) hits.push(walker.currentNode);
  for (const node of hits) {
    node.replaceWith(...node.data.split(TOKEN).map((part) => {
      const match = part.match(/^WFASSET(\d+)WF$/);
      if (!match || !images[Number(match[1])]) return part;
      const [id, alt] = images[Number(match[1])];
      return imageButton(id, alt, onOpenImage, { inline: true });
    }));
  }
  return box;
}

// What a step made. Parsed JSON (a chat step's `output: list` or `json`) is shown as a list or as
// code with the model's own words a click away; Markdown that is the run's result is not shown twice.
function output(out, onOpenImage, finalMarkdown) {
  if (!out) return [];
  const parts = [];
  const hasJson = out.json !== undefined && out.json !== null;
  if (out.markdown && out.markdown === finalMarkdown) {
    parts.push(h("p", { class: "small muted" }, "Its Markdown is the run's result, shown below."));
  } else if (out.markdown) {
    parts.push(markdownBlock(out.markdown, onOpenImage));
  } else if (hasJson) {
    parts.push(Array.isArray(out.json)
      ? h("ol", { class: "wf-json-list" }, out.json.map((x) => h("li", {}, typeof x === "string" ? x : JSON.stringify(x))))
      : h("pre", { class: "wf-code wf-json", tabindex: "0" }, h("code", {}, JSON.stringify(out.json, null, 2))));
    if (out.text) parts.push(h("details", { class: "wf-prompt" }, h("summary", {}, "The model's answer"), h("p", { class: "small" }, out.text)));
  } else if (out.text) {
    parts.push(markdownBlock(out.text, onOpenImage));
  }
  if (out.document && out.markdown !== finalMarkdown) parts.push(h("p", { class: "row" }, documentLink(out.document)));
  const images = thumbnails(imagesOnly(out.assets, [out.document]), onOpenImage);
  if (images) parts.push(images);
  return parts;
}

function items(step, onOpenImage) {
  const list = step.items || [];
  if (!list.length) return null;
  const finished = list.filter((item) => DONE_ITEMS.has(item.status)).length;
  const pct = Math.round((finished / list.length) * 100);
  return h("div", { class: "wf-items" },
    h("div", { class: "wf-items-head small" },
      h("span", {}, `${finished} of ${list.length} items`),
      h("div", { class: "progress", role: "progressbar", "aria-label": `${step.title || step.id}: items done`,
        "aria-valuemin": 0, "aria-valuemax": list.length, "aria-valuenow": finished, "aria-valuetext": `${finished} of ${list.length}` },
      h("div", { style: `width:${pct}%` }))),
    h("ol", { class: "wf-item-list" }, list.map((item) => h("li", { class: "wf-item", dataset: { status: item.status } },
      h("div", { class: "wf-item-head small" }, h("span", {}, `Item ${item.index + 1}`), chip(item.status),
        item.model ? h("span", { class: "muted" }, item.model) : null),
      item.error ? h("p", { class: "error-text small" }, item.error) : null,
      output(item.output, onOpenImage, null)))));
}

// A for_each step's own output gathers its items' outputs, which are shown item by item already.
export function stepView(step, position, { onRetry, onOpenImage, canRetry, finalMarkdown }) {
  const meta = [step.kind, step.model, step.attempts > 1 ? `attempt ${step.attempts}` : "", took(step) && `took ${took(step)}`,
    step.cost !== null && step.cost !== undefined ? money(step.cost) : ""].filter(Boolean).join(" · ");
  let retry = null;
  if (step.status === "failed" && canRetry) {
    const select = modelSelect(step, { id: `wf-retry-model-${step.id}` });
    const button = h("button", { type: "button", class: "primary wf-retry" }, "Retry");
    button.addEventListener("click", async () => {
      button.disabled = true;
      button.textContent = "Retrying…";
      try { await onRetry(step, select.value || null); } finally { button.disabled = false; button.textContent = "Retry"; }
    });
    retry = h("div", { class: "wf-retry-row", role: "group", "aria-label": `Retry ${step.title || step.id}` },
      h("label", { for: select.id }, "Retry with"), select, button);
  }
  return h("li", { class: "wf-step", dataset: { stepId: step.id, status: step.status } },
    h("div", { class: "wf-step-marker", "aria-hidden": "true" }, String(position)),
    h("div", { class: "wf-step-body" },
      h("div", { class: "wf-step-head" },
        h("h3", {}, step.title || step.id), chip(step.status)),
      h("p", { class: "small muted wf-step-meta" }, meta),
      step.status === "running" && !(step.items || []).length ? h("div", { class: "progress wf-busy", role: "progressbar", "aria-label": `${step.title || step.id} running` }, h("div", {})) : null,
      items(step, onOpenImage),
      step.error ? h("p", { class: "error-text wf-step-error", role: "note" }, step.error) : null,
      retry,
      step.prompt ? h("details", { class: "wf-prompt" }, h("summary", {}, "Prompt"), h("p", { class: "small" }, step.prompt)) : null,
      (step.items || []).length ? null : output(step.output, onOpenImage, finalMarkdown)));
}
