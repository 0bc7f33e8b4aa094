// A comparison drawn as turns: each turn's prompt, then one cell per model side by side (stacked on
// a phone). A cell streams its text (chat) or shows its job's progress and images (image); its footer
// has latency, time to first token, tokens and cost. "Best" picks a turn's answer (once every cell of
// the turn has ended); "Continue in chat" turns that model's column into a conversation.
import { h, money, tokens } from "../../ui.js";
import { renderMarkdown } from "../chat/markdown.js";

const ms = (v) => (v === null || v === undefined ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`);

function stats(answer) {
  return h("dl", { class: "cmp-stats" },
    h("dt", {}, "latency"), h("dd", {}, ms(answer.latency_ms)),
    answer.ttft_ms !== null && answer.ttft_ms !== undefined ? [h("dt", {}, "TTFT"), h("dd", {}, ms(answer.ttft_ms))]
      : null,
    answer.prompt_tokens !== null && answer.prompt_tokens !== undefined
      ? [h("dt", {}, "tokens"), h("dd", {}, `${tokens(answer.prompt_tokens)} in / ${tokens(answer.completion_tokens)} out`)]
      : null,
    h("dt", {}, "cost"), h("dd", {}, money(answer.cost)));
}

function settingsLine(image) {
  const s = image.settings || {};
  const parts = [image.width && `${image.width}×${image.height}`, image.seed !== null && image.seed !== undefined
    && `seed ${image.seed}`, s.aspect_ratio, s.steps && `${s.steps} steps`, s.quality].filter(Boolean);
  return parts.join(" · ");
}

export function comparisonView({ onBest, onContinue }) {
  const el = h("div", { class: "cmp-turns" });
  let comparison = null;
  const live = new Map(); // column -> { cell, body, text } of the turn streaming now

  function cellFor(answer, turn) {
    const body = h("div", { class: "cmp-body" });
    const cell = h("article", { class: "cmp-answer", dataset: { column: String(answer.column), status: answer.status },
      "aria-label": answer.model },
    h("header", { class: "cmp-answer-head" }, h("span", { class: "model-id" }, answer.model)), body);
    fill(cell, body, answer, turn);
    return cell;
  }

  function fill(cell, body, answer, turn) {
    cell.dataset.status = answer.status;
    cell.querySelector(".cmp-stats")?.remove();
    cell.querySelector(".cmp-actions")?.remove();
    body.replaceChildren();
    if (answer.status === "running") {
      if (comparison.task === "image") {
        const bar = h("div", {}); bar.style.width = `${Math.round((answer.progress || 0) * 100)}%`;
        body.append(h("div", { class: "progress" }, bar), h("p", { class: "muted small cmp-progress" },
          answer.progress_message || "queued"));
      } else {
        body.append(h("p", { class: "muted small" }, "…"));
      }
      return;
    }
    if (answer.status === "failed") body.append(h("p", { class: "error-text cmp-error" }, answer.error || "Failed."));
    if (comparison.task === "image") {
      for (const image of answer.images || []) {
        body.append(h("figure", { class: "cmp-image" },
          h("a", { href: image.url, target: "_blank", rel: "noopener" },
            h("img", { src: image.thumbnail_url, alt: `${answer.model}: ${turn.prompt}`, loading: "lazy" })),
          h("figcaption", { class: "muted small" }, settingsLine(image))));
      }
    } else if (answer.content) {
      const md = h("div", { class: "md" });
      renderMarkdown(md, answer.content);
      body.append(md);
    }
    cell.append(stats(answer));
    const actions = h("div", { class: "cmp-actions" });
    const turnDone = turn.answers.every((a) => a.status !== "running");
    if (answer.status === "complete") {
      const best = turn.best_column === answer.column;
      actions.append(h("button", { type: "button", class: `cmp-best${best ? " primary" : ""}`, disabled: !turnDone,
        "aria-pressed": String(best), onclick: () => onBest(turn.seq, answer.column) }, best ? "★ Best" : "Best"));
      if (comparison.task === "chat") {
        actions.append(h("button", { type: "button", class: "cmp-continue",
          onclick: () => onContinue(answer.column) }, "Continue in chat"));
      }
    }
    cell.append(actions);
  }

  function turnEl(turn) {
    const grid = h("div", { class: "cmp-grid" }, turn.answers.map((a) => cellFor(a, turn)));
    grid.style.setProperty("--cols", String(turn.answers.length));
    return h("section", { class: "cmp-turn", dataset: { seq: String(turn.seq) } },
      h("p", { class: "cmp-prompt" }, h("span", { class: "muted small" }, `Turn ${turn.seq}`), " ", turn.prompt), grid);
  }

  return {
    el,
    render(next) {
      comparison = next;
      live.clear();
      el.replaceChildren(...next.turns.map(turnEl));
    },
    startTurn(next, turn) {
      comparison = next;
      const section = turnEl(turn);
      el.append(section);
      for (const cell of section.querySelectorAll(".cmp-answer")) {
        live.set(Number(cell.dataset.column), { cell, body: cell.querySelector(".cmp-body"), text: "", turn });
      }
      section.scrollIntoView({ block: "nearest" });
    },
    delta(column, text) {
      const slot = live.get(column);
      if (!slot) return;
      slot.text += text;
      let md = slot.body.querySelector(".md");
      if (!md) { md = h("div", { class: "md" }); slot.body.replaceChildren(md); }
      renderMarkdown(md, slot.text, { final: false });
    },
    progress(column, value, message) {
      const slot = live.get(column);
      if (!slot) return;
      const bar = slot.body.querySelector(".progress > div");
      if (bar) bar.style.width = `${Math.round(value * 100)}%`;
      const label = slot.body.querySelector(".cmp-progress");
      if (label) label.textContent = message || `${Math.round(value * 100)}%`;
    },
    finish(answer) {
      const slot = live.get(answer.column);
      if (!slot) return;
      slot.turn.answers[answer.column] = answer;
      fill(slot.cell, slot.body, answer, slot.turn);
    },
  };
}
