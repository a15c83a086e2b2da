// The patient's children: those already added, booking for one of them, and adding a child
// under 18 (addDependent; the server checks the PESEL against the birth date and sex).
import { page, h, t, api, cards, facts, label, personFields, showFormErrors, clearFormErrors, flash, showFlash } from "../app.js";

function addForm(onAdded) {
  const form = h(
    "form",
    { class: "form", id: "child-form", novalidate: true },
    h("div", { class: "form-alert" }),
    h(
      "fieldset",
      {},
      h("legend", {}, t("children.add")),
      personFields("child-", false),
    ),
    h("button", { type: "submit" }, t("children.submit")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const body = Object.fromEntries([...new FormData(form).entries()].map(([key, value]) => [key, String(value).trim()]));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const child = await api("/me/dependents", { method: "POST", body });
      form.reset();
      await onAdded(child);
    } catch (error) {
      showFormErrors(form, error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

page({
  title: "children.title",
  auth: "patient",
  render: async (main, { rerender }) => {
    const found = await api("/me/dependents");
    const status = h("div", { class: "page-status", "aria-live": "polite" });
    const list = cards(found.items, (child) => [
      h("h3", {}, child.first_name + " " + child.last_name),
      facts([
        ["field.birth_date", child.birth_date],
        ["field.sex", label("sex", child.sex)],
        ["field.pesel", child.pesel],
      ]),
      h("div", { class: "actions" }, h("a", { class: "button", href: "/visits.html?for=" + encodeURIComponent(child.id) }, t("children.book"))),
    ], "children.none");
    main.append(
      h("p", {}, t("children.lead")),
      status,
      list,
      addForm(async (child) => {
        flash(t("children.added", { name: child.first_name + " " + child.last_name }));
        await rerender();
      }),
    );
    showFlash(status);
  },
});
