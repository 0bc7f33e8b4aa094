// The Chat page: conversation list, model picker, thread and composer on one screen, and the turns
// run over the conversation API (send and follow-up, switch model, stop, regenerate, edit-and-resend).
// #/chat is a new conversation, #/chat/<id> an existing one. A turn that is streaming keeps going
// when another conversation is opened; Stop aborts the request and the server records it as stopped.
import { api, stream } from "../api.js";
import { h, toast } from "../ui.js";
import { composer as makeComposer } from "./chat/composer.js";
import { conversationList } from "./chat/list.js";
import { modelPicker } from "./chat/models.js";
import { thread as makeThread } from "./chat/thread.js";
import { searchWithChoice, webToggle } from "./chat/citations.js";
import { imageModelPicker } from "./chat/images.js";
import { attachControl, editedContent, thinkFirstToggle } from "./chat/vision.js";

const MODEL_KEY = "easel.chat.model";
const STYLES = [
  ["/static/pages/chat.css", undefined, true],
  ["/static/pages/chat/citations.css", undefined, true],
  ["/static/pages/chat/images.css", undefined, true],
  ["/static/pages/chat/vision.css", undefined, true],
  ["/static/vendor/highlight/github.min.css", "not all and (prefers-color-scheme: dark)", false],
  ["/static/vendor/highlight/github-dark.min.css", "(prefers-color-scheme: dark)", false],
];

function loadStyles() {
  return Promise.all(STYLES.map(([href, media, wait]) => {
    if (document.querySelector(`link[href="${href}"]`)) return null;
    const link = h("link", { rel: "stylesheet", href, media });
    const ready = new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
    document.head.append(link);
    return wait ? ready : null;
  }));
}

const conversationUrl = (id) => `/api/conversations/${encodeURIComponent(id)}`;

function emptyState() {
  return h("div", { class: "empty chat-empty" },
    h("p", { class: "chat-empty-title" }, "Ask anything."),
    h("p", { class: "small" }, "Pick a language model above; you can switch model at any point, and each reply "
      + "shows which model wrote it, with its tokens and cost."));
}

