// The Images page: wires the form (pages/images/form.js), the live job strip (queue.js), the
// paged gallery (gallery.js) and the lightbox (lightbox.js) to the API. `#/images?asset=ID`
// opens that picture in the lightbox; `#/images?model=ID` picks that image model (or upscaler).
import { api } from "../api.js";
import { h, toast } from "../ui.js";
import { createForm } from "./images/form.js";
import { createGallery } from "./images/gallery.js";
import { createLightbox } from "./images/lightbox.js";
import { createQueue } from "./images/queue.js";
import { isUpscale, loadCss, stripParts } from "./images/util.js";

export async function mount(root, { params } = {}) {
  await loadCss("/static/pages/images.css");
  const page = h("div", { class: "images-page" }, h("h1", { class: "visually-hidden" }, "Images"));
  root.append(page);

  let imageModels, upscalers;
  try {
    [imageModels, upscalers] = await Promise.all([
      api("/api/models?task=image").then((r) => r.data),
      api("/api/models?task=upscale").then((r) => r.data),
    ]);
  } catch (err) {
    page.append(h("div", { class: "panel error-text", role: "alert" }, `Could not load the image models: ${err.message || err}`));
    return undefined;
  }
  imageModels.sort((a, b) => Number(b.available) - Number(a.available) || (a.display_name || a.id).localeCompare(b.display_name || b.id));

  const queue = createQueue({ onSucceeded: addOutputs });
  const gallery = createGallery({
    onOpen: (asset) => lightbox.open(asset),
    onUpscale: (asset) => lightbox.open(asset, { focus: "upscale" }),
    onReuse: reuse,
    onDelete: remove,
  });
  const lightbox = createLightbox({ upscalers, items: gallery.items, onReuse: reuse, onDelete: remove, onUpscale: upscale });
  const form = createForm(imageModels, {
    onGenerate: async (body) => { queue.add(await api("/api/images", { method: "POST", body })); },
  });

  page.append(h("div", { class: "images-layout" },
    h("div", { class: "images-side" }, form.element),
    h("div", { class: "images-main" }, queue.element, gallery.element)), lightbox.element);

  async function addOutputs(job) {
    const ids = (job.outputs && job.outputs.assets) || [];
    const found = await Promise.all(ids.map((id) => api(`/api/assets/${encodeURIComponent(id)}`).catch(() => null)));
    gallery.prepend(found.filter(Boolean));
  }

  async function upscale(asset, scale, model) {
    queue.add(await api("/api/upscale", { method: "POST", body: { asset_id: asset.id, scale, model } }));
  }

  async function reuse(asset) {
    let source = asset;
    if (isUpscale(asset)) {
      try {
        source = await api(`/api/assets/${encodeURIComponent(asset.source_asset_id)}`);
      } catch (err) {
        toast(`The original of this upscale is gone (${err.message || err}); only its prompt was filled in.`, "error");
        source = { prompt: asset.prompt, settings: {} };
      }
    }
    const s = source.settings || {};
    form.fill({
      model: source.model, prompt: stripParts(source.prompt, s.prompt_parts), parts: s.prompt_parts,
      aspect_ratio: s.aspect_ratio, width: s.width, height: s.height, n: s.n,
      seed: source.seed ?? s.seed, steps: s.steps, negative_prompt: s.negative_prompt,
    });
    toast("The form now holds this picture's settings.");
  }

  async function remove(asset) {
    try {
      await api(`/api/assets/${encodeURIComponent(asset.id)}`, { method: "DELETE" });
      gallery.remove(asset.id);
      if (lightbox.showing() && lightbox.showing().id === asset.id) lightbox.close();
      toast("Image deleted.");
    } catch (err) {
      toast(`Could not delete the image: ${err.message || err}`, "error");
    }
  }

  gallery.load();
  api("/api/jobs?status=queued&status=running&limit=50").then((r) => {
    for (const job of r.data.reverse()) if (job.task === "image" || job.task === "upscale") queue.add(job);
  }).catch((err) => toast(`Could not read running jobs: ${err.message || err}`, "error"));
  if (params && params.get("asset")) lightbox.openById(params.get("asset"));
  if (params && params.get("model")) pickModel(params.get("model"));

  function pickModel(id) {
    const upscaler = upscalers.find((m) => m.id === id);
    if (upscaler && upscaler.available) {
      localStorage.setItem("easel.images.upscaler", id);
      toast(`${upscaler.display_name || id} will upscale: open a picture and press Upscale.`);
    } else if (!upscaler && form.choose(id)) {
      form.element.querySelector("textarea").focus();
    } else {
      toast(`${id} is not usable for images now.`, "error");
    }
  }

  return () => {
    queue.destroy();
    gallery.destroy();
    lightbox.close();
  };
}
