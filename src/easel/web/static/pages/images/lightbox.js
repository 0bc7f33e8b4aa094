// The lightbox: one picture at full size in a modal <dialog> (Escape or the backdrop closes it,
// arrow keys step through the loaded gallery), with its prompt and settings, download, upscale
// (factor and upscaler), "use these settings again" and delete.
import { api } from "../../api.js";
import { h, toast } from "../../ui.js";
import { confirmDelete, dims, downloadName, isUpscale } from "./util.js";

const UPSCALER_KEY = "easel.images.upscaler";

export function createLightbox({ upscalers, items, onReuse, onDelete, onUpscale }) {
  const dialog = h("dialog", { class: "lightbox", "aria-labelledby": "lightbox-title" });
  let current = null;

  function upscaleControls(asset) {
    const model = h("select", { id: "lb-upscaler", "aria-label": "Upscaler" },
      upscalers.map((m) => h("option", { value: m.id, disabled: !m.available },
        m.available ? m.display_name || m.id : `${m.display_name || m.id} · unavailable: ${m.unavailable_reason}`)));
    const remembered = upscalers.find((m) => m.id === localStorage.getItem(UPSCALER_KEY) && m.available);
    const first = remembered || upscalers.find((m) => m.available);
    if (first) model.value = first.id;
    const scale = h("select", { id: "lb-scale", "aria-label": "Upscale factor" });
    const fillScales = () => {
      const m = upscalers.find((u) => u.id === model.value);
      const factors = m && m.media.upscale_factors.length ? m.media.upscale_factors : [2, 4];
      const keep = Number(scale.value) || 2;
      scale.replaceChildren(...factors.map((f) => h("option", { value: f }, `${f}× (${asset.width * f || "?"}×${asset.height * f || "?"})`)));
      scale.value = factors.includes(keep) ? keep : factors[0];
    };
    fillScales();
    model.addEventListener("change", () => { localStorage.setItem(UPSCALER_KEY, model.value); fillScales(); });
    const go = h("button", { type: "button", class: "upscale-go", disabled: !first }, "Upscale");
    go.addEventListener("click", async () => {
      go.disabled = true;
      try {
        await onUpscale(asset, Number(scale.value), model.value);
        close();
      } catch (err) {
        toast(`Could not upscale: ${err.message || err}`, "error");
      } finally {
        go.disabled = false;
      }
    });
    return h("div", { class: "lb-upscale", role: "group", "aria-label": "Upscale" },
      h("span", { class: "label" }, "Upscale"), h("div", { class: "lb-upscale-row" }, model, scale, go),
      first ? null : h("p", { class: "small error-text" }, "No upscaler is usable now."));
  }

  function details(asset) {
    const s = asset.settings || {};
    const rows = [
      ["Model", asset.model],
      ["Size", dims(asset)],
      ["Aspect ratio", s.aspect_ratio],
      ["Seed", asset.seed ?? s.seed],
      ["Steps", s.steps],
      ["Negative prompt", s.negative_prompt],
      ["Upscale", isUpscale(asset) ? `${s.scale}×` : null],
      ["Created", asset.created_at ? new Date(asset.created_at).toLocaleString() : null],
    ].filter(([, v]) => v !== null && v !== undefined && v !== "");
    return h("dl", { class: "lb-details" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  }

  function render(asset, focus) {
    const list = items();
    const index = list.findIndex((a) => a.id === asset.id);
    const prev = h("button", { type: "button", class: "lb-nav lb-prev", "aria-label": "Previous image", disabled: index <= 0 }, "‹");
    const next = h("button", { type: "button", class: "lb-nav lb-next", "aria-label": "Next image", disabled: index < 0 || index >= list.length - 1 }, "›");
    prev.addEventListener("click", () => step(-1));
    next.addEventListener("click", () => step(1));
    const closeButton = h("button", { type: "button", class: "lb-close", "aria-label": "Close" }, "✕");
    closeButton.addEventListener("click", close);
    const source = isUpscale(asset) ? h("button", { type: "button", class: "linklike" }, "Open the original") : null;
    if (source) source.addEventListener("click", () => openById(asset.source_asset_id));
    const upscale = upscaleControls(asset);
    const reuse = asset.prompt ? h("button", { type: "button", class: "reuse" }, "Use these settings again") : null;
    if (reuse) reuse.addEventListener("click", () => { close(); onReuse(asset); });
    const del = confirmDelete(h("button", { type: "button", class: "danger" }, "Delete"), () => onDelete(asset));
    const attribution = (asset.settings || {}).attribution;
    dialog.replaceChildren(
      h("div", { class: "lb-body" },
        h("figure", { class: "lb-figure" },
          h("img", { src: `/api/assets/${encodeURIComponent(asset.id)}/content`, alt: (asset.prompt || "image").slice(0, 200),
            width: asset.width || undefined, height: asset.height || undefined }),
          prev, next),
        h("aside", { class: "lb-side" },
          h("div", { class: "lb-top" }, h("h2", { id: "lightbox-title" }, isUpscale(asset) ? "Upscaled image" : "Image"), closeButton),
          h("p", { class: "lb-prompt" }, asset.prompt || asset.filename || "No prompt recorded."),
          details(asset), source,
          h("div", { class: "lb-actions" },
            h("a", { class: "button primary", href: `/api/assets/${encodeURIComponent(asset.id)}/content`, download: downloadName(asset) }, "Download"),
            reuse, del),
          upscale,
          attribution ? h("p", { class: "small muted" }, attribution) : null)));
    if (focus === "upscale") upscale.querySelector(".upscale-go").focus();
    else closeButton.focus();
  }

  function step(delta) {
    const list = items();
    const index = list.findIndex((a) => a.id === (current && current.id));
    const target = list[index + delta];
    if (target) open(target);
  }

  async function openById(id) {
    try {
      open(await api(`/api/assets/${encodeURIComponent(id)}`));
    } catch (err) {
      toast(err.status === 404 ? "That image is no longer in the gallery." : `Could not open the image: ${err.message || err}`, "error");
    }
  }

  function open(asset, { focus } = {}) {
    current = asset;
    if (!dialog.open) dialog.showModal();
    render(asset, focus);
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => { current = null; dialog.replaceChildren(); });
  dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });
  dialog.addEventListener("keydown", (event) => {
    if (event.target.closest("select, input")) return;
    if (event.key === "ArrowLeft") step(-1);
    if (event.key === "ArrowRight") step(1);
  });

  return { element: dialog, open, openById, close, showing: () => current };
}
