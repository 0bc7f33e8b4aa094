// Images in and reasoning modes on the chat page: the composer's Attach button (file picker, paste
// and drop; each image is uploaded as an asset at once and shown as a removable thumbnail), the
// Think first switch, a user message's pictures in the thread, and the note under an answer that
// says how it was made (easel read an image with OCR for a model that cannot see; two passes).
import { api } from "../../api.js";
import { h, toast } from "../../ui.js";

const ASSET = "asset://";
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
const MAX_IMAGES = 8; // the server's limit per message
const PAPERCLIP = '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" '
  + 'stroke-linecap="round" stroke-linejoin="round"><path d="M21 11.5 12.5 20a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5'
  + 'L10.5 18a2 2 0 0 1-3-3L15 7.5"/></svg>';

const assetUrl = (id, what) => `/api/assets/${encodeURIComponent(id)}/${what}`;

export function attachControl() {
  let pending = []; // {id, name} of uploaded images waiting to be sent
  let uploading = 0;
  const input = h("input", { type: "file", accept: IMAGE_TYPES.join(","), multiple: true, hidden: true,
    "aria-label": "Attach images" });
  const button = h("button", { type: "button", class: "attach-button", title: "Attach images (or paste or drop them)" },
    "Attach image");
  // The same action as a paperclip beside Send, shown instead of `button` on a phone (chat.css).
  const compact = h("button", { type: "button", class: "attach-compact", title: "Attach images (or paste or drop them)" },
    h("span", { class: "attach-icon", "aria-hidden": "true" }), h("span", { class: "visually-hidden" }, "Attach images"));
  compact.firstChild.innerHTML = PAPERCLIP; // a constant: no data goes into it
  const strip = h("div", { class: "attach-strip", "aria-label": "Attached images", hidden: true });
  const el = h("span", { class: "attach" }, button, input);

  function draw() {
    strip.hidden = !pending.length && !uploading;
    strip.replaceChildren(...pending.map((item) => {
      const remove = h("button", { type: "button", class: "attach-remove", "aria-label": `Remove ${item.name}` }, "×");
      remove.addEventListener("click", () => { pending = pending.filter((p) => p !== item); draw(); });
      return h("figure", { class: "attach-thumb", dataset: { asset: item.id } },
        h("img", { src: assetUrl(item.id, "thumbnail"), alt: item.name }), remove);
    }), ...(uploading ? [h("span", { class: "small muted" }, "Uploading…")] : []));
  }

  async function add(files) {
    for (const file of files) {
      if (!IMAGE_TYPES.includes(file.type)) { toast(`${file.name || "That file"} is not an image.`, "error"); continue; }
      if (pending.length + uploading >= MAX_IMAGES) { toast(`At most ${MAX_IMAGES} images in one message.`, "error"); break; }
      uploading += 1;
      draw();
      const form = new FormData();
      form.append("file", file, file.name || "pasted.png");
      try {
        const record = await api("/api/assets", { method: "POST", form });
        pending.push({ id: record.id, name: file.name || "pasted image" });
      } catch (err) {
        toast(`Could not upload ${file.name || "the image"}: ${err.message}`, "error");
      } finally {
        uploading -= 1;
        draw();
      }
    }
  }

  button.addEventListener("click", () => input.click());
  compact.addEventListener("click", () => input.click());
  input.addEventListener("change", () => { add([...input.files]); input.value = ""; });

  // Paste and drop anywhere on `target` (the composer) attach the images they carry.
  function watch(target) {
    target.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
      if (files.length) { event.preventDefault(); add(files); }
    });
    target.addEventListener("dragover", (event) => {
      if ([...(event.dataTransfer?.items || [])].some((i) => i.kind === "file")) {
        event.preventDefault();
        target.classList.add("dropping");
      }
    });
    target.addEventListener("dragleave", () => target.classList.remove("dropping"));
    target.addEventListener("drop", (event) => {
      target.classList.remove("dropping");
      if (!event.dataTransfer?.files?.length) return;
      event.preventDefault();
      add([...event.dataTransfer.files]);
    });
  }

  return {
    el, compact, strip, watch, add,
    count: () => pending.length,
    busy: () => uploading > 0,
    // The message's content: the text alone, or text and image parts (asset:// references).
    content(text) {
      if (!pending.length) return text;
      return [...(text.trim() ? [{ type: "text", text }] : []),
        ...pending.map((p) => ({ type: "image_url", image_url: { url: `${ASSET}${p.id}` } }))];
    },
    clear() { pending = []; draw(); },
  };
}

const THINK_KEY = "easel.chat.thinkFirst";

export function thinkFirstToggle() {
  const box = h("input", { type: "checkbox", class: "think-first-box" });
  box.checked = localStorage.getItem(THINK_KEY) === "1";
  box.addEventListener("change", () => localStorage.setItem(THINK_KEY, box.checked ? "1" : "0"));
  const el = h("label", { class: "think-first small", title: "For models that do not reason on their own: the model "
    + "first writes a plan (shown as reasoning), then answers with the plan in front of it. Two model calls." },
  box, " Think first — two passes: plan, then answer");
  return { el, value: () => box.checked, label: () => (box.checked ? "Think first" : "") };
}

// A user message's pictures (stored as asset:// parts), as thumbnails linking to the full image.
export function userImages(message) {
  const ids = (message.content_parts || [])
    .map((p) => (p.type === "image_url" ? p.image_url?.url || "" : ""))
    .filter((url) => url.startsWith(ASSET)).map((url) => url.slice(ASSET.length));
  if (!ids.length) return null;
  return h("div", { class: "msg-images" }, ids.map((id) => h("a", { href: assetUrl(id, "content"), target: "_blank",
    rel: "noopener" }, h("img", { src: assetUrl(id, "thumbnail"), alt: "Attached image", loading: "lazy" }))));
}

// What easel did to make an answer, said plainly under it.
export function howItWasMade(message, modelName) {
  const notes = [];
  for (const item of message.extras?.attachments_described || []) {
    const read = item.ocr_text ? `: “${item.ocr_text}”` : " (no text found)";
    notes.push(h("p", { class: "made-note small muted" },
      `easel read image ${item.index} with OCR for ${modelName(message.model)}, which cannot see images${read}`));
  }
  if (message.extras?.mode === "think_first") {
    notes.push(h("p", { class: "made-note small muted" }, "Think first: two passes — the reasoning above is the "
      + "model's own plan, written first; the answer was written with it."));
  }
  return notes.length ? h("div", { class: "made-notes" }, notes) : null;
}

// An edited message keeps the pictures it had: the new text with the original image parts.
export function editedContent(text, parts) {
  const images = (parts || []).filter((p) => p.type === "image_url");
  return images.length ? [...(text.trim() ? [{ type: "text", text }] : []), ...images] : text;
}
