// Plain helpers for the Images page: the prompt builder's composition (kept word for word with
// PromptParts.compose on the server), sizes, per-asset captions and the page's stylesheet.

export const PART_FIELDS = [
  ["subject", "Subject", "a red fox curled up asleep"],
  ["setting", "Setting", "in a snowy pine forest"],
  ["lighting", "Lighting", "golden hour"],
  ["camera_angle", "Camera angle", "low angle, wide shot"],
  ["mood", "Mood", "calm"],
  ["style", "Style", "watercolor"],
];

// The same joining rules as easel.tasks.image.PromptParts.compose.
export function composeParts(parts) {
  const out = [];
  const get = (name) => (parts[name] || "").trim();
  if (get("subject")) out.push(get("subject"));
  if (get("setting")) out.push(get("setting"));
  if (get("lighting")) out.push(parts.lighting.includes("light") ? get("lighting") : `${get("lighting")} lighting`);
  if (get("camera_angle")) out.push(get("camera_angle"));
  if (get("mood")) out.push(parts.mood.includes("mood") ? get("mood") : `${get("mood")} mood`);
  if (get("style")) out.push(parts.style.includes("style") ? get("style") : `in ${get("style")} style`);
  return out.join(", ");
}

export function fullPrompt(text, parts) {
  const extra = composeParts(parts);
  const base = (text || "").trim();
  return base && extra ? `${base}, ${extra}` : base || extra;
}

// The free text of a stored prompt whose builder parts were appended (once or more) by the server.
export function stripParts(prompt, parts) {
  const extra = composeParts(parts || {});
  let text = (prompt || "").trim();
  if (!extra) return text;
  while (text === extra || text.endsWith(`, ${extra}`)) text = text === extra ? "" : text.slice(0, -extra.length - 2);
  return text;
}

// Sizes offered where a model takes any width and height; pixels as dimensions_for() makes them.
export const SIZES = [["", "Standard (1 MP)", 1], ["small", "Small (0.25 MP, fast)", 0.25], ["large", "Large (2 MP)", 2]];

export function dimensionsFor(ratio, megapixels) {
  const [w, h] = ratio.split(":").map(Number);
  const height = Math.sqrt((megapixels * 1024 * 1024) / (w / h));
  const snap = (x) => Math.max(64, Math.round(x / 64) * 64);
  return [snap(height * (w / h)), snap(height)];
}

export function nearestRatio(width, height, ratios) {
  const value = (r) => { const [w, h] = r.split(":").map(Number); return w / h; };
  return ratios.reduce((best, r) => (Math.abs(value(r) - width / height) < Math.abs(value(best) - width / height) ? r : best));
}

export function dims(asset) {
  return asset.width && asset.height ? `${asset.width}×${asset.height}` : "";
}

export function isUpscale(asset) {
  return Boolean(asset.source_asset_id && asset.settings && asset.settings.scale);
}

// One line of what made a picture: model, size, seed, ratio (and the factor for an upscale).
export function settingsLine(asset) {
  const s = asset.settings || {};
  const bits = [asset.model, dims(asset)];
  if (isUpscale(asset)) bits.push(`${s.scale}× upscale`);
  if (s.aspect_ratio) bits.push(s.aspect_ratio);
  if (asset.seed !== null && asset.seed !== undefined) bits.push(`seed ${asset.seed}`);
  if (s.steps) bits.push(`${s.steps} steps`);
  return bits.filter(Boolean).join(" · ");
}

export function downloadName(asset) {
  const ext = (asset.mime_type || "image/png").split("/")[1] || "png";
  const slug = (asset.prompt || asset.filename || "image").toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/^-|-$/g, "");
  return `${slug || "image"}-${asset.id.slice(-6)}.${ext}`;
}

export function loadCss(href) {
  if (document.querySelector(`link[data-page-css="${href}"]`)) return Promise.resolve();
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  link.dataset.pageCss = href;
  const loaded = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
  document.head.append(link);
  return loaded;
}

export function isAbort(err) {
  return err && (err.name === "AbortError" || err.name === "TimeoutError");
}

// A delete button that asks once more: the first press arms it, the second acts; leaving disarms.
export function confirmDelete(button, onConfirm, label = "Delete") {
  const reset = () => { button.textContent = label; button.classList.remove("armed"); delete button.dataset.armed; };
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    if (!button.dataset.armed) {
      button.dataset.armed = "1";
      button.classList.add("armed");
      button.textContent = "Delete? Press again";
      return;
    }
    reset();
    onConfirm();
  });
  button.addEventListener("blur", reset);
  button.addEventListener("mouseleave", () => { if (document.activeElement !== button) reset(); });
  return button;
}
