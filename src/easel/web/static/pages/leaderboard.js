// The Leaderboard page: per task (tabs in the hash, #/leaderboard?task=image), the models ranked
// by Bradley-Terry rating with 95% intervals, a chart of the same, the pairwise win-rate matrix,
// the unrated models, and JSON/CSV exports. Everything is recomputed from the stored votes.
import { api } from "../api.js";
import { empty, h, toast } from "../ui.js";
import { ratingChart, winMatrix } from "./arena/chart.js";
import { loadCss, percent, rating, TASKS } from "./arena/shared.js";

export async function mount(root, { params } = {}) {
  await loadCss("/static/pages/leaderboard.css");
  const task = params?.get("task") === "image" ? "image" : "chat";
  const tabs = h("div", { class: "board-tabs", role: "tablist", "aria-label": "Task" },
    TASKS.map(([value, label]) => h("a", { href: `#/leaderboard?task=${value}`, role: "tab",
      "aria-selected": value === task ? "true" : "false", class: value === task ? "active" : "" }, label)));
  const exports = h("div", { class: "board-exports" },
    h("a", { href: `/api/leaderboard?task=${task}`, download: `easel-leaderboard-${task}.json` }, "Export JSON"),
    h("a", { href: `/api/leaderboard.csv?task=${task}`, download: "" }, "Export CSV"));
  const summary = h("p", { class: "muted board-summary", role: "status" }, "Computing…");
  const body = h("div", { class: "board-body" });
  root.append(h("div", { class: "board-page" },
    h("div", { class: "board-head" }, h("h1", {}, "Leaderboard"), tabs, exports), summary, body));

  let board;
  try {
    board = await api(`/api/leaderboard?task=${task}`);
  } catch (err) {
    summary.textContent = "";
    toast(err.message, "error");
    return;
  }
  const computed = new Date(board.computed_at).toLocaleString();
  summary.textContent = `${board.votes} vote${board.votes === 1 ? "" : "s"}`
    + (board.excluded_votes ? ` (${board.excluded_votes} left out: an answer named its model)` : "")
    + ` · computed ${computed} · ${board.method}`;
  if (!board.models.length) {
    body.append(empty("No votes yet for this task. Battles and comparisons add votes.",
      h("a", { href: "#/arena" }, "Start a battle")));
  } else {
    const rows = board.models.map((m) => h("tr", { dataset: { model: m.model } },
      h("td", { class: "num" }, m.rank), h("th", { scope: "row" }, m.model), h("td", { class: "num" }, rating(m.rating)),
      h("td", { class: "num" }, `${rating(m.ci_low)} – ${rating(m.ci_high)}`), h("td", { class: "num" }, m.votes),
      h("td", { class: "num" }, percent(m.win_rate))));
    body.append(
      h("table", { class: "board-table", "aria-label": "Ratings" },
        h("thead", {}, h("tr", {}, ["#", "Model", "Rating", "95% CI", "Votes", "Win rate"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)),
      h("h2", {}, "Ratings and 95% intervals"), h("div", { class: "board-chart-wrap" }, ratingChart(board.models)),
      h("h2", {}, "Pairwise win rates"), h("div", { class: "board-matrix-wrap" }, winMatrix(board.models, board.matrix)));
  }
  if (board.unrated.length) {
    body.append(h("details", { class: "board-unrated" },
      h("summary", {}, `Unrated: ${board.unrated.length} model${board.unrated.length === 1 ? "" : "s"} with no votes yet`),
      unratedGroups(board.unrated)));
  }
}

// The unrated list can hold a hundred ids: grouped by provider (the id's prefix), largest group last.
function unratedGroups(unrated) {
  const groups = new Map();
  for (const { model } of unrated) {
    const provider = model.includes(":") ? model.slice(0, model.indexOf(":")) : "other";
    if (!groups.has(provider)) groups.set(provider, []);
    groups.get(provider).push(model);
  }
  const sorted = [...groups].sort((a, b) => a[1].length - b[1].length || a[0].localeCompare(b[0]));
  return h("div", { class: "board-unrated-groups" }, sorted.map(([provider, ids]) =>
    h("section", { class: "board-unrated-group", dataset: { provider }, "aria-label": `Unrated ${provider} models` },
      h("h3", {}, provider, h("span", { class: "muted" }, ` ${ids.length}`)),
      h("ul", {}, ids.sort().map((id) => h("li", {}, id))))));
}
