// The Compare page: one prompt on 2 to 8 models side by side. #/compare starts a new comparison,
// #/compare/<id> reopens a stored one. Every column streams (chat) or shows its job's progress
// (image) on its own; a follow-up goes to every column; "Best" records a vote for the leaderboard;
// "Continue in chat" turns a column into a conversation and opens it.
import { api, stream } from "../api.js";
import { h, toast } from "../ui.js";
import { comparisonView } from "./compare/columns.js";
import { comparisonList } from "./compare/list.js";
import { setupForm } from "./compare/setup.js";

const CSS = "/static/pages/compare.css";
const url = (id) => `/api/comparisons/${encodeURIComponent(id)}`;

function loadCss() {
  if (document.querySelector(`link[href="${CSS}"]`)) return Promise.resolve();
  const link = h("link", { rel: "stylesheet", href: CSS });
  const ready = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
  document.head.append(link);
  return ready;
}

export async function mount(root, { rest }) {
  await loadCss();
  let current = null; // the open comparison, as GET answers it
  let controller = null; // the running turn's request
  let alive = true;

  const setup = setupForm({ onSubmit: start });
  const view = comparisonView({ onBest: pickBest, onContinue: continueInChat });
  const list = comparisonList();
  const title = h("h1", {}, "Compare");
  const fresh = h("a", { href: "#/compare", class: "button" }, "New comparison");
  const followBox = h("textarea", { rows: 2, "aria-label": "Follow-up", placeholder: "A follow-up for every model…" });
  const followGo = h("button", { type: "submit", class: "primary" }, "Send to all");
  const follow = h("form", { class: "cmp-follow", hidden: true }, followBox, followGo);
  root.append(h("div", { class: "cmp-page" },
    h("section", { class: "cmp-main", "aria-label": "Comparison" },
      h("header", { class: "cmp-head" }, title, fresh), setup.el, view.el, follow),
    list.el));

  follow.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = followBox.value.trim();
    if (!text || !current || controller) return;
    followBox.value = "";
    runTurn(`${url(current.id)}/turns`, { prompt: text });
  });
  followBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); follow.requestSubmit(); }
  });

  function show(comparison) {
    current = comparison;
    title.textContent = comparison ? comparison.title || "Compare" : "Compare";
    setup.el.hidden = Boolean(comparison);
    follow.hidden = !comparison;
  }

  function busy(on) {
    setup.setBusy(on);
    followGo.disabled = on;
  }

  async function start({ task, models, prompt }) {
    await runTurn("/api/comparisons", { task, models, prompt }, true);
  }

  async function runTurn(path, body, isNew = false) {
    controller = new AbortController();
    busy(true);
    try {
      await stream(path, { body: { ...body, stream: true }, signal: controller.signal, onEvent(name, data) {
        if (name === "start") {
          if (isNew) {
            history.pushState(null, "", `#/compare/${encodeURIComponent(data.comparison.id)}`);
            show({ ...data.comparison, turns: [] });
            view.render(current);
            setup.clearPrompt();
          }
          view.startTurn(current, data.turn);
        } else if (name === "delta") view.delta(data.column, data.text);
        else if (name === "progress") view.progress(data.column, data.progress, data.message);
        else if (name === "done" || name === "error") view.finish(data.answer);
        else if (name === "end") { show(data.comparison); view.render(data.comparison); }
      } });
      if (alive) list.refresh(current?.id);
    } catch (err) {
      if (err.name !== "AbortError") toast(`Could not compare: ${err.message}`, "error");
    } finally {
      controller = null;
      if (alive) busy(false);
    }
  }

  async function pickBest(seq, column) {
    try {
      const result = await api(`${url(current.id)}/vote`, { method: "POST", body: { turn: seq, column } });
      const detail = await api(url(current.id));
      show(detail);
      view.render(detail);
      toast(`Picked ${detail.models[column]}: ${result.votes.length} vote${result.votes.length === 1 ? "" : "s"} `
        + "for the leaderboard.");
    } catch (err) {
      toast(`Could not record the pick: ${err.message}`, "error");
    }
  }

  async function continueInChat(column) {
    try {
      const conversation = await api(`${url(current.id)}/columns/${column}/conversation`, { method: "POST" });
      location.hash = `#/chat/${encodeURIComponent(conversation.id)}`;
    } catch (err) {
      toast(`Could not continue in chat: ${err.message}`, "error");
    }
  }

  list.refresh(rest[0]).catch((err) => toast(`Could not list comparisons: ${err.message}`, "error"));
  if (rest[0]) {
    try {
      const detail = await api(url(decodeURIComponent(rest[0])));
      show(detail);
      view.render(detail);
    } catch (err) {
      toast(err.status === 404 ? "That comparison does not exist." : `Could not open it: ${err.message}`, "error");
      history.replaceState(null, "", "#/compare");
      show(null);
    }
  }
  if (!current) await setup.load("chat");
  return () => { alive = false; controller?.abort(); };
}
