// Pictures in the chat: the picker for a conversation's image model, the progress of a picture
// being drawn during a turn, and drawn pictures inline (a thumbnail that opens the full size, with
// the prompt that made it and the model). The server decides what is a picture request
// (/image <prompt>, "draw ...", a refinement after a picture); this module only shows it.
import { api } from "../../api.js";
import { h } from "../../ui.js";

const assetUrl = (id, part) => `/api/assets/${encodeURIComponent(id)}/${part}`;

// The image models that can draw now, usable ones first: the same list the Images page offers.
export function imageModelPicker({ onChange }) {
  const select = h("select", { class: "image-model", "aria-label": "Image model",
    title: "Draws the pictures asked for in this chat (/image …, “draw …”)" });
  const el = h("label", { class: "image-model-pick small muted" }, "Pictures", select);
  select.append(h("option", { value: "" }, "Default"));
  let wanted = null;

  // null: the studio's default image model (what a new chat gets unless another is picked)
  function set(id) {
    wanted = id || null;
    if (id && ![...select.options].some((o) => o.value === id)) select.append(h("option", { value: id }, id));
    select.value = id || "";
  }

  async function load() {
    const { data } = await api("/api/models?task=image");
    data.sort((a, b) => Number(b.available) - Number(a.available)
      || (a.display_name || a.id).localeCompare(b.display_name || b.id));
    select.replaceChildren(h("option", { value: "" }, "Default"), ...data.map((m) => h("option",
      { value: m.id, disabled: !m.available }, m.available ? m.display_name || m.id : `${m.display_name || m.id} (unavailable)`)));
    set(wanted);
  }

  select.addEventListener("change", () => { wanted = select.value || null; if (wanted) onChange(wanted); });
  // The chosen model's name as the select shows it, for the composer's folded options.
  const label = () => (select.value ? select.selectedOptions[0]?.textContent : "Default pictures");
  return { el, load, set, value: () => wanted, label };
}

function figure(image) {
  const img = h("img", { src: assetUrl(image.asset_id, "thumbnail"), alt: image.prompt, loading: "lazy",
    width: image.width || undefined, height: image.height || undefined });
  return h("figure", { class: "chat-image", dataset: { assetId: image.asset_id } },
    h("a", { href: assetUrl(image.asset_id, "content"), target: "_blank", rel: "noopener",
      title: "Open the full-size image" }, img),
    h("figcaption", { class: "small" },
      h("span", { class: "chat-image-prompt" }, image.prompt), " ",
      h("span", { class: "chat-image-model muted" }, image.model)));
}

// The pictures of a stored answer (its extras.images), or null.
export function gallery(images) {
  if (!images?.length) return null;
  return h("div", { class: "chat-images" }, images.map(figure));
}

// A picture being drawn in a live turn: a progress bar with the job's message, then the pictures.
export function drawing() {
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Drawing the picture" });
  const label = h("span", { class: "chat-drawing-label small muted" }, "Queued…");
  const prompt = h("span", { class: "chat-image-prompt small" });
  const el = h("div", { class: "chat-drawing", role: "status" }, prompt, bar, label);
  return {
    el,
    update(event) {
      prompt.textContent = event.prompt;
      bar.value = event.progress;
      if (event.status === "succeeded") {
        const pictures = gallery(event.images);
        if (pictures) el.replaceWith(pictures);
        return;
      }
      label.textContent = event.message || (event.status === "queued" ? "Queued…" : "Drawing…");
    },
  };
}