export async function mount(root, { rest }) {
  await loadStyles();
  let alive = true;
  let conv = null; // the open conversation (record fields), or null for a new one
  const turns = new Map(); // conversation id -> AbortController of its streaming turn

  const web = webToggle({ onChange: (mode) => searchWith.show(picker.model(picker.value()), mode) });
  const searchWith = searchWithChoice();
  const picker = modelPicker({ onChange: (id) => localStorage.setItem(MODEL_KEY, id),
    onShown: (model) => { searchWith.show(model, web.value()); composer.refresh(); } });
  const list = conversationList({ onOpen: (id) => open(id, true), onDeleted, onRenamed });
  const thread = makeThread({ modelName, onEdit, onRegenerate: regenerate, emptyState });
  const painter = imageModelPicker({ onChange: setImageModel });
  const attach = attachControl();
  const think = thinkFirstToggle();
  const composer = makeComposer({ onSend: send, onStop: () => turns.get(conv?.id)?.abort(),
    tools: [web.el, searchWith.el, painter.el, attach.el, think.el], beside: [attach.compact],
    describe: () => [web, searchWith, painter, think].map((option) => option.label()).filter(Boolean).join(" · "),
    ready: () => attach.count() > 0 });
  composer.el.querySelector(".composer-box").after(attach.strip);
  attach.watch(composer.el);
  const title = h("h1", { class: "chat-title" }, "New chat");
  const toggle = h("button", { type: "button", class: "chat-toggle", "aria-expanded": "false",
    "aria-controls": "chat-side" }, "Chats");
  const fresh = h("button", { type: "button", class: "chat-new" }, "New chat");
  const side = h("aside", { class: "chat-side", id: "chat-side", "aria-label": "Conversations" }, list.el);
  const layout = h("div", { class: "chat" }, side,
    h("section", { class: "chat-main", "aria-label": "Conversation" },
      h("header", { class: "chat-head" }, toggle, title, picker.el, fresh), thread.el, composer.el));
  root.append(layout);

  // Focusing the box opens a phone's keyboard over the thread: only do it where there is a mouse.
  const focusComposer = () => { if (matchMedia("(hover: hover)").matches) composer.focus(); };

  function modelName(id) {
    return picker.model(id)?.display_name || id || "Model";
  }

  function fit() {
    const pad = parseFloat(getComputedStyle(root).paddingBottom) || 0;
    layout.style.height = `${Math.max(320, window.innerHeight - layout.getBoundingClientRect().top - pad)}px`;
  }

  function showSide(open) {
    layout.classList.toggle("side-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  }

  function setConversation(record) {
    conv = record;
    title.textContent = record ? record.title || "Untitled" : "New chat";
    list.select(record?.id || null);
    painter.set(record?.image_model || null);
    composer.refresh();
    composer.setBusy(Boolean(record && turns.has(record.id)));
  }

  function startNew(push) {
    setConversation(null);
    thread.render([]);
    if (push) history.pushState(null, "", "#/chat");
    const last = localStorage.getItem(MODEL_KEY);
    picker.set((last && picker.model(last) ? last : null) || list.first()?.model || null);
    showSide(false);
    focusComposer();
  }

  async function open(id, push) {
    showSide(false);
    try {
      const detail = await api(conversationUrl(id));
      if (!alive) return;
      if (push) history.pushState(null, "", `#/chat/${encodeURIComponent(id)}`);
      setConversation(detail);
      picker.set(detail.model);
      thread.render(detail.messages);
      focusComposer();
    } catch (err) {
      toast(err.status === 404 ? "That conversation no longer exists." : `Could not open it: ${err.message}`, "error");
      history.replaceState(null, "", "#/chat");
      startNew(false);
    }
  }

  // The picker sets the open conversation's image model at once; a new chat is created with it.
  async function setImageModel(id) {
    if (!conv) return;
    try {
      const record = await api(conversationUrl(conv.id), { method: "PATCH", body: { image_model: id } });
      conv = { ...conv, image_model: record.image_model };
    } catch (err) {
      toast(`Could not change the image model: ${err.message}`, "error");
    }
  }

  function onDeleted(id) {
    if (conv?.id !== id) return;
    history.replaceState(null, "", "#/chat");
    startNew(false);
  }

  function onRenamed(record) {
    if (conv?.id === record.id) { conv = { ...conv, title: record.title }; title.textContent = record.title; }
  }

  async function send(text) {
    if (conv && turns.has(conv.id)) return;
    if (attach.busy()) { toast("An image is still uploading.", "error"); return; }
    const content = attach.content(text); // the text, or text and image parts
    attach.clear();
    composer.setText("");
    if (!conv) {
      const model = picker.value();
      try {
        const created = await api("/api/conversations", { method: "POST",
          body: { ...(model ? { model } : {}), ...(painter.value() ? { image_model: painter.value() } : {}) } });
        history.pushState(null, "", `#/chat/${encodeURIComponent(created.id)}`);
        setConversation(created);
        picker.set(created.model);
        list.upsert(created);
        await runTurn({ path: `${conversationUrl(created.id)}/messages`, body: { content }, userText: text,
          fresh: true });
      } catch (err) {
        composer.setText(text);
        toast(`Could not start the conversation: ${err.message}`, "error");
      }
      return;
    }
    await runTurn({ path: `${conversationUrl(conv.id)}/messages`, body: { content, model: picker.value() },
      userText: text });
  }

  function regenerate() {
    if (!conv || turns.has(conv.id)) return;
    runTurn({ path: `${conversationUrl(conv.id)}/retry`, body: { model: picker.value() } });
  }

  function onEdit(messageId, text, parts) {
    if (!conv || turns.has(conv.id)) return;
    runTurn({ path: `${conversationUrl(conv.id)}/messages`, body: { content: editedContent(text, parts), edit_of: messageId,
      model: picker.value() }, userText: text, editOf: messageId });
  }

  // One turn: the user's message (if any) shown at once, the answer streamed into a live bubble,
  // then the stored conversation read back and drawn (ids, tokens, cost, the regenerate button).
  async function runTurn({ path, body, userText, editOf, fresh = false }) {
    const convId = conv.id;
    const here = () => alive && conv?.id === convId;
    const controller = new AbortController();
    if (web.value() !== "off") body = { ...body, web_search: web.value() };
    if (searchWith.value()) body = { ...body, web_search_backend: searchWith.value() };
    if (think.value()) body = { ...body, think_first: true };
    turns.set(convId, controller);
    composer.setBusy(true);
    const known = new Set([...thread.el.querySelectorAll("[data-id]")].map((n) => n.dataset.id).filter(Boolean));
    if (editOf) thread.truncateFrom(editOf);
    const user = userText === undefined ? null : thread.appendUser(userText);
    const live = thread.live(body.model || conv.model);
    let outcome = "done";
    let failure = null;
    try {
      await stream(path, { body: { ...body, stream: true }, signal: controller.signal, onEvent(name, data) {
        if (name === "start") { user?.setId(data.user_message_id || ""); live.setModel(data.model); }
        else if (name === "reasoning") live.reasoning(data.text);
        else if (name === "text") live.text(data.text);
        else if (name === "usage") live.usage(data);
        else if (name === "citations") live.citations(data.citations);
        else if (name === "image") live.image(data);
        else if (name === "error") live.failed(data.error?.message || "The answer failed.");
      } });
    } catch (err) {
      if (err.name === "AbortError") { outcome = "stopped"; live.stopped(); }
      else { outcome = "refused"; failure = err; }
    } finally {
      turns.delete(convId);
      if (here()) composer.setBusy(false);
    }
    let detail;
    try {
      detail = await api(conversationUrl(convId));
    } catch (err) {
      if (here()) thread.notice(`Could not read the conversation back: ${err.message}`);
      return;
    }
    list.upsert(detail);
    if (!here()) return;
    setConversation(detail);
    // A stopped answer is still being recorded by the server: keep the partial one on screen.
    if (outcome === "stopped") return;
    thread.render(detail.messages);
    if (!layout.contains(document.activeElement)) focusComposer(); // its button was redrawn away
    if (!failure) return;
    // An error before the stream began: either a failed answer was stored (it is drawn above,
    // with its message) or the turn was refused and nothing was kept: say why, give the text back.
    const stored = detail.messages.some((m) => !known.has(m.id));
    if (stored) return;
    if (userText !== undefined && !composer.text().trim()) composer.setText(userText);
    if (fresh && !detail.messages.length) {
      await api(conversationUrl(convId), { method: "DELETE" }).catch(() => null);
      list.remove(convId);
      history.replaceState(null, "", "#/chat");
      setConversation(null);
      thread.render([]);
    }
    thread.notice(failure.message);
  }

  toggle.addEventListener("click", () => showSide(!layout.classList.contains("side-open")));
  layout.lastElementChild.addEventListener("pointerdown", (event) => {
    if (layout.classList.contains("side-open") && !toggle.contains(event.target)) showSide(false);
  });
  fresh.addEventListener("click", () => startNew(true));
  layout.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && layout.classList.contains("side-open")) { showSide(false); toggle.focus(); }
  });
  window.addEventListener("resize", fit);
  fit();

  const listed = list.reload();
  try { await picker.load(); } catch (err) { toast(`Could not load the models: ${err.message}`, "error"); }
  painter.load().then(composer.refresh).catch((err) => toast(`Could not load the image models: ${err.message}`, "error"));
  if (rest[0]) await open(decodeURIComponent(rest[0]), false);
  else { await listed; startNew(false); }

  return () => {
    alive = false;
    window.removeEventListener("resize", fit);
    picker.destroy();
    list.destroy();
    composer.destroy();
  };
}
