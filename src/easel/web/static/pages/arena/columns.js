// The two answer columns of a battle: streamed text or pictures, a status, and after the vote
// the model's name.
import { h } from "../../ui.js";

export function answerColumns() {
  const sides = {};
  for (const side of ["a", "b"]) {
    const title = h("h2", {}, `Answer ${side.toUpperCase()}`);
    const model = h("p", { class: "arena-model", hidden: true });
    const state = h("span", { class: "badge arena-state" }, "waiting");
    const body = h("div", { class: "arena-text", "aria-live": "polite" });
    const el = h("section", { class: "arena-answer", dataset: { side }, "aria-label": `Answer ${side.toUpperCase()}` },
      h("div", { class: "arena-answer-head" }, title, state), model, body);
    sides[side] = { el, model, state, body, text: "" };
  }

  function reset() {
    for (const col of Object.values(sides)) {
      col.text = ""; col.body.replaceChildren(); col.model.hidden = true;
      col.state.textContent = "streaming"; col.el.dataset.status = "pending"; col.el.classList.remove("winner");
    }
  }
  function append(side, text) {
    const col = sides[side];
    col.text += text;
    col.body.textContent = col.text;
  }
  function show(battle) {
    for (const side of ["a", "b"]) {
      const col = sides[side];
      const answer = battle.answers[side];
      col.el.dataset.status = answer.status;
      col.state.textContent = answer.status === "pending" ? "working" : answer.status;
      if (battle.task === "image") {
        col.body.replaceChildren(...answer.images.map((src, i) =>
          h("img", { src, alt: `Answer ${side.toUpperCase()}, picture ${i + 1}`, loading: "lazy" })));
      } else if (answer.text && answer.text !== col.text) {
        col.text = answer.text; col.body.textContent = answer.text;
      }
      if (answer.status === "failed") col.body.append(h("p", { class: "arena-error" }, answer.error || "This answer failed."));
      if (battle.models) {
        col.model.hidden = false;
        col.model.textContent = battle.models[side];
        col.el.classList.toggle("winner", battle.outcome === side);
      }
    }
  }
  return { el: h("div", { class: "arena-columns" }, sides.a.el, sides.b.el), reset, append, show };
}
