// "Ask your doctor" after an attended visit, and the answers.
import { page, h, t, api, cards, notice, formatDateTime, field, showFormErrors, clearFormErrors, label, flash, showFlash } from "../app.js";

page({
  title: "questions.title",
  auth: "patient",
  render: async (main, { rerender }) => {
    const [past, questions] = await Promise.all([
      api("/appointments", { query: { period: "past" } }),
      api("/questions"),
    ]);
    const attended = past.items.filter((a) => a.status === "completed");
    const status = h("div", { class: "page-status", "aria-live": "polite" });
    main.append(h("p", {}, t("questions.lead")), status);
    if (attended.length) {
      const form = h(
        "form",
        { class: "form", id: "ask-form", novalidate: true },
        h("div", { class: "form-alert" }),
        field("questions.visit", h("select", { name: "appointment_id", id: "ask-visit" },
          attended.map((a) => h("option", { value: a.id }, `${formatDateTime(a.start)} · ${a.service.name} · ${a.physician.name}`)))),
        field("questions.text", h("textarea", { name: "text", id: "ask-text", rows: "4", maxlength: "2000", required: true })),
        h("button", { type: "submit" }, t("questions.send")),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearFormErrors(form);
        try {
          await api("/questions", {
            method: "POST",
            body: { appointment_id: form.elements.appointment_id.value, text: form.elements.text.value.trim() },
          });
          flash(t("questions.sent"));
          await rerender();
        } catch (error) {
          showFormErrors(form, error);
        }
      });
      main.append(h("section", { class: "panel-box" }, h("h2", {}, t("questions.ask")), form));
    } else {
      main.append(notice("info", t("questions.no_visits")));
    }
    main.append(
      h("h2", {}, t("questions.yours")),
      cards(questions.items, (q) => [
        h("h3", {}, q.physician.name, " ", h("span", { class: "status status-" + q.status }, label("question_status", q.status))),
        h("p", { class: "muted" }, formatDateTime(q.created_at)),
        h("p", { class: "pre" }, q.text),
        q.answer
          ? h("div", { class: "comment" }, h("strong", {}, t("questions.answer", { at: formatDateTime(q.answered_at) })), h("p", { class: "pre" }, q.answer))
          : null,
      ], "questions.none"),
    );
    showFlash(status);
  },
});
