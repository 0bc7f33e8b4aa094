// The composer: a growing text box where Enter sends and Shift+Enter starts a new line, and one
// button that is Send while idle and Stop while an answer streams.
import { h } from "../../ui.js";

const MAX_ROWS_PX = 220;

// Enter sends; Shift+Enter (and Enter while an input method is composing text) does not.
export function submitsOnEnter(event) {
  return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
}

export function composer({ onSend, onStop, tools = [], ready = () => false }) {
  let busy = false;
  const area = h("textarea", { rows: "1", placeholder: "Message, or /image a lighthouse at night", "aria-label": "Message",
    "aria-describedby": "chat-composer-hint" });
  const button = h("button", { type: "submit", class: "primary send" }, "Send");
  const hint = h("p", { id: "chat-composer-hint", class: "composer-hint muted small" },
    "Enter to send · Shift+Enter for a new line");
  // `tools`: per-turn switches shown under the box (the Web toggle...)
  const form = h("form", { class: "composer", "aria-label": "Send a message" },
    h("div", { class: "composer-box" }, area, button),
    tools.length ? h("div", { class: "composer-tools" }, ...tools, hint) : hint);

  const grow = () => {
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + 2, MAX_ROWS_PX)}px`;
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) { onStop(); return; }
    const text = area.value;
    if (!text.trim() && !ready()) { area.focus(); return; } // ready(): something else to send (an image)
    onSend(text);
  });
  area.addEventListener("keydown", (event) => {
    if (submitsOnEnter(event)) {
      event.preventDefault();
      if (!busy) form.requestSubmit();
    }
  });
  area.addEventListener("input", grow);

  return {
    el: form,
    focus: () => area.focus(),
    text: () => area.value,
    setText(text) { area.value = text; grow(); },
    setBusy(value) {
      busy = value;
      button.textContent = value ? "Stop" : "Send";
      button.classList.toggle("primary", !value);
      button.classList.toggle("stop", value);
      button.setAttribute("aria-label", value ? "Stop the answer" : "Send");
    },
  };
}
