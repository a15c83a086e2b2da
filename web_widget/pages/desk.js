// The physician's desk: the day's schedule (with a date picker), the waiting room live from the
// /consult socket (who waits, for how long, "Admit"), one visit's detail (documents, renewal
// orders to review, open questions to answer, the patient's conversation with the assistant),
// the consultation room from the physician's side (pages/room.js) and, once the consultation
// is ended, the follow-up: instructions, an e-prescription and a referral.
// The address keeps the state (?date=&appointment=&room=1), so a reload comes back to it.
import {
  page, h, t, api, notice, describe, formatDateTime, formatDate, facts, field, label,
  showFormErrors, clearFormErrors, getLanguage, idParam,
} from "../app.js";
import { connectConsult } from "./consult-socket.js";
import { ConsultRoom, exposeRoom } from "./room.js";
import { documentItem } from "./room-documents.js";

const REMOTE = ["telephone_consultation", "online_consultation"];
const SERVICE_TYPES = [
  "in_person_visit", "telephone_consultation", "online_consultation", "examination",
  "occupational_medicine", "rehabilitation",
];
const ZONE = "Europe/Warsaw";

let socketPromise = null; // the desk's /consult connection
let room = null;
let queueTicker = null;

exposeRoom(() => room);

function getSocket() {
  if (!socketPromise) socketPromise = connectConsult();
  return socketPromise;
}

function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
}

function plusDays(days) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date(Date.now() + days * 864e5));
}

function clock(iso) {
  return new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", { hour: "2-digit", minute: "2-digit", timeZone: ZONE }).format(new Date(iso));
}

/** "4:05" (minutes:seconds), or "1:02:05" from an hour on. */
function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours ? `${hours}:${two(minutes)}:${two(s % 60)}` : `${minutes}:${two(s % 60)}`;
}

function setAddress(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  history.replaceState(null, "", "/desk.html" + (query.toString() ? "?" + query : ""));
}

function address() {
  const params = new URLSearchParams(location.search);
  // The appointment goes into API paths, so only an id passes (see idParam); the date only
  // into a query string.
  return { date: params.get("date") || "", appointment: idParam(params.get("appointment")), room: params.get("room") || "" };
}

// -- the waiting room ----------------------------------------------------------------------------

function waitingRoom(openVisit) {
  const connection = h("p", { class: "muted", id: "desk-connection", role: "status" }, t("widget.offline"));
  const list = h("ul", { class: "queue", id: "desk-queue", "aria-label": t("desk.waiting_room") });
  const box = h("div", { "aria-live": "polite" });
  const section = h(
    "section",
    { class: "panel-box", id: "waiting-room", "aria-labelledby": "waiting-title" },
    h("h2", { id: "waiting-title" }, t("desk.waiting_room")),
    connection,
    list,
    box,
  );
  let shown = [];

  function render(items, receivedAt = Date.now()) {
    shown = items.map((item) => ({ item, receivedAt }));
    if (!items.length) {
      list.replaceChildren(h("li", { class: "empty" }, t("desk.nobody_waiting")));
      return;
    }
    list.replaceChildren(
      ...shown.map(({ item }) => {
        const admit = h("button", { type: "button", class: "admit" }, t("room.admit"));
        admit.addEventListener("click", () => openVisit(item.appointment_id, { room: true, admit: true }));
        return h(
          "li",
          { class: "card waiting", "data-appointment-id": item.appointment_id },
          h("strong", { class: "patient-name" }, item.patient.name),
          h("p", { class: "muted" }, item.service ? (item.service.name || item.service) : "", item.start_at ? " · " + clock(item.start_at) : ""),
          h("p", {}, t("desk.waiting_for"), " ", h("span", { class: "waited", "data-waited": "" }, duration(item.waited_seconds || 0))),
          admit,
        );
      }),
    );
  }

  function tick() {
    const rows = list.querySelectorAll("li[data-appointment-id]");
    rows.forEach((row, index) => {
      const entry = shown[index];
      if (!entry) return;
      const seconds = (entry.item.waited_seconds || 0) + (Date.now() - entry.receivedAt) / 1000;
      row.querySelector(".waited").textContent = duration(seconds);
    });
  }

  async function load() {
    try {
      const found = await api("/physician/waiting-room");
      render(found.items || []);
    } catch (error) {
      box.replaceChildren(notice("error", describe(error)));
    }
  }

  return { section, render, tick, load, connection };
}

