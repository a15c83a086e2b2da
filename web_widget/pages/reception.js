// The reception console: conversations waiting for a person (take one, chat live, hand it back),
// the assistant's newest safety answers (112, crisis lines) to follow up, and the patient search
// with "grant full access".
import { page, h, t, api, notice, describe, formatDateTime, field, randomId, getLanguage } from "../app.js";

const CLIENT_URL = "/node_modules/socket.io-client/dist/socket.io.esm.min.js";
const ACK_MS = 15000;
const DESK_KEY = "mp_desk_chat";
const SAFETY_POLL_MS = 30000;
let consoleSocket = null; // one console connection, also across re-renders
let safetyPoll = null; // the safety list's timer and visibility listener, also across re-renders

function time(iso) {
  return iso ? new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", { hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "";
}

function line(sender, text, at) {
  const who = sender === "user" || sender === "patient" ? "patient" : ["staff", "system"].includes(sender) ? sender : "bot";
  return h("div", { class: "line line-" + who, "data-sender": who },
    h("span", { class: "who" }, t("reception.sender_" + who)), " ",
    h("span", { class: "at" }, time(at)), h("p", {}, text));
}

/**
 * The conversations this console has taken, kept for a reload: [{conversation_id, patient_name}].
 * (An older console kept one object; it is read as a list of one.)
 */
function keptConversations() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(DESK_KEY) || "[]");
    return (Array.isArray(kept) ? kept : [kept]).filter((item) => item && item.conversation_id);
  } catch {
    return [];
  }
}

/**
 * The chat part of the console: the section, and `take(item)`, which takes a conversation
 * ({conversation_id, patient_name}) and shows it; it resolves to the hub's ack.
 */
