// Visits: upcoming and past with their status history; cancel, reschedule; book through a
// search form (service type, specialty, city, dates, time of day) for oneself or a child.
// A slot that overlaps another visit of the same patient is asked about on the page (book
// anyway / choose another time), never in a native confirm() dialog.
import {
  page, h, t, api, ApiError, notice, describe, formatDateTime, label, place, facts, field, randomId,
  showFormErrors, clearFormErrors,
} from "../app.js";

const SERVICE_TYPES = [
  "in_person_visit", "telephone_consultation", "online_consultation", "examination",
  "occupational_medicine", "rehabilitation",
];
const TIMES = ["morning", "afternoon", "evening"];

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

// The open overlap question of each message area: asking about another slot answers it first.
const ASKING = new WeakMap();

/**
 * Ask in `box` whether to keep both visits after the hub's 409 `appointment_overlap`. The
 * hub's title (in the page's language: it names the other visit's date and time) goes in as
 * text, with the slot chosen (the question sits above the list, maybe far from that slot).
 * Resolves to `{ yes, settle, refocus }`: yes for "book anyway", whose question stays, its
 * buttons disabled, until `settle()`; no for "choose another time" or Escape (refocus: the
 * focus goes back to the slot) or for a question about another slot (which keeps the focus).
 */
function askAboutOverlap(box, error, slot) {
  ASKING.get(box)?.(false, false);
  const id = "overlap-" + randomId();
  const anyway = h("button", { type: "button", class: "overlap-anyway" }, t("overlap.book_anyway"));
  const another = h("button", { type: "button", class: "secondary overlap-another" }, t("overlap.choose_another"));
  const question = h(
    "div",
    { class: "notice notice-info overlap", role: "alertdialog", "aria-labelledby": id + "-text", "aria-describedby": id + "-slot" },
    h("p", { id: id + "-text" }, describe(error)),
    h("p", { id: id + "-slot", class: "muted" }, t("overlap.chosen", { when: formatDateTime(slot.start), physician: slot.physician.name })),
    h("div", { class: "actions" }, anyway, another),
  );
  box.prepend(question);
  anyway.focus();
  return new Promise((resolve) => {
    let answered = false;
    const answer = (yes, refocus = true) => {
      if (answered) return;
      answered = true;
      ASKING.delete(box);
      if (yes) {
        anyway.disabled = another.disabled = true;
        question.setAttribute("aria-busy", "true");
      } else {
        question.remove();
      }
      resolve({ yes, refocus, settle: () => question.remove() });
    };
    ASKING.set(box, answer);
    anyway.addEventListener("click", () => answer(true));
    another.addEventListener("click", () => answer(false));
    question.addEventListener("keydown", (event) => {
      if (event.key === "Escape") answer(false);
    });
  });
}

/**
 * Book or move with `send(allowOverlap)`; `button` (the slot's, disabled by the caller) is
 * enabled again when the patient chooses another time. An `appointment_overlap` refusal is
 * asked about in `box`; "book anyway" repeats the same request with allow_overlap. Resolves
 * to the hub's answer, or null when the patient chose another time; other failures reject.
 */
async function sendAskingAboutOverlap(send, box, slot, button) {
  try {
    return await send(false);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "appointment_overlap") throw error;
    const { yes, refocus, settle } = await askAboutOverlap(box, error, slot);
    if (!yes) {
      button.disabled = false;
      if (refocus && button.isConnected) button.focus();
      return null;
    }
    try {
      return await send(true);
    } finally {
      settle();
    }
  }
}

function slotList(slots, actionKey, onChoose) {
  if (!slots.length) return notice("info", t("visits.no_slots"));
  return h(
    "ul",
    { class: "slots" },
    slots.map((slot) =>
      h(
        "li",
        { class: "slot", "data-slot-id": slot.id },
        h("div", {}, h("strong", {}, formatDateTime(slot.start)), " · ", slot.service.name),
        h("div", { class: "muted" }, slot.physician.name, " · ", place(slot)),
        h("button", { type: "button", onclick: (event) => onChoose(slot, event.currentTarget) }, t(actionKey)),
      ),
    ),
  );
}