// -- the schedule --------------------------------------------------------------------------------

function schedule(openVisit, state) {
  const input = h("input", { type: "date", name: "date", id: "desk-date", value: state.date });
  const form = h("form", { class: "form inline-form", id: "desk-date-form" }, field("desk.date", input));
  const list = h("ul", { class: "cards schedule", id: "schedule-list" });
  const section = h(
    "section",
    { class: "panel-box", id: "schedule", "aria-labelledby": "schedule-title" },
    h("h2", { id: "schedule-title" }, t("desk.schedule")),
    form,
    list,
  );

  async function load() {
    list.replaceChildren(h("li", { class: "muted" }, t("common.loading")));
    try {
      const found = await api("/physician/appointments", { query: { date: state.date } });
      if (!found.items.length) {
        list.replaceChildren(h("li", { class: "empty" }, t("desk.no_visits", { date: formatDate(state.date) })));
        return;
      }
      list.replaceChildren(
        ...found.items.map((row) => {
          const a = row.appointment;
          const open = h("button", { type: "button", class: "secondary" }, t("desk.open"));
          open.addEventListener("click", () => openVisit(a.id, {}));
          const counts = [];
          if (row.documents_count) counts.push(t("desk.documents_count", { count: row.documents_count }));
          if (row.open_questions_count) counts.push(t("desk.questions_count", { count: row.open_questions_count }));
          return h(
            "li",
            { class: "card visit-row" + (a.id === state.appointment ? " current" : ""), "data-appointment-id": a.id },
            h("strong", {}, clock(a.start), "–", clock(a.end), " "),
            h("span", { class: "status status-" + a.status }, label("status", a.status)),
            h("p", { class: "visit-patient" }, a.patient.name),
            h("p", { class: "muted" }, a.service.name, " · ", label("service_type", a.service.type)),
            counts.length ? h("p", { class: "muted" }, counts.join(" · ")) : null,
            open,
          );
        }),
      );
    } catch (error) {
      list.replaceChildren(h("li", {}, notice("error", describe(error))));
    }
  }

  input.addEventListener("change", () => {
    state.date = input.value || today();
    setAddress(state);
    load();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return { section, load };
}

// -- the visit's detail --------------------------------------------------------------------------

function orderItem(order) {
  const status = h("div", { "aria-live": "polite" });
  const reason = h("input", { name: "reason", id: "reason-" + order.id, maxlength: "500" });
  const issue = h("button", { type: "button" }, t("desk.issue"));
  const reject = h("button", { type: "button", class: "danger" }, t("desk.reject"));
  const item = h(
    "li",
    { class: "card order", "data-order-id": order.id },
    h("strong", {}, order.medication_name),
    facts([
      ["rx.dosage", order.dosage],
      ["rx.ordered_at", formatDateTime(order.created_at)],
      ["desk.order_note", order.note],
    ]),
    field("desk.reject_reason", reason, "desk.reject_reason_hint"),
    h("div", { class: "actions" }, issue, reject),
    status,
  );
  const review = async (decision) => {
    if (decision === "reject" && !reason.value.trim()) {
      status.replaceChildren(notice("error", t("desk.reason_required")));
      reason.focus();
      return;
    }
    issue.disabled = reject.disabled = true;
    try {
      const body = { decision };
      if (decision === "reject") body.reason = reason.value.trim();
      const done = await api(`/physician/prescription-orders/${order.id}/review`, { method: "POST", body });
      const text = done.status === "issued" && done.prescription
        ? t("desk.order_issued", { key: done.prescription.prescription_key, code: done.prescription.access_code })
        : t("desk.order_rejected");
      item.replaceChildren(h("strong", {}, order.medication_name, " "), h("span", { class: "status status-" + done.status }, label("order_status", done.status)), notice("success", text));
    } catch (error) {
      issue.disabled = reject.disabled = false;
      status.replaceChildren(notice("error", describe(error)));
    }
  };
  issue.addEventListener("click", () => review("issue"));
  reject.addEventListener("click", () => review("reject"));
  return item;
}

function questionItem(question) {
  const answer = h("textarea", { name: "answer", id: "answer-" + question.id, rows: "3", maxlength: "5000", required: true });
  const form = h("form", { class: "form", novalidate: true }, h("div", { class: "form-alert" }), field("desk.answer", answer), h("button", { type: "submit" }, t("desk.send_answer")));
  const item = h(
    "li",
    { class: "card question", "data-question-id": question.id },
    h("p", { class: "muted" }, t("desk.asked_at", { at: formatDateTime(question.created_at) })),
    h("p", { class: "pre question-text" }, question.text),
    form,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    if (!answer.value.trim()) {
      form.querySelector(".form-alert").replaceChildren(notice("error", t("desk.answer_required")));
      return;
    }
    try {
      const done = await api(`/physician/questions/${question.id}/answer`, { method: "POST", body: { answer: answer.value.trim() } });
      form.replaceWith(notice("success", t("desk.answered")), h("p", { class: "pre" }, done.answer));
    } catch (error) {
      showFormErrors(form, error);
    }
  });
  return item;
}

/** The end of the assistant conversation in which the patient booked this visit. */
function conversationSection(lines) {
  if (!Array.isArray(lines) || !lines.length) return null;
  return h(
    "section",
    { class: "panel-box", id: "conversation", "aria-labelledby": "conversation-title" },
    h("h3", { id: "conversation-title" }, t("desk.conversation")),
    h("p", { class: "muted" }, t("desk.conversation_lead")),
    h("ol", { class: "transcript", "aria-labelledby": "conversation-title" }, lines.map((line) =>
      h("li", { class: "line line-" + (line.sender === "patient" ? "patient" : "bot") },
        h("span", { class: "who" }, t(line.sender === "patient" ? "reception.sender_patient" : "reception.sender_bot")),
        " ", h("span", { class: "at" }, formatDateTime(line.at)),
        h("p", {}, line.text)))),
  );
}

// -- the follow-up after the consultation -------------------------------------------------------------

function followForm({ id, titleKey, fields, submitKey, send, done }) {
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "form", id, novalidate: true }, h("div", { class: "form-alert" }), ...fields, h("button", { type: "submit" }, t(submitKey)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    status.replaceChildren();
    try {
      const out = await send(new FormData(form));
      status.replaceChildren(notice("success", done(out)));
      form.reset();
    } catch (error) {
      showFormErrors(form, error);
    }
  });
  return h("section", { class: "follow-part" }, h("h3", {}, t(titleKey)), form, status);
}

