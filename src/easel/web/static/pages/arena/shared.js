// Helpers the Arena and Leaderboard pages share: page stylesheets and number formats.
import { h } from "../../ui.js";

export function loadCss(href) {
  if (document.querySelector(`link[data-page-css="${href}"]`)) return Promise.resolve();
  const link = h("link", { rel: "stylesheet", href, dataset: { pageCss: href } });
  const loaded = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
  document.head.append(link);
  return loaded;
}

export const TASKS = [["chat", "Chat"], ["image", "Image"]];

export function rating(value) {
  return value === null || value === undefined ? "–" : Math.round(value).toString();
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}
