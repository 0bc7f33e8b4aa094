// The Arena page: a blind battle. A prompt goes to two models drawn from a pool; their answers
// stream into columns A and B with the names hidden; the vote buttons open once both answers are
// complete; after the vote the names (and a leak flag, when an answer named its own model) show.
import { api, stream } from "../api.js";
import { h, toast } from "../ui.js";
import { answerColumns } from "./arena/columns.js";
import { poolPicker } from "./arena/pool.js";
import { loadCss, TASKS } from "./arena/shared.js";

const VOTES = [["a", "A is better"], ["b", "B is better"], ["tie", "Tie"], ["both_bad", "Both are bad"]];

export async function mount(root, { params } = {}) {
  await loadCss("/static/pages/arena.css");
  const controller = new AbortController();
  let task = params?.get("task") === "image" ? "image" : "chat";
  let battle = null;

  const taskSelect = h("select", { id: "arena-task" }, TASKS.map(([v, l]) => h("option", { value: v }, l)));
  taskSelect.value = task;
  const pool = poolPicker();
  const prompt = h("textarea", { id: "arena-prompt", rows: 3, required: true,
    placeholder: "Ask both models the same thing…" });
  const start = h("button", { type: "submit", class: "primary", id: "arena-start" }, "Start battle");
  const columns = answerColumns();
  const status = h("p", { class: "arena-status muted", role: "status" });
  const leak = h("p", { class: "arena-leak", role: "note", hidden: true });
  const buttons = VOTES.map(([outcome, label]) =>
    h("button", { type: "button", disabled: true, dataset: { outcome }, onclick: () => vote(outcome) }, label));
  const votes = h("div", { class: "arena-votes", role: "group", "aria-label": "Your vote" }, buttons);
  const board = h("a", { href: `#/leaderboard?task=${task}`, class: "arena-board-link", hidden: true }, "See the leaderboard");
  const result = h("section", { class: "arena-result", hidden: true }, columns.el, votes, status, leak, board);

  const form = h("form", { class: "arena-form", onsubmit: (event) => { event.preventDefault(); run(); } },
    h("div", { class: "arena-form-row" },
      h("div", {}, h("label", { for: "arena-task" }, "Task"), taskSelect), pool.el),
    h("label", { for: "arena-prompt" }, "Prompt"), prompt, h("div", { class: "arena-actions" }, start));
  root.append(h("div", { class: "arena-page" },
    h("div", { class: "arena-head" }, h("h1", {}, "Arena"),
      h("p", { class: "muted" }, "Two models, drawn at random, answer blind. Vote for the better one, then see who they were.")),
    form, result));

  taskSelect.addEventListener("change", () => {
    task = taskSelect.value;
    board.href = `#/leaderboard?task=${task}`;
    pool.load(task);
  });
  pool.load(task);

  function setVoting(enabled) { buttons.forEach((b) => { b.disabled = !enabled; }); }

  function settle(current) {
    battle = current;
    columns.show(current);
    const ready = current.status === "ready";
    setVoting(ready);
    status.textContent = current.status === "voted" ? "" : ready ? "Both answers are complete: cast your vote."
      : current.status === "failed" ? "An answer failed, so this battle can't be voted. Start another one." : "Answering…";
  }

  async function run() {
    if (!prompt.value.trim()) { prompt.focus(); return; }
    start.disabled = true;
    setVoting(false);
    leak.hidden = true; board.hidden = true;
    result.hidden = false;
    columns.reset();
    status.textContent = "Drawing two models…";
    const models = pool.models();
    try {
      await stream("/api/battles", {
        body: { prompt: prompt.value, task, stream: true, ...(models.length ? { pool: models } : {}) },
        signal: controller.signal,
        onEvent: (name, data) => {
          if (name === "start") { battle = data; status.textContent = "Answering…"; }
          else if (name === "text") columns.append(data.side, data.text);
          else if (name === "done") settle(data);
        },
      });
    } catch (err) {
      if (err.name !== "AbortError") { status.textContent = ""; result.hidden = !battle; toast(err.message, "error"); }
    } finally {
      start.disabled = false;
    }
  }

  async function vote(outcome) {
    if (!battle) return;
    setVoting(false);
    try {
      const voted = await api(`/api/battles/${encodeURIComponent(battle.id)}/vote`, { method: "POST", body: { outcome } });
      settle(voted);
      buttons.forEach((b) => b.classList.toggle("chosen", b.dataset.outcome === outcome));
      status.textContent = `Your vote: ${VOTES.find(([o]) => o === outcome)[1]}. A was ${voted.models.a}, B was ${voted.models.b}.`;
      leak.hidden = !voted.leaked;
      leak.textContent = voted.leaked ? "An answer named its own model, so this vote is left out of the leaderboard." : "";
      board.hidden = false;
    } catch (err) {
      toast(err.message, "error");
      if (err.status !== 409) setVoting(true);
    }
  }

  return () => controller.abort();
}