function appointmentCard(item, { upcoming, reload }) {
  const status = h("span", { class: "status status-" + item.status }, label("status", item.status));
  const area = h("div", { class: "inline", "aria-live": "polite" });
  const body = [
    h("h3", {}, item.service.name, " ", status),
    facts([
      ["visits.when", formatDateTime(item.start)],
      ["visits.physician", item.physician.name],
      ["visits.where", place(item)],
      ["visits.patient", item.patient.name],
      ["visits.booked_via", label("source", item.source)],
    ]),
    h(
      "details",
      { class: "history" },
      h("summary", {}, t("visits.history")),
      h(
        "ol",
        {},
        item.history.map((change) =>
          h(
            "li",
            {},
            label("status", change.status), " · ", formatDateTime(change.at), " · ", label("source", change.source),
            change.note ? " · " + change.note : "",
          ),
        ),
      ),
    ),
  ];
  if (upcoming && item.status === "booked") {
    const cancel = h("button", { type: "button", class: "danger" }, t("visits.cancel"));
    const move = h("button", { type: "button", class: "secondary" }, t("visits.reschedule"));
    cancel.addEventListener("click", async () => {
      if (!confirm(t("visits.cancel_confirm", { when: formatDateTime(item.start) }))) return;
      cancel.disabled = true;
      try {
        await api(`/appointments/${item.id}/cancel`, { method: "POST", body: {} });
        await reload(t("visits.cancelled"));
      } catch (error) {
        cancel.disabled = false;
        area.replaceChildren(notice("error", describe(error)));
      }
    });
    move.addEventListener("click", async () => {
      area.replaceChildren(notice("info", t("common.loading")));
      try {
        const page = await api("/slots", {
          query: { service: item.service.code, limit: 8, date_from: isoDate(new Date()) },
        });
        const others = page.items.filter((slot) => slot.start !== item.start);
        const list = slotList(others, "visits.choose", async (slot, button) => {
          button.disabled = true;
          try {
            const moved = await sendAskingAboutOverlap(
              (allowOverlap) => api(`/appointments/${item.id}/reschedule`, {
                method: "POST",
                body: { slot_id: slot.id, allow_overlap: allowOverlap || undefined },
              }),
              area, slot, button,
            );
            if (!moved) return;
            await reload(t("visits.rescheduled", { when: formatDateTime(slot.start) }));
          } catch (error) {
            button.disabled = false;
            area.append(notice("error", describe(error)));
          }
        });
        area.replaceChildren(h("p", {}, t("visits.reschedule_lead")), list);
      } catch (error) {
        area.replaceChildren(notice("error", describe(error)));
      }
    });
    body.push(h("div", { class: "actions" }, move, cancel));
  }
  body.push(area);
  return body;
}

