// The consultation room's chat (docs/consult-protocol.md, "chat"): each message goes out with a
// `client_msg_id` and stays in an outbox (sessionStorage, so it survives a reload) until the
// hub's ack carries the stored copy; the log shows stored messages once each, in `seq` order,
// and a rejoin asks only for what came after the last `seq` seen: no gap and no duplicate.
import { h, t, notice, randomId, getLanguage, field } from "../app.js";
import { request, refusal } from "./consult-socket.js";

const OUTBOX_KEY = "mp_consult_outbox:";
const MAX_TEXT = 2000;

function clock(iso) {
  const when = iso ? new Date(iso) : new Date();
  return new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Warsaw",
  }).format(when);
}

/**
 * The chat of the room `appointmentId`, written as `role` on `socket`. `canSend()` says whether
 * the room is joined (messages wait in the outbox until it is). `status` is the panel's notice
 * line, which the room uses for its own notices too.
 */
export class RoomChat {
  constructor({ socket, appointmentId, role, canSend }) {
    this.socket = socket;
    this.id = appointmentId;
    this.role = role;
    this.canSend = canSend;
    this.lastSeq = 0;
    this.shown = new Set();
    this.outbox = this.loadOutbox();
    this.log = h("ol", { class: "room-chat-log", id: "room-chat-log", role: "log", "aria-live": "polite", "aria-label": t("room.chat"), tabindex: "0" });
    this.input = h("textarea", { id: "room-chat-text", name: "text", rows: "2", maxlength: String(MAX_TEXT) });
    this.form = h("form", { class: "form room-chat-form", id: "room-chat-form" }, field("room.chat_label", this.input), h("button", { type: "submit" }, t("room.send")));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.send();
      }
    });
    this.status = h("div", { "aria-live": "polite" });
    this.element = h("section", { class: "panel-box", "aria-labelledby": "chat-title" }, h("h3", { id: "chat-title" }, t("room.chat")), this.log, this.form, this.status);
  }

  /** Whether the form shows (while the room is open). */
  set open(value) {
    this.form.hidden = !value;
  }

  /** The consultation has ended: nothing is left to send. */
  close() {
    this.open = false;
    this.outbox.clear();
    this.saveOutbox();
  }

  loadOutbox() {
    try {
      return new Map(JSON.parse(sessionStorage.getItem(OUTBOX_KEY + this.id) || "[]"));
    } catch {
      return new Map();
    }
  }

  saveOutbox() {
    if (this.outbox.size) sessionStorage.setItem(OUTBOX_KEY + this.id, JSON.stringify([...this.outbox]));
    else sessionStorage.removeItem(OUTBOX_KEY + this.id);
  }

  line(sender, name, text, at, mine) {
    return h(
      "li",
      { class: "msg msg-" + sender + (mine ? " mine" : "") },
      h("span", { class: "who" }, mine ? t("room.you") : name || t("room.who_" + sender)),
      " ",
      h("time", { class: "at", datetime: at || "" }, clock(at)),
      h("p", {}, text),
    );
  }

  pendingLine(id) {
    return this.log.querySelector(`li.pending[data-client-msg-id="${CSS.escape(id)}"]`);
  }

  /** Show a stored message once, in `seq` order; it replaces our own pending copy. */
  add(message) {
    const mine = message.sender === this.role;
    if (mine && message.client_msg_id) {
      const pending = this.pendingLine(message.client_msg_id);
      if (pending) pending.remove();
      if (this.outbox.delete(message.client_msg_id)) this.saveOutbox();
    }
    if (this.shown.has(message.seq)) return;
    this.shown.add(message.seq);
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    const line = this.line(message.sender, message.sender_name, message.text, message.at, mine);
    line.dataset.seq = String(message.seq);
    if (message.client_msg_id) line.dataset.clientMsgId = message.client_msg_id;
    const later = [...this.log.querySelectorAll("li[data-seq]")].find((node) => Number(node.dataset.seq) > message.seq);
    const firstPending = this.log.querySelector("li.pending");
    this.log.insertBefore(line, later || firstPending || null);
    this.log.scrollTop = this.log.scrollHeight;
  }

  send() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) return this.status.replaceChildren(notice("error", t("room.too_long")));
    this.input.value = "";
    this.status.replaceChildren();
    const id = randomId();
    this.outbox.set(id, text);
    this.saveOutbox();
    this.showPending(id, text);
    this.deliver(id);
  }

  showPending(id, text) {
    if (this.pendingLine(id)) return;
    const line = this.line(this.role, "", text, null, true);
    line.classList.add("pending");
    line.dataset.clientMsgId = id;
    line.append(h("span", { class: "muted sending" }, t("room.sending")));
    this.log.append(line);
    this.log.scrollTop = this.log.scrollHeight;
  }

  async deliver(id) {
    const text = this.outbox.get(id);
    if (text === undefined || !this.canSend() || !this.socket.connected) return;
    const ack = await request(this.socket, "chat", { appointment_id: this.id, text, client_msg_id: id });
    if (ack.ok && ack.message) return this.add(ack.message);
    // Kept, and sent again with the same id after the next (re)join: the server stores it once.
    if (ack.code === "timeout" || ack.code === "not_joined") return;
    const pending = this.pendingLine(id);
    if (ack.code === "rate_limited" && pending) {
      const retry = h("button", { type: "button", class: "link" }, t("room.retry"));
      retry.addEventListener("click", () => {
        retry.remove();
        this.deliver(id);
      });
      const sending = pending.querySelector(".sending");
      if (sending) sending.replaceWith(h("span", { class: "sending failed" }, refusal(ack), " "), retry);
      return;
    }
    this.outbox.delete(id);
    this.saveOutbox();
    if (pending) pending.remove();
    this.status.replaceChildren(notice("error", refusal(ack)));
  }

  /** Send again what is still in the outbox (after a join: the hub stores each id once). */
  flush() {
    for (const [id, text] of this.outbox) {
      this.showPending(id, text);
      this.deliver(id);
    }
  }
}