async function followUp(appointmentId) {
  const specialties = await api("/specialties").catch(() => ({ items: [] }));
  const base = `/physician/appointments/${appointmentId}`;
  const optional = (value) => (value && value.trim() ? value.trim() : null);
  const instructions = followForm({
    id: "follow-instructions",
    titleKey: "desk.instructions",
    fields: [field("desk.instructions_text", h("textarea", { name: "text", id: "instruction-text", rows: "4", maxlength: "10000" }))],
    submitKey: "desk.save_instructions",
    send: (data) => api(base + "/instructions", { method: "POST", body: { text: String(data.get("text") || "").trim() } }),
    done: () => t("desk.instructions_saved"),
  });
  const prescription = followForm({
    id: "follow-prescription",
    titleKey: "desk.prescription",
    fields: [
      field("desk.medication_name", h("input", { name: "medication_name", id: "rx-medication_name", maxlength: "200" })),
      field("rx.dosage", h("input", { name: "dosage", id: "rx-dosage", maxlength: "500" })),
      field("desk.substance", h("input", { name: "substance", id: "rx-substance", maxlength: "200" })),
      field("desk.form", h("input", { name: "form", id: "rx-form", maxlength: "200" })),
    ],
    submitKey: "desk.issue_prescription",
    send: (data) =>
      api(base + "/prescriptions", {
        method: "POST",
        body: {
          medication_name: String(data.get("medication_name") || "").trim(),
          dosage: String(data.get("dosage") || "").trim(),
          substance: optional(data.get("substance")),
          form: optional(data.get("form")),
        },
      }),
    done: (out) => t("desk.prescription_issued", { name: out.medication_name, key: out.prescription_key, code: out.access_code }),
  });
  const typeSelect = h("select", { name: "service_type", id: "ref-service_type" }, h("option", { value: "" }, t("desk.none_chosen")), SERVICE_TYPES.map((type) => h("option", { value: type }, label("service_type", type))));
  const specialtySelect = h("select", { name: "specialty_code", id: "ref-specialty_code" }, h("option", { value: "" }, t("desk.none_chosen")), specialties.items.map((s) => h("option", { value: s.code }, s.name)));
  const validUntil = h("input", { type: "date", name: "valid_until", id: "ref-valid_until", value: plusDays(90) });
  const referral = followForm({
    id: "follow-referral",
    titleKey: "desk.referral",
    fields: [
      field("referrals.reason", h("textarea", { name: "reason", id: "ref-reason", rows: "2", maxlength: "2000" })),
      field("desk.referral_specialty", specialtySelect),
      field("desk.referral_type", typeSelect),
      field("referrals.valid_until", validUntil),
    ],
    submitKey: "desk.issue_referral",
    send: (data) =>
      api(base + "/referrals", {
        method: "POST",
        body: {
          reason: String(data.get("reason") || "").trim(),
          valid_until: data.get("valid_until") || plusDays(90),
          service_type: optional(data.get("service_type")),
          specialty_code: optional(data.get("specialty_code")),
        },
      }),
    done: (out) => t("desk.referral_issued", { code: out.access_code || "—" }),
  });
  return h(
    "section",
    { class: "panel-box follow-up", id: "follow-up", "aria-labelledby": "follow-title" },
    h("h2", { id: "follow-title" }, t("desk.follow_up")),
    h("p", { class: "muted" }, t("desk.follow_up_lead")),
    instructions,
    prescription,
    referral,
  );
}