async function bookingForm(me, reload) {
  const [specialties, clinics, dependents] = await Promise.all([
    api("/specialties"),
    api("/clinics"),
    api("/me/dependents").catch(() => ({ items: [] })),
  ]);
  const cities = [...new Set(clinics.items.map((c) => c.city))].sort((a, b) => a.localeCompare(b, "pl"));
  const option = (value, text) => h("option", { value }, text);
  const forWhom = h("select", { name: "patient_id", id: "book-patient" },
    option("", t("book.myself", { name: me.display_name })),
    dependents.items.map((child) => option(child.id, child.first_name + " " + child.last_name)));
  // children.html links here with ?for=<child's id>: that child is chosen already.
  const chosen = new URLSearchParams(location.search).get("for");
  if (chosen && dependents.items.some((child) => child.id === chosen)) forWhom.value = chosen;
  const today = new Date();
  const later = new Date(Date.now() + 14 * 864e5);
  const form = h(
    "form",
    { class: "form search", id: "book-form", novalidate: true },
    h("div", { class: "form-alert" }),
    h(
      "div",
      { class: "grid" },
      field("book.for", forWhom),
      field("book.service_type", h("select", { name: "service_type", id: "book-service-type" },
        option("", t("common.any")), SERVICE_TYPES.map((type) => option(type, label("service_type", type))))),
      field("book.specialty", h("select", { name: "specialty", id: "book-specialty" },
        option("", t("common.any")), specialties.items.map((s) => option(s.code, s.name)))),
      field("book.city", h("select", { name: "city", id: "book-city" },
        option("", t("common.any")), cities.map((city) => option(city, city)))),
      field("book.date_from", h("input", { type: "date", name: "date_from", id: "book-from", value: isoDate(today) })),
      field("book.date_to", h("input", { type: "date", name: "date_to", id: "book-to", value: isoDate(later) })),
      field("book.time_of_day", h("select", { name: "time_of_day", id: "book-time" },
        option("", t("common.any")), TIMES.map((time) => option(time, t("time." + time))))),
    ),
    h("button", { type: "submit" }, t("book.search")),
  );
  const results = h("div", { class: "results", "aria-live": "polite" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const values = Object.fromEntries(new FormData(form).entries());
    const patientId = values.patient_id;
    delete values.patient_id;
    results.replaceChildren(notice("info", t("common.loading")));
    try {
      const found = await api("/slots", { query: { ...values, limit: 20 } });
      results.replaceChildren(
        h("h3", {}, t("book.results")),
        slotList(found.items, "book.book", async (slot, button) => {
          button.disabled = true;
          // One key for the first try and its repetition with allow_overlap: the refusal
          // stored nothing, and a retried "book anyway" still cannot book twice.
          const idempotencyKey = randomId();
          try {
            const booked = await sendAskingAboutOverlap(
              (allowOverlap) => api("/appointments", {
                method: "POST",
                body: {
                  slot_id: slot.id,
                  patient_id: patientId || undefined,
                  idempotency_key: idempotencyKey,
                  allow_overlap: allowOverlap || undefined,
                },
              }),
              results, slot, button,
            );
            if (!booked) return;
            await reload(t("book.booked", { when: formatDateTime(slot.start) }));
          } catch (error) {
            button.disabled = false;
            results.prepend(notice("error", describe(error)));
          }
        }),
      );
    } catch (error) {
      results.replaceChildren();
      showFormErrors(form, error);
    }
  });
  return h("section", { class: "panel-box", "aria-labelledby": "book-title" }, h("h2", { id: "book-title" }, t("book.title")), form, results);
}

page({
  title: "visits.title",
  auth: "patient",
  render: async (main, { me }) => {
    const status = h("div", { class: "page-status", "aria-live": "polite" });
    const lists = h("div");
    const reload = async (message) => {
      const [upcoming, past] = await Promise.all([
        api("/appointments", { query: { period: "upcoming" } }),
        api("/appointments", { query: { period: "past" } }),
      ]);
      lists.replaceChildren(
        h("section", { id: "upcoming", "aria-labelledby": "upcoming-title" },
          h("h2", { id: "upcoming-title" }, t("visits.upcoming")),
          upcoming.items.length
            ? h("ul", { class: "cards" }, upcoming.items.map((item) =>
              h("li", { class: "card", "data-appointment-id": item.id }, appointmentCard(item, { upcoming: true, reload }))))
            : h("p", { class: "empty" }, t("visits.none_upcoming"))),
        h("section", { id: "past", "aria-labelledby": "past-title" },
          h("h2", { id: "past-title" }, t("visits.past")),
          past.items.length
            ? h("ul", { class: "cards" }, past.items.map((item) =>
              h("li", { class: "card", "data-appointment-id": item.id }, appointmentCard(item, { upcoming: false, reload }))))
            : h("p", { class: "empty" }, t("visits.none_past"))),
      );
      status.replaceChildren(message ? notice("success", message) : "");
    };
    if (me.access_level !== "full") main.append(notice("info", t("visits.basic_access")));
    main.append(status, lists);
    await reload();
    main.append(await bookingForm(me, reload));
  },
});
