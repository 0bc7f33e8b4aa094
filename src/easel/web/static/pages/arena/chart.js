// The leaderboard's pictures, drawn by hand: ratings with their 95% intervals as an SVG
// dot-and-whisker chart, and the pairwise win rates as a heatmap table.
import { h } from "../../ui.js";
import { percent, rating } from "./shared.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

export function ratingChart(models) {
  const row = 28, left = 220, right = 30, top = 26, width = 760;
  const height = top + row * models.length + 10;
  const lows = models.map((m) => m.ci_low ?? m.rating), highs = models.map((m) => m.ci_high ?? m.rating);
  let min = Math.min(...lows), max = Math.max(...highs);
  if (max - min < 20) { min -= 10; max += 10; }
  const pad = (max - min) * 0.05;
  min -= pad; max += pad;
  const x = (v) => left + ((v - min) / (max - min)) * (width - left - right);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "board-chart", role: "img",
    "aria-label": "Ratings with 95% confidence intervals" });
  for (const tick of [min + pad, (min + max) / 2, max - pad]) {
    svg.append(s("line", { x1: x(tick), x2: x(tick), y1: top - 6, y2: height - 6, class: "grid" }),
      s("text", { x: x(tick), y: 14, class: "tick", "text-anchor": "middle" }, Math.round(tick)));
  }
  models.forEach((m, i) => {
    const y = top + row * i + row / 2;
    const group = s("g", { class: "board-point", "data-model": m.model });
    group.append(s("title", {}, `${m.model}: ${rating(m.rating)} (${rating(m.ci_low)}–${rating(m.ci_high)})`),
      s("text", { x: left - 10, y: y + 4, "text-anchor": "end", class: "label" }, m.model),
      s("line", { x1: x(m.ci_low ?? m.rating), x2: x(m.ci_high ?? m.rating), y1: y, y2: y, class: "whisker" }),
      s("circle", { cx: x(m.rating), cy: y, r: 5, class: "dot" }));
    svg.append(group);
  });
  return svg;
}

function heat(value) {
  // red (0) through neutral (0.5) to green (1)
  const hue = Math.round(value * 120);
  return `hsl(${hue} 60% ${85 - Math.abs(value - 0.5) * 30}%)`;
}

export function winMatrix(models, matrix) {
  const names = models.map((m) => m.model);
  const head = h("tr", {}, h("th", { scope: "col" }, "row beat column"), names.map((n) => h("th", { scope: "col" }, n)));
  const rows = names.map((row) => h("tr", {}, h("th", { scope: "row" }, row), names.map((col) => {
    if (row === col) return h("td", { class: "self" }, "");
    const value = matrix[row]?.[col];
    if (value === null || value === undefined) return h("td", { class: "none", title: "never met" }, "–");
    const cell = h("td", { title: `${row} vs ${col}: ${percent(value)}` }, percent(value));
    cell.style.background = heat(value);
    return cell;
  })));
  return h("table", { class: "board-matrix" }, h("thead", {}, head), h("tbody", {}, rows));
}