async function chatConsole() {
  const section = h("section", { class: "panel-box", id: "chats", "aria-labelledby": "chats-title" },
    h("h2", { id: "chats-title" }, t("reception.chats")));
  const connection = h("p", { class: "muted", role: "status" }, t("widget.offline"));
  const queue = h("ul", { class: "queue", id: "queue", "aria-label": t("reception.waiting") });
  const tabs = h("div", { class: "chat-tabs", id: "chat-tabs", role: "tablist", "aria-label": t("reception.taken"), hidden: true });
  const chat = h("div", { class: "live", id: "live-chat", role: "tabpanel" });
  section.append(connection, h("h3", {}, t("reception.waiting")), queue, tabs, chat);

  let io;
  try {
    ({ io } = await import(CLIENT_URL));
  } catch (error) {
    section.append(notice("error", t("widget.unavailable")));
    return { section, take: async () => ({ ok: false, message: t("widget.unavailable") }) };
  }
  if (consoleSocket) consoleSocket.disconnect();
  const socket = io("/chat", { auth: { language: getLanguage() }, withCredentials: true });
  consoleSocket = socket;
  // Every conversation this console has taken, by id: {item, tab, badge, panel, input, unread}.
  const taken = new Map();
  let current = null; // the conversation shown now
  const emit = (event, data) =>
    new Promise((resolve) => socket.timeout(ACK_MS).emit(event, data, (error, ack) => resolve(error ? { ok: false, message: t("widget.failed") } : ack || {})));
  const keep = () =>
    sessionStorage.setItem(DESK_KEY, JSON.stringify([...taken.values()].map(({ item }) => ({ conversation_id: item.conversation_id, patient_name: item.patient_name }))));
  const takeConversation = async (item) => {
    const ack = await emit("take", { conversation_id: item.conversation_id });
    if (ack.ok) open(item, ack.transcript || [], true);
    return ack;
  };

  socket.on("connect", async () => {
    connection.textContent = t("widget.online");
    // After a reload or a reconnect, take our conversations again (allowed for their taker).
    for (const [index, kept] of keptConversations().entries()) {
      const ack = await emit("take", { conversation_id: kept.conversation_id });
      if (ack.ok) open(kept, ack.transcript || [], index === 0);
    }
    keep();
  });
  socket.on("disconnect", () => (connection.textContent = t("widget.offline")));
  socket.on("connect_error", () => (connection.textContent = t("widget.offline")));
  socket.on("queue", ({ items = [] } = {}) => {
    queue.replaceChildren(
      ...(items.length ? items.map((item) => {
        const take = h("button", { type: "button" }, t("reception.take"));
        take.addEventListener("click", async () => {
          take.disabled = true;
          const ack = await takeConversation(item);
          if (!ack.ok) {
            take.disabled = false;
            take.after(notice("error", ack.message || t("widget.failed")));
          }
        });
        return h("li", { class: "card", "data-conversation-id": item.conversation_id },
          h("strong", {}, item.patient_name || t("reception.anonymous")),
          " · ", (item.language || "").toUpperCase(), " · ", t("reception.since", { at: time(item.waiting_since) }),
          h("p", { class: "muted" }, item.last_text || ""), take);
      }) : [h("li", { class: "empty" }, t("reception.none_waiting"))]),
    );
  });
  const logOf = (entry) => entry.panel.querySelector("[role=log]");
  const append = (entry, child) => {
    const log = logOf(entry);
    log.append(child);
    log.scrollTop = log.scrollHeight;
  };

  socket.on("patient_message", (message) => {
    const entry = taken.get(message.conversation_id);
    if (!entry) return;
    append(entry, line("patient", message.text, message.at));
    if (message.conversation_id !== current) {
      entry.unread += 1;
      showTab(entry);
    }
  });

  function showTab(entry) {
    const selected = entry.item.conversation_id === current;
    entry.tab.setAttribute("aria-selected", String(selected));
    entry.tab.tabIndex = selected ? 0 : -1;
    entry.tab.classList.toggle("unread", entry.unread > 0);
    entry.badge.textContent = entry.unread ? t("reception.unread", { count: entry.unread }) : "";
  }

  function select(conversationId) {
    const entry = taken.get(conversationId);
    if (!entry) return;
    current = conversationId;
    entry.unread = 0;
    chat.replaceChildren(entry.panel);
    chat.setAttribute("aria-labelledby", entry.tab.id);
    taken.forEach(showTab);
    logOf(entry).scrollTop = logOf(entry).scrollHeight;
    entry.input.focus();
  }

  /** Show a conversation we took (again: its transcript replaces what we had). */
  function open(item, transcript, show) {
    const id = item.conversation_id;
    const name = item.patient_name || t("reception.anonymous");
    const known = taken.get(id);
    const log = h("div", { class: "transcript", role: "log", "aria-live": "polite", "aria-label": t("reception.transcript"), tabindex: "0" },
      transcript.map((entry) => line(entry.sender, entry.text, entry.at)));
    if (known) {
      logOf(known).replaceWith(log);
      if (show) select(id);
      return;
    }
    const input = h("textarea", { id: "staff-text", name: "text", rows: "2", maxlength: "1000" });
    const form = h("form", { class: "form staff-form" }, field("reception.answer", input), h("button", { type: "submit" }, t("widget.send")));
    const status = h("div", { "aria-live": "polite" });
    const badge = h("span", { class: "badge" });
    const tab = h("button", { type: "button", role: "tab", id: "chat-tab-" + id, class: "chat-tab", "data-conversation-id": id }, name, " ", badge);
    const entry = { item, tab, badge, input, unread: 0, panel: null };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      const ack = await emit("staff_message", { conversation_id: id, text, client_msg_id: randomId() });
      if (ack.ok) append(entry, line("staff", text, new Date().toISOString()));
      else {
        input.value = text; // kept, to send again
        status.replaceChildren(notice("error", ack.message || t("widget.failed")));
      }
    });
    const back = h("button", { type: "button", class: "secondary" }, t("reception.hand_back"));
    back.addEventListener("click", async () => {
      const ack = await emit("hand_back", { conversation_id: id });
      if (!ack.ok) return status.replaceChildren(notice("error", ack.message || t("widget.failed")));
      taken.delete(id);
      tab.remove();
      keep();
      tabs.hidden = taken.size === 0;
      const next = [...taken.keys()][0];
      if (next) select(next);
      else {
        current = null;
        chat.replaceChildren();
      }
      chat.prepend(notice("success", t("reception.handed_back")));
    });
    entry.panel = h("div", { class: "conversation", "data-conversation-id": id },
      h("h3", {}, t("reception.chat_with", { name })),
      log, form, h("div", { class: "actions" }, back), status);
    tab.addEventListener("click", () => select(id));
    tabs.append(tab);
    tabs.hidden = false;
    taken.set(id, entry);
    keep();
    if (show || !current) select(id);
    else showTab(entry);
  }
  return { section, take: takeConversation };
}

/**
 * The assistant's newest safety answers (listSafetyAnswers), newest first: when, whose, which
 * kind; never what the patient wrote. "Open the conversation" takes it like a waiting one (the
 * hub refuses one that is not waiting, and its message is shown). The list is loaded now and
 * every 30 s while the page is visible.
 */
