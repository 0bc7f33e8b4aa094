// The message thread: stored messages (the user's as plain text; answers as safe Markdown with the
// reasoning in a collapsible panel apart, the model that wrote each, tokens, cost and time) and the
// live answer while a turn streams. Edit-and-resend and regenerate start here; the page runs them.
import { h, money, tokens } from "../../ui.js";
import { renderMarkdown } from "./markdown.js";
import { submitsOnEnter } from "./composer.js";
import { linkMarkers, sourcesList } from "./citations.js";
import { drawing, gallery } from "./images.js";
import { howItWasMade, userImages } from "./vision.js";

const STICK_PX = 80;

export function metaText(m) {
  const parts = [];
  if (m.prompt_tokens != null || m.completion_tokens != null) {
    parts.push(`${tokens(m.prompt_tokens)} in`, `${tokens(m.completion_tokens)} out`);
    if (m.reasoning_tokens) parts.push(`${tokens(m.reasoning_tokens)} reasoning`);
  }
  if (m.cost != null) parts.push(money(m.cost));
  if (m.latency_ms != null) {
    parts.push(m.latency_ms < 1000 ? `${m.latency_ms} ms` : `${(m.latency_ms / 1000).toFixed(1)} s`);
  }
  return parts.join(" · ");
}

function copyButton(getText) {
  const button = h("button", { type: "button", class: "link-button" }, "Copy");
  button.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(getText()); button.textContent = "Copied"; }
    catch { button.textContent = "Copy failed"; }
  });
  return button;
}

