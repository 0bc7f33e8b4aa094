// The composer: a growing text box where Enter sends and Shift+Enter starts a new line, and one
// button that is Send while idle and Stop while an answer streams. Its per-turn options (Web,
// Pictures, Think first...) sit under the box; on a phone they fold into an "Options" disclosure
// that says the current settings in one line, so the thread keeps most of the screen.
import { h } from "../../ui.js";

const MAX_ROWS_PX = 220;
const NARROW = "(max-width: 640px)"; // chat.css folds the options at the same width
const PLACEHOLDER = "Message, or /image a lighthouse at night";
const SHORT_PLACEHOLDER = "Message or /image …"; // one line on a phone

// Enter sends; Shift+Enter (and Enter while an input method is composing text) does not.
export function submitsOnEnter(event) {
  return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
}

// `tools`: the per-turn options; `beside`: compact buttons next to Send (shown on a phone only);
// `describe()`: the options' current settings in a few words, shown on the folded disclosure.
export function composer({ onSend, onStop, tools = [], beside = [], describe = () => "", ready = () => false }) {
  let busy = false;
  const narrow = matchMedia(NARROW);
  const area = h("textarea", { rows: "1", "aria-label": "Message", "aria-describedby": "chat-composer-hint" });
  const button = h("button", { type: "submit", class: "primary send" }, "Send");
  const hint = h("p", { id: "chat-composer-hint", class: "composer-hint muted small" },
    "Enter to send · Shift+Enter for a new line");
  const summary = h("span", { class: "composer-options-summary muted" });
  const disclose = h("button", { type: "button", class: "composer-options-toggle", "aria-expanded": "false",
    "aria-controls": "chat-composer-options" }, h("span", { class: "composer-options-name" }, "Options"), summary);
  const options = h("div", { class: "composer-tools", id: "chat-composer-options" }, ...tools, hint);
  const form = h("form", { class: "composer", "aria-label": "Send a message" },
    h("div", { class: "composer-box" }, area, ...beside, button),
    ...(tools.length ? [disclose, options] : [hint]));

  const grow = () => {
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + 2, MAX_ROWS_PX)}px`;
  };
  const fitPlaceholder = () => { area.placeholder = narrow.matches ? SHORT_PLACEHOLDER : PLACEHOLDER; };
  const refresh = () => { summary.textContent = describe(); };

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
  disclose.addEventListener("click", () => {
    const open = disclose.getAttribute("aria-expanded") !== "true";
    disclose.setAttribute("aria-expanded", String(open));
    form.classList.toggle("options-open", open);
  });
  // The options' own controls change them: the one-line summary follows (click: the toggles, change: select, box).
  options.addEventListener("click", refresh);
  options.addEventListener("change", refresh);
  narrow.addEventListener("change", fitPlaceholder);
  fitPlaceholder();
  refresh();

  return {
    el: form,
    focus: () => area.focus(),
    text: () => area.value,
    setText(text) { area.value = text; grow(); },
    refresh, // for option changes made by code (a conversation's image model, the model list loaded)
    setBusy(value) {
      busy = value;
      button.textContent = value ? "Stop" : "Send";
      button.classList.toggle("primary", !value);
      button.classList.toggle("stop", value);
      button.setAttribute("aria-label", value ? "Stop the answer" : "Send");
    },
    destroy() { narrow.removeEventListener("change", fitPlaceholder); },
  };
}
