// "Join consultation": the upcoming telephone and online consultations. The room itself comes
// with the consultations issue; this page says so.
import { page, h, t, api, cards, notice, formatDateTime, facts, label } from "../app.js";

const REMOTE = ["telephone_consultation", "online_consultation"];

page({
  title: "consult.title",
  auth: "patient",
  render: async (main) => {
    const upcoming = await api("/appointments", { query: { period: "upcoming" } });
    const remote = upcoming.items.filter((a) => a.status === "booked" && REMOTE.includes(a.service.type));
    main.append(
      notice("info", t("consult.coming")),
      cards(remote, (a) => [
        h("h3", {}, a.service.name),
        facts([
          ["visits.when", formatDateTime(a.start)],
          ["visits.physician", a.physician.name],
          ["visits.patient", a.patient.name],
          ["consult.kind", label("service_type", a.service.type)],
        ]),
        h("div", { class: "actions" },
          h("button", { type: "button", disabled: true, "aria-describedby": "consult-note-" + a.id }, t("consult.join")),
          h("a", { class: "button secondary", href: "/documents.html" }, t("nav.documents"))),
        h("p", { class: "hint", id: "consult-note-" + a.id }, t("consult.join_note")),
      ], "consult.none"),
    );
  },
});