export function thread({ modelName, onEdit, onRegenerate, emptyState }) {
  const list = h("div", { class: "thread-messages" });
  const el = h("div", { class: "thread", "aria-label": "Messages" }, list);

  const nearBottom = () => el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
  function stick(change) {
    const atEnd = nearBottom();
    change();
    if (atEnd) el.scrollTop = el.scrollHeight;
  }
  const scrollToEnd = () => { el.scrollTop = el.scrollHeight; };

  const modelLine = (id) => h("div", { class: "msg-model" },
    h("span", { class: "model-name" }, modelName(id)), h("span", { class: "model-id" }, id || ""));

  function reasoningPanel(text, open = false) {
    const body = h("div", { class: "reasoning-text" }, text);
    const summary = h("summary", {}, "Reasoning");
    return { el: h("details", { class: "reasoning", open }, summary, body), body, summary };
  }

  function userEl(m) {
    const text = h("div", { class: "msg-text" }, m.content);
    const edit = h("button", { type: "button", class: "link-button", "aria-label": "Edit and resend" }, "Edit");
    const article = h("article", { class: "msg user", dataset: { id: m.id || "" } }, text, userImages(m),
      h("div", { class: "msg-actions" }, edit));
    edit.addEventListener("click", () => startEdit(article, text, m.content_parts));
    return article;
  }

  function startEdit(article, text, parts) {
    if (!article.dataset.id) return;
    const area = h("textarea", { rows: "3", "aria-label": "Edit message" });
    area.value = text.textContent;
    const send = h("button", { type: "submit", class: "primary" }, "Send");
    const cancel = h("button", { type: "button" }, "Cancel");
    const form = h("form", { class: "msg-edit" }, area, h("div", { class: "row" }, send, cancel,
      h("span", { class: "muted small" }, "Messages after this one are replaced.")));
    const actions = article.querySelector(".msg-actions");
    const restore = () => { form.replaceWith(text); actions.hidden = false; };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (area.value.trim()) onEdit(article.dataset.id, area.value, parts);
    });
    area.addEventListener("keydown", (event) => {
      if (submitsOnEnter(event)) { event.preventDefault(); form.requestSubmit(); }
      if (event.key === "Escape") { event.preventDefault(); restore(); }
    });
    cancel.addEventListener("click", restore);
    text.replaceWith(form);
    actions.hidden = true;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  function answerEl(m, { last }) {
    const failed = m.status === "failed";
    const body = h("div", { class: "md" });
    if (m.content) renderMarkdown(body, m.content);
    linkMarkers(body, m.extras?.citations);
    const actions = h("div", { class: "msg-actions" },
      m.content ? copyButton(() => m.content) : null,
      last ? regenerateButton() : null);
    return h("article", { class: `msg assistant${failed ? " failed" : ""}`, dataset: { id: m.id || "" } },
      modelLine(m.model),
      m.reasoning ? reasoningPanel(m.reasoning).el : null,
      body,
      sourcesList(m.extras?.citations),
      gallery(m.extras?.images),
      howItWasMade(m, modelName),
      failed ? h("p", { class: "msg-error error-text", role: "alert" }, m.error || "The answer failed.") : null,
      h("div", { class: "msg-meta small muted" }, metaText(m)),
      actions);
  }

  function regenerateButton(label = "Regenerate") {
    const button = h("button", { type: "button", class: "link-button" }, label);
    button.addEventListener("click", () => onRegenerate());
    return button;
  }

  // An answer that a later one replaced: kept, folded away.
  function superseded(m) {
    return h("details", { class: "superseded" },
      h("summary", { class: "small muted" },
        `Earlier answer · ${modelName(m.model)}${m.status === "failed" ? " (failed)" : ""}`),
      answerEl(m, { last: false }));
  }

  function render(messages) {
    const nodes = messages.map((m, i) => {
      if (m.role === "user") return userEl(m);
      const next = messages[i + 1];
      if (next && next.role === "assistant") return superseded(m);
      return answerEl(m, { last: i === messages.length - 1 });
    });
    const lastMessage = messages[messages.length - 1];
    if (lastMessage && lastMessage.role === "user") {
      nodes.push(h("div", { class: "msg-actions unanswered" },
        h("span", { class: "muted small" }, "No answer yet."), regenerateButton("Answer")));
    }
    list.replaceChildren(...(nodes.length ? nodes : [emptyState()]));
    scrollToEnd();
  }

  function appendUser(text) {
    list.querySelector(".empty")?.remove();
    const article = userEl({ content: text });
    stick(() => list.append(article));
    scrollToEnd();
    return { setId: (id) => { article.dataset.id = id; } };
  }

  // Drops a message and everything after it from view (an edit replaces them).
  function truncateFrom(id) {
    const from = list.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!from) return;
    let node = from.closest(".thread-messages > *");
    while (node) { const next = node.nextSibling; node.remove(); node = next; }
  }

  function notice(message) {
    stick(() => list.append(h("p", { class: "notice error-text", role: "alert" }, message)));
  }

  function live(modelId) {
    let text = "";
    let reasoning = null;
    let sources = null;
    let sourcesEl = null; // replaced by the final list, which marks the sources the answer cited
    let picture = null; // a picture being drawn in this turn
    let userOpened = false;
    let frame = 0;
    const head = modelLine(modelId);
    const body = h("div", { class: "md" });
    const state = h("div", { class: "msg-meta small muted" }, h("span", { class: "typing" }, "Writing…"));
    const actions = h("div", { class: "msg-actions" });
    const article = h("article", { class: "msg assistant streaming", "aria-busy": "true" }, head, body, state, actions);
    stick(() => list.append(article));

    const paint = () => {
      frame = 0;
      stick(() => {
        renderMarkdown(body, text, { final: false });
        if (reasoning) reasoning.body.textContent = reasoning.text;
      });
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(paint); };
    const settle = () => {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      renderMarkdown(body, text);
      linkMarkers(body, sources);
      article.classList.remove("streaming");
      article.removeAttribute("aria-busy");
      if (reasoning) reasoning.summary.textContent = "Reasoning";
    };

    return {
      setModel(id) { head.replaceWith(modelLine(id)); },
      citations(items) {
        sources = items;
        const list = sourcesList(items);
        const old = sourcesEl;
        sourcesEl = list;
        if (list) stick(() => (old ? old.replaceWith(list) : body.after(list)));
        else if (old) old.remove();
      },
      image(event) {
        if (!picture) { picture = drawing(); stick(() => body.after(picture.el)); }
        stick(() => picture.update(event));
      },
      reasoning(delta) {
        if (!reasoning) {
          reasoning = { ...reasoningPanel("", true), text: "" };
          reasoning.summary.textContent = "Reasoning…";
          reasoning.summary.addEventListener("click", () => { userOpened = true; });
          head.after(reasoning.el);
        }
        reasoning.text += delta;
        schedule();
      },
      text(delta) {
        if (reasoning && !text && !userOpened) reasoning.el.open = false;
        text += delta;
        schedule();
      },
      usage(u) {
        state.replaceChildren(h("span", { class: "typing" }, "Writing…"),
          ` ${tokens(u.prompt_tokens)} in · ${tokens(u.completion_tokens)} out`);
      },
      stopped() {
        settle();
        state.replaceChildren(h("span", { class: "badge warn" }, "Stopped"), " The answer was cut short.");
        actions.replaceChildren(...(text ? [copyButton(() => text)] : []), regenerateButton());
      },
      failed(message) {
        settle();
        state.replaceChildren();
        article.classList.add("failed");
        state.before(h("p", { class: "msg-error error-text", role: "alert" }, message));
      },
      remove() { if (frame) cancelAnimationFrame(frame); article.remove(); },
    };
  }

  return { el, render, appendUser, truncateFrom, notice, live, scrollToEnd };
}