// -- the page ---------------------------------------------------------------------------------------

page({
  title: "desk.title",
  auth: "physician",
  render: async (main) => {
    // A re-render (language switch) starts afresh: the room rejoins from the address.
    if (room) room.destroy();
    room = null;
    clearInterval(queueTicker);
    if (socketPromise) {
      const old = socketPromise;
      socketPromise = null;
      old.then((socket) => socket.disconnect()).catch(() => {});
    }
    main.classList.add("wide");
    const initial = address();
    const state = { date: initial.date || today(), appointment: initial.appointment, room: initial.room };
    const detail = h("div", { class: "desk-main", id: "visit-detail", "aria-live": "polite" }, h("p", { class: "empty" }, t("desk.choose_visit")));

    /** The room of visit `id` inside its detail (`parts`: roomBox, followBox, join, docsBox). */
    async function startRoom(id, admit, { roomBox, followBox, join, docsBox }) {
      if (room) room.destroy();
      join.hidden = true;
      const socket = await getSocket();
      room = new ConsultRoom({
        socket,
        appointmentId: id,
        role: "physician",
        autoAdmit: admit,
        onEnded: async () => {
          join.hidden = true;
          const status = document.querySelector("#visit-title .status");
          if (status) {
            status.className = "status status-completed";
            status.textContent = label("status", "completed");
          }
          state.room = "";
          setAddress(state);
          if (!followBox.firstChild) followBox.replaceChildren(await followUp(id));
          followBox.scrollIntoView({ block: "start" });
          schedulePart.load();
        },
        onDocument: (doc) => {
          // The visit's own list shows what is shared in the call too.
          if (docsBox.querySelector(`[data-document-id="${CSS.escape(doc.id)}"]`)) return;
          let list = docsBox.querySelector("ul.docs");
          if (!list) {
            list = h("ul", { class: "docs", id: "visit-docs" });
            docsBox.querySelector(".empty")?.remove();
            docsBox.append(list);
          }
          list.append(documentItem(doc));
        },
        onLeft: () => {
          state.room = "";
          setAddress(state);
        },
      });
      state.room = "1";
      setAddress(state);
      roomBox.replaceChildren(room.element);
      room.start().catch((error) => room && room.fail({ code: "media_failed", message: String(error && error.message) }));
    }

    async function openVisit(id, options = {}) {
      if (room && room.id !== id) {
        room.destroy();
        room = null;
      }
      state.appointment = id;
      state.room = options.room ? "1" : "";
      detail.closest(".desk")?.classList.add("has-visit");
      setAddress(state);
      document.querySelectorAll("#schedule-list li.current").forEach((li) => li.classList.remove("current"));
      const row = document.querySelector(`#schedule-list li[data-appointment-id="${CSS.escape(id)}"]`);
      if (row) row.classList.add("current");
      if (room && room.id === id) {
        if (options.admit && room.state === "waiting") room.admit();
        return;
      }
      detail.replaceChildren(h("p", { class: "muted" }, t("common.loading")));
      let visit;
      try {
        visit = await api(`/physician/appointments/${id}`);
      } catch (error) {
        detail.replaceChildren(notice("error", describe(error)));
        return;
      }
      const a = visit.appointment;
      const p = visit.patient;
      const remote = REMOTE.includes(a.service.type);
      const roomBox = h("div", { class: "room-box", id: "desk-room" });
      const followBox = h("div", { id: "follow-box" });
      const join = h("button", { type: "button", id: "join-consultation" }, t("desk.join"));
      join.addEventListener("click", () => startRoom(id, false, parts));
      const documents = visit.documents.length
        ? h("ul", { class: "docs", id: "visit-docs" }, visit.documents.map((doc) => documentItem(doc)))
        : h("p", { class: "empty" }, t("desk.no_documents"));
      const docsBox = h("section", { class: "panel-box", id: "visit-documents", "aria-labelledby": "vdocs-title" }, h("h3", { id: "vdocs-title" }, t("room.documents")), documents);
      const parts = { roomBox, followBox, join, docsBox };
      const orders = visit.pending_prescription_orders.length
        ? h("ul", { class: "cards" }, visit.pending_prescription_orders.map(orderItem))
        : h("p", { class: "empty" }, t("desk.no_orders"));
      const questions = visit.open_questions.length
        ? h("ul", { class: "cards" }, visit.open_questions.map(questionItem))
        : h("p", { class: "empty" }, t("desk.no_questions"));
      const sections = [
        h(
          "section",
          { class: "panel-box visit", id: "visit", "data-appointment-id": a.id, "aria-labelledby": "visit-title" },
          h("h2", { id: "visit-title" }, p.first_name + " " + p.last_name, " ", h("span", { class: "status status-" + a.status }, label("status", a.status))),
          facts([
            ["visits.when", formatDateTime(a.start)],
            ["desk.service", a.service.name + " · " + label("service_type", a.service.type)],
            ["field.pesel", p.pesel],
            ["field.birth_date", p.birth_date],
          ]),
          remote && a.status === "booked" ? h("div", { class: "actions" }, join) : null,
        ),
        roomBox,
        followBox,
        conversationSection(visit.booking_chat),
        docsBox,
        h("section", { class: "panel-box", id: "visit-orders", "aria-labelledby": "orders-title" }, h("h3", { id: "orders-title" }, t("desk.orders")), orders),
        h("section", { class: "panel-box", id: "visit-questions", "aria-labelledby": "questions-title" }, h("h3", { id: "questions-title" }, t("desk.questions")), questions),
      ];
      detail.replaceChildren(...sections.filter(Boolean));
      if (a.status === "completed") followBox.replaceChildren(await followUp(id));
      if (options.room && remote && a.status === "booked") await startRoom(id, !!options.admit, parts);
      if (matchMedia("(max-width: 959px)").matches) detail.scrollIntoView({ block: "start" });
    }

    const queue = waitingRoom(openVisit);
    const schedulePart = schedule(openVisit, state);
    main.append(h("div", { class: "desk" }, h("div", { class: "desk-side" }, queue.section, schedulePart.section), detail));
    queueTicker = setInterval(queue.tick, 1000);
    schedulePart.load();
    queue.load();

    const socket = await getSocket();
    socket.on("connect", () => {
      queue.connection.textContent = t("widget.online");
      queue.load();
    });
    socket.on("disconnect", () => (queue.connection.textContent = t("widget.offline")));
    socket.on("connect_error", (error) => {
      queue.connection.textContent = error && error.data && error.data.message ? error.data.message : t("widget.offline");
    });
    socket.on("queue", (data) => queue.render((data && data.items) || []));
    if (socket.connected) queue.connection.textContent = t("widget.online");
    if (state.appointment) await openVisit(state.appointment, { room: state.room === "1" });
  },
});