function safetyAnswers(take) {
  const list = h("ul", { class: "queue safety-list", id: "safety-answers-list" });
  const status = h("div", { "aria-live": "polite" });
  const section = h("section", { class: "panel-box", id: "safety-answers", "aria-labelledby": "safety-title" },
    h("h2", { id: "safety-title" }, t("reception.safety")),
    h("p", { class: "muted" }, t("reception.safety_hint")), status, list);
  // Rows are kept by answer, so a refresh leaves a row's notice and the focus where they are.
  let rows = new Map();

  const row = (answer) => {
    const crisis = answer.kind === "crisis";
    const result = h("div", { "aria-live": "polite" });
    const openButton = h("button", { type: "button", class: "secondary" }, t("reception.safety_open"));
    openButton.addEventListener("click", async () => {
      openButton.disabled = true;
      result.replaceChildren();
      const ack = await take({ conversation_id: answer.conversation_id, patient_name: answer.patient_name });
      openButton.disabled = false;
      if (!ack.ok) result.replaceChildren(notice("error", ack.message || t("widget.failed")));
    });
    return h("li", { class: "card safety-answer " + (crisis ? "safety-crisis" : "safety-emergency"), "data-conversation-id": answer.conversation_id, "data-kind": crisis ? "crisis" : "emergency" },
      h("span", { class: "status safety-kind" }, t(crisis ? "reception.safety_crisis" : "reception.safety_emergency")), " ",
      h("strong", {}, answer.patient_name || t("reception.anonymous")),
      h("p", { class: "muted" }, h("time", { datetime: answer.at }, formatDateTime(answer.at))),
      h("div", { class: "actions" }, openButton), result);
  };

  let loading = false;
  const refresh = async () => {
    if (loading) return;
    loading = true;
    try {
      const { items = [] } = await api("/reception/safety-answers");
      const next = new Map();
      for (const answer of items) {
        const key = `${answer.conversation_id} ${answer.at}`;
        if (!next.has(key)) next.set(key, rows.get(key) || row(answer));
      }
      rows = next;
      if (!rows.size) list.replaceChildren(h("li", { class: "empty" }, t("reception.safety_none")));
      else {
        // Newer rows go in before the others, which stay in place (a moved button loses focus).
        const wanted = new Set(rows.values());
        [...list.children].filter((child) => !wanted.has(child)).forEach((child) => child.remove());
        [...rows.values()].forEach((element, index) => {
          if (list.children[index] !== element) list.insertBefore(element, list.children[index] || null);
        });
      }
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(notice("error", describe(error)));
    } finally {
      loading = false;
    }
  };
  return { section, refresh };
}

/** Run `refresh` now and every 30 s while the page is visible (again at once when it shows). */
function pollWhileVisible(refresh) {
  if (safetyPoll) {
    clearInterval(safetyPoll.timer);
    document.removeEventListener("visibilitychange", safetyPoll.onChange);
  }
  const poll = { timer: null, onChange: null };
  const start = () => {
    clearInterval(poll.timer);
    poll.timer = document.visibilityState === "hidden" ? null : setInterval(refresh, SAFETY_POLL_MS);
  };
  poll.onChange = () => {
    if (document.visibilityState !== "hidden") refresh();
    start();
  };
  document.addEventListener("visibilitychange", poll.onChange);
  safetyPoll = poll;
  start();
  return refresh();
}

function patientSearch() {
  const input = h("input", { type: "search", name: "q", id: "patient-q", minlength: "3", required: true });
  const form = h("form", { class: "form inline-form", role: "search" }, field("reception.search_label", input, "reception.search_hint"), h("button", { type: "submit" }, t("reception.search")));
  const results = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const found = await api("/reception/patients", { query: { q: input.value.trim() } });
      results.replaceChildren(
        found.items.length
          ? h("ul", { class: "cards" }, found.items.map((match) => {
            const p = match.patient;
            const state = h("span", { class: "status status-" + (match.access_level || "none") },
              match.access_level ? t("access." + match.access_level) : t("reception.no_account"));
            const row = h("li", { class: "card", "data-account-id": match.account_id || "" },
              h("h3", {}, `${p.first_name} ${p.last_name} `, state),
              h("p", { class: "muted" }, `PESEL ${p.pesel} · ${p.birth_date}` + (match.login ? ` · ${match.login}` : "")));
            if (match.account_id && match.access_level !== "full") {
              const grant = h("button", { type: "button" }, t("reception.grant"));
              grant.addEventListener("click", async () => {
                grant.disabled = true;
                try {
                  await api(`/reception/accounts/${match.account_id}/full-access`, { method: "POST" });
                  state.textContent = t("access.full");
                  state.className = "status status-full";
                  grant.replaceWith(notice("success", t("reception.granted")));
                } catch (error) {
                  grant.disabled = false;
                  row.append(notice("error", describe(error)));
                }
              });
              row.append(grant);
            }
            return row;
          }))
          : h("p", { class: "empty" }, t("reception.no_patients")),
      );
    } catch (error) {
      results.replaceChildren(notice("error", describe(error)));
    }
  });
  return h("section", { class: "panel-box", "aria-labelledby": "search-title" }, h("h2", { id: "search-title" }, t("reception.patients")), form, results);
}

page({
  title: "reception.title",
  auth: "reception",
  render: async (main) => {
    const chat = await chatConsole();
    const safety = safetyAnswers(chat.take);
    main.append(chat.section, safety.section, patientSearch());
    await pollWhileVisible(safety.refresh);
  },
});
