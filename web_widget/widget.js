// The chat widget: one script tag embeds it on any page,
//   <script type="module" src="https://portal.example/widget.js"></script>
// It injects its own styles and DOM (in a shadow root, so the host page's CSS and ours do not
// mix), talks to the hub's Socket.IO namespace /chat, and inserts every message as text.
//
// Delivery: each message gets a client_msg_id and stays in localStorage until the server acks
// it; after a reconnect the un-acked ones are sent again with the same id (the bridge drops
// duplicates). conversation_id and last_seq are kept too, so the server replays what we missed.

import { getLanguage, setLanguage, t, onLanguageChange } from "./i18n.js";

const ORIGIN = new URL(import.meta.url).origin;
const CLIENT_URL = ORIGIN + "/node_modules/socket.io-client/dist/socket.io.esm.min.js";
const STATE_KEY = "mp_chat";
const TRANSCRIPT_KEY = "mp_chat_transcript";
const MAX_KEPT = 100;
const ACK_TIMEOUT_MS = 15000;
const MAX_TEXT = 1000;

const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b2733; }
.bubble { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; width: 56px; height: 56px;
  border-radius: 50%; border: 0; background: #0b5394; color: #fff; cursor: pointer;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; }
.bubble svg { width: 28px; height: 28px; fill: currentColor; }
.bubble:focus-visible, button:focus-visible, textarea:focus-visible, select:focus-visible, a:focus-visible {
  outline: 3px solid #f1c232; outline-offset: 2px; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #cc0000; color: #fff; font-size: 13px; font-weight: 700;
  line-height: 22px; text-align: center; }
.badge[hidden] { display: none; }
.panel { position: fixed; right: 16px; bottom: 84px; z-index: 2147483001; width: 380px;
  max-width: calc(100vw - 16px); height: min(600px, calc(100vh - 100px)); display: flex;
  flex-direction: column; background: #fff; border-radius: 12px; overflow: hidden;
  box-shadow: 0 8px 30px rgba(0,0,0,.3); }
.panel[hidden] { display: none; }
@media (max-width: 480px) {
  .panel { right: 0; left: 0; bottom: 0; top: 0; width: 100%; max-width: 100%; height: 100%;
    border-radius: 0; }
  .panel:not([hidden]) ~ .bubble { display: none; }
}
.head { display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: #0b5394; color: #fff; }
.head h2 { font-size: 16px; margin: 0; flex: 1; min-width: 0; }
.status { display: block; font-size: 12px; font-weight: 400; opacity: .9; }
.status.offline { color: #ffd966; font-weight: 700; opacity: 1; }
.head select { font: inherit; font-size: 13px; padding: 2px 4px; border-radius: 4px; border: 0; }
.icon { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; cursor: pointer;
  padding: 4px 8px; border-radius: 4px; }
.banner { padding: 6px 12px; background: #fff2cc; font-size: 13px; }
.banner[hidden] { display: none; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px;
  background: #f4f7fa; }
.msg { max-width: 85%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: #0b5394; color: #fff; border-bottom-right-radius: 2px; }
.msg.bot, .msg.staff { align-self: flex-start; background: #fff; border: 1px solid #d5dde5;
  border-bottom-left-radius: 2px; }
.msg.staff { border-color: #6aa84f; }
.msg.system { align-self: center; background: transparent; color: #5b6770; font-size: 13px; text-align: center; }
.msg.failed { background: #f4cccc; color: #1b2733; }
.who { display: block; font-size: 12px; font-weight: 700; color: #38761d; }
.meta { display: block; font-size: 11px; opacity: .75; margin-top: 2px; text-align: right; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.buttons button { font: inherit; font-size: 14px; padding: 6px 10px; border-radius: 16px;
  border: 1px solid #0b5394; background: #fff; color: #0b5394; cursor: pointer; text-align: left; }
.buttons button:disabled { opacity: .5; cursor: default; }
.links a { display: block; color: #0b5394; margin-top: 4px; }
.typing { padding: 0 12px 6px; font-size: 13px; color: #5b6770; background: #f4f7fa; min-height: 1.4em; }
.typing[hidden] { visibility: hidden; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #d5dde5; background: #fff; }
textarea { flex: 1; min-width: 0; font: inherit; resize: none; padding: 8px; border: 1px solid #8a99a6;
  border-radius: 8px; height: 42px; }
.send { font: inherit; font-weight: 600; padding: 0 14px; border: 0; border-radius: 8px; background: #0b5394;
  color: #fff; cursor: pointer; }
.human { font: inherit; font-size: 13px; margin: 0 8px 8px; padding: 6px; border: 1px solid #8a99a6;
  background: #fff; border-radius: 8px; cursor: pointer; color: #1b2733; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const ICON_PATH = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";

function icon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICON_PATH);
  svg.append(path);
  return svg;
}

/**
 * Give the shadow root its styles as a constructed stylesheet. A `<style>` element would be an
 * inline style, refused by a Content-Security-Policy without 'unsafe-inline' in style-src (the
 * hub's own pages, and any embedding site with a strict policy). CSP 3 governs style elements,
 * linked stylesheets and style attributes (style-src-elem, style-src-attr), not a stylesheet
 * built through CSSOM, so the widget needs nothing in the host page's style-src.
 * Browsers without constructable stylesheets (Safari < 16.4) get the `<style>` element.
 */
function adoptStyles(shadow) {
  if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    shadow.adoptedStyleSheets = [sheet];
    return;
  }
  const style = document.createElement("style");
  style.textContent = STYLES;
  shadow.prepend(style);
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A link the assistant sent, as an absolute http(s) URL, or null. A relative one is a page of
 * the portal, so it is resolved against the hub's origin, not the embedding page's; any other
 * scheme (javascript:, data:) is dropped.
 */
function linkUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value, ORIGIN);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function randomId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadJson(storage, key, fallback) {
  try {
    return JSON.parse(storage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

/** One chat widget on the page. */
class ChatWidget {
  constructor() {
    const saved = loadJson(localStorage, STATE_KEY, {});
    this.conversationId = saved.conversation_id || null;
    this.lastSeq = Number(saved.last_seq) || 0;
    this.pending = Array.isArray(saved.pending) ? saved.pending : [];
    const kept = loadJson(sessionStorage, TRANSCRIPT_KEY, {});
    this.transcript =
      kept.conversation_id === this.conversationId && Array.isArray(kept.items) ? kept.items : [];
    this.seen = new Set(this.transcript.filter((m) => m.seq).map((m) => m.seq));
    this.socket = null;
    this.unread = 0;
    this.handoff = "bot";
    this.staffName = null;
    this.online = false;
    this.build();
    this.renderAll();
    onLanguageChange(() => this.languageChanged());
    if (this.conversationId || this.pending.length) this.connect();
  }

  // -- DOM ------------------------------------------------------------------------------------

  build() {
    this.host = el("div", { id: "mp-chat-widget" });
    const shadow = this.host.attachShadow({ mode: "open" });
    this.root = el("div", { class: "root" });
    shadow.append(this.root);
    adoptStyles(shadow);

    this.panel = el("section", { class: "panel", role: "dialog", "aria-modal": "false", hidden: "" });
    this.panel.id = "mp-chat-panel";
    const head = el("div", { class: "head" });
    this.title = el("h2", { id: "mp-chat-title" });
    this.status = el("span", { class: "status", role: "status" });
    this.title.append(document.createTextNode(""), this.status);
    this.panel.setAttribute("aria-labelledby", "mp-chat-title");
    this.langSelect = el("select", { class: "lang" });
    for (const code of ["pl", "en"]) this.langSelect.append(el("option", { value: code }, code.toUpperCase()));
    this.langSelect.addEventListener("change", () => setLanguage(this.langSelect.value));
    this.closeButton = el("button", { type: "button", class: "icon close" }, "×");
    this.closeButton.addEventListener("click", () => this.close());
    head.append(this.title, this.langSelect, this.closeButton);

    this.banner = el("div", { class: "banner", role: "status", hidden: "" });
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
    this.typing = el("div", { class: "typing", "aria-live": "polite", hidden: "" });
    this.form = el("form", {});
    this.input = el("textarea", { rows: "1", maxlength: String(MAX_TEXT), name: "text" });
    this.inputLabel = el("label", { class: "sr", for: "mp-chat-input" });
    this.input.id = "mp-chat-input";
    this.sendButton = el("button", { type: "submit", class: "send" });
    this.form.append(this.inputLabel, this.input, this.sendButton);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText(this.input.value);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendText(this.input.value);
      }
    });
    this.humanButton = el("button", { type: "button", class: "human" });
    this.humanButton.addEventListener("click", () => this.requestHuman());
    this.panel.append(head, this.banner, this.log, this.typing, this.form, this.humanButton);
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });

    this.bubble = el("button", {
      type: "button",
      class: "bubble",
      "aria-expanded": "false",
      "aria-controls": "mp-chat-panel",
    });
    this.badge = el("span", { class: "badge", hidden: "" });
    this.bubble.append(icon(), this.badge);
    this.bubble.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.root.append(this.panel, this.bubble);
    document.body.append(this.host);
    if (window.ResizeObserver) new ResizeObserver(() => this.scroll()).observe(this.log);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && !this.panel.hidden) {
        this.unread = 0;
        this.renderBadge();
      }
    });
    this.applyTexts();
  }

  applyTexts() {
    const lang = getLanguage();
    this.root.setAttribute("lang", lang);
    this.langSelect.value = lang;
    this.langSelect.setAttribute("aria-label", t("widget.language"));
    this.title.firstChild.textContent = t("widget.title");
    this.closeButton.setAttribute("aria-label", t("widget.close"));
    this.log.setAttribute("aria-label", t("widget.log"));
    this.input.placeholder = t("widget.placeholder");
    this.inputLabel.textContent = t("widget.placeholder");
    this.sendButton.textContent = t("widget.send");
    this.humanButton.textContent = t("widget.human");
    this.renderStatus();
    this.renderBadge();
    this.renderHandoff();
  }

  renderStatus() {
    const state = this.online ? "online" : this.socket ? "offline" : "idle";
    this.status.textContent = state === "idle" ? "" : t("widget." + state);
    this.status.className = "status " + state;
    this.panel.dataset.connection = state;
  }

  renderBadge() {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = this.unread > 9 ? "9+" : String(this.unread);
    const label = this.unread ? t("widget.open_unread", { count: this.unread }) : t("widget.open");
    this.bubble.setAttribute("aria-label", label);
  }

  renderHandoff() {
    let text = "";
    if (this.handoff === "waiting") text = t("widget.handoff_waiting");
    else if (this.handoff === "human") {
      text = this.staffName ? t("widget.handoff_human_named", { name: this.staffName }) : t("widget.handoff_human");
    }
    this.banner.textContent = text;
    this.banner.hidden = !text;
    this.humanButton.hidden = this.handoff !== "bot";
  }

  renderAll() {
    this.log.replaceChildren();
    for (const message of this.transcript) this.log.append(this.renderMessage(message));
    this.scroll();
  }

  renderMessage(message) {
    const node = el("div", { class: "msg " + message.from });
    node.dataset.from = message.from;
    if (message.client_msg_id) node.dataset.clientMsgId = message.client_msg_id;
    if (message.seq) node.dataset.seq = String(message.seq);
    if (message.from === "staff") node.append(el("span", { class: "who" }, message.name || t("widget.staff")));
    if (message.from === "system") {
      // Notes of the bridge (handoff) carry their text; the widget's own notes a key.
      node.textContent = message.key ? t(message.key) : message.text;
      return node;
    }
    node.append(el("span", { class: "text" }, message.text));
    if (message.buttons && message.buttons.length) {
      const group = el("div", { class: "buttons", role: "group", "aria-label": t("widget.choices") });
      const last = this.transcript[this.transcript.length - 1] === message;
      for (const button of message.buttons) {
        const b = el("button", { type: "button" }, button.title);
        b.disabled = !last;
        b.addEventListener("click", () => this.sendText(button.payload, button.title));
        group.append(b);
      }
      node.append(group);
    }
    if (message.links && message.links.length) {
      const group = el("div", { class: "links" });
      for (const link of message.links) {
        const url = linkUrl(typeof link === "string" ? link : link.url || link.href);
        if (!url) continue;
        const a = el("a", { href: url, rel: "noopener" }, (link && link.title) || url);
        group.append(a);
      }
      node.append(group);
    }
    const meta = el("span", { class: "meta" });
    const time = message.at ? this.time(message.at) : "";
    const state = message.state === "sending" ? t("widget.sending") : message.state === "failed" ? message.error || t("widget.failed") : "";
    meta.textContent = [time, state].filter(Boolean).join(" · ");
    if (message.at) meta.title = new Date(message.at).toLocaleString(getLanguage());
    node.append(meta);
    if (message.state === "failed") node.classList.add("failed");
    return node;
  }

  time(iso) {
    return new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", {
      hour: "2-digit",
      minute: "2-digit",
    }).format(new Date(iso));
  }

  scroll() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  add(message) {
    this.transcript.push(message);
    if (this.transcript.length > MAX_KEPT) this.transcript.splice(0, this.transcript.length - MAX_KEPT);
    // Earlier quick replies are no longer the current choice.
    this.log.querySelectorAll(".buttons button").forEach((b) => (b.disabled = true));
    this.log.append(this.renderMessage(message));
    this.scroll();
    this.save();
  }

  update(message) {
    const old = this.log.querySelector(`[data-client-msg-id="${CSS.escape(message.client_msg_id)}"]`);
    if (old) old.replaceWith(this.renderMessage(message));
    this.save();
  }

  save() {
    localStorage.setItem(
      STATE_KEY,
      JSON.stringify({ conversation_id: this.conversationId, last_seq: this.lastSeq, pending: this.pending }),
    );
    sessionStorage.setItem(
      TRANSCRIPT_KEY,
      JSON.stringify({ conversation_id: this.conversationId, items: this.transcript }),
    );
  }

  open() {
    this.panel.hidden = false;
    this.bubble.setAttribute("aria-expanded", "true");
    this.unread = 0;
    this.renderBadge();
    if (!this.socket) this.connect();
    this.scroll();
    this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.bubble.setAttribute("aria-expanded", "false");
    this.bubble.focus();
  }

  languageChanged() {
    this.applyTexts();
    this.renderAll();
    if (this.socket && this.socket !== "loading") {
      // The language travels in the connect auth (read afresh at every connect): reconnect so
      // the assistant switches too.
      this.socket.disconnect().connect();
    }
  }

  // -- connection -----------------------------------------------------------------------------

  auth() {
    const auth = { language: getLanguage() };
    if (this.conversationId) {
      auth.conversation_id = this.conversationId;
      auth.last_seq = this.lastSeq;
    }
    return auth;
  }

  async connect() {
    if (this.socket) return;
    this.socket = "loading";
    let io;
    try {
      ({ io } = await import(CLIENT_URL));
    } catch (error) {
      this.socket = null;
      this.online = false;
      this.status.textContent = t("widget.unavailable");
      this.status.className = "status offline";
      this.panel.dataset.connection = "offline";
      return;
    }
    const socket = io(ORIGIN + "/chat", {
      auth: (cb) => cb(this.auth()),
      withCredentials: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    this.renderStatus();
    socket.on("connect", () => {
      this.online = true;
      this.renderStatus();
      this.flush();
    });
    socket.on("disconnect", (reason) => {
      this.online = false;
      this.renderStatus();
      this.showTyping(null);
      // The server closed us on purpose (e.g. a restart): the client would not retry alone.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
    });
    socket.on("connect_error", (error) => {
      this.online = false;
      this.renderStatus();
      if (socket.active) return; // the client retries by itself
      // Refused by the server (e.g. an expired login): say so, and try again now and then.
      if (error && error.data && error.data.code === "session_invalid") {
        this.status.textContent = t("widget.session_expired");
      }
      setTimeout(() => socket.connect(), 15000);
    });
    socket.on("conversation", (info) => this.onConversation(info));
    socket.on("bot_message", (message) => this.onBotMessage(message));
    socket.on("typing", (event) => this.showTyping(event && event.active ? event.from : null));
    socket.on("handoff", (event) => this.onHandoff(event));
  }

  onConversation(info) {
    if (!info || !info.conversation_id) return;
    if (info.conversation_id !== this.conversationId) {
      // A new conversation (first visit, another account, or the old one ended).
      this.conversationId = info.conversation_id;
      this.lastSeq = 0;
      this.seen = new Set();
      this.transcript = this.transcript.filter((m) => m.state === "sending");
      this.renderAll();
    }
    if (info.state) this.onHandoff({ state: info.state === "human" || info.state === "waiting" ? info.state : "bot" });
    this.save();
    this.flush();
  }

  onBotMessage(message) {
    if (!message) return;
    if (message.conversation_id && this.conversationId && message.conversation_id !== this.conversationId) return;
    if (message.seq) {
      if (this.seen.has(message.seq)) return;
      this.seen.add(message.seq);
      this.lastSeq = Math.max(this.lastSeq, message.seq);
    }
    this.showTyping(null);
    const from = message.from === "staff" || message.from === "system" ? message.from : "bot";
    this.add({
      from,
      name: message.staff_name || (message.from === "staff" ? this.staffName : null),
      text: String(message.text ?? ""),
      buttons: Array.isArray(message.buttons) ? message.buttons.filter((b) => b && b.title) : [],
      links: Array.isArray(message.links) ? message.links : [],
      seq: message.seq,
      at: message.at || new Date().toISOString(),
    });
    if ((this.panel.hidden || document.hidden) && from !== "system") {
      this.unread += 1;
      this.renderBadge();
    }
  }

  onHandoff(event) {
    if (!event) return;
    this.handoff = event.state || "bot";
    if (event.staff_name) this.staffName = event.staff_name;
    if (this.handoff === "bot") this.staffName = null;
    this.renderHandoff();
  }

  showTyping(from) {
    this.typing.hidden = !from;
    this.typing.textContent = !from ? "" : from === "staff" ? t("widget.typing_staff") : t("widget.typing_bot");
  }

  // -- sending --------------------------------------------------------------------------------

  sendText(raw, shown) {
    const text = String(raw || "").trim();
    if (!text) return;
    if (text.length > MAX_TEXT) {
      this.add({ from: "system", key: "widget.too_long", at: new Date().toISOString() });
      return;
    }
    const message = {
      from: "user",
      text: shown || text,
      payload: text,
      client_msg_id: randomId(),
      at: new Date().toISOString(),
      state: "sending",
    };
    if (raw === this.input.value) this.input.value = "";
    this.pending.push({ client_msg_id: message.client_msg_id, text });
    this.add(message);
    if (!this.socket) this.connect();
    else this.flush();
  }

  /** Send every un-acked message, in order, with its original client_msg_id. */
  flush() {
    const socket = this.socket;
    if (!socket || socket === "loading" || !socket.connected) return;
    for (const item of this.pending) {
      if (item.inFlight === socket.id) continue;
      item.inFlight = socket.id;
      socket
        .timeout(ACK_TIMEOUT_MS)
        .emit("user_message", { text: item.text, client_msg_id: item.client_msg_id }, (error, ack) => {
          item.inFlight = null;
          if (error) return; // no ack in time: it stays pending and goes again on reconnect
          this.acked(item, ack || {});
        });
    }
  }

  acked(item, ack) {
    this.pending = this.pending.filter((p) => p.client_msg_id !== item.client_msg_id);
    const message = this.transcript.find((m) => m.client_msg_id === item.client_msg_id);
    if (message) {
      if (ack.ok) {
        message.state = "sent";
        if (ack.seq) {
          message.seq = ack.seq;
          this.seen.add(ack.seq);
          this.lastSeq = Math.max(this.lastSeq, ack.seq);
        }
      } else {
        message.state = "failed";
        message.error = ack.message || t("widget.failed");
      }
      this.update(message);
    } else {
      this.save();
    }
  }

  requestHuman() {
    if (!this.socket) this.connect();
    const ask = () => {
      this.socket.timeout(ACK_TIMEOUT_MS).emit("request_human", {}, (error, ack) => {
        if (error || (ack && ack.ok === false)) {
          this.add({ from: "system", key: "widget.human_failed", at: new Date().toISOString() });
          return;
        }
        this.onHandoff({ state: (ack && ack.state) || "waiting" });
      });
    };
    if (this.socket && this.socket !== "loading" && this.socket.connected) ask();
    else {
      const wait = setInterval(() => {
        if (this.socket && this.socket !== "loading" && this.socket.connected) {
          clearInterval(wait);
          ask();
        }
      }, 200);
      setTimeout(() => clearInterval(wait), 10000);
    }
  }
}

if (!window.__mpChatWidget) {
  const start = () => (window.__mpChatWidget = new ChatWidget());
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}
