// Registration: the full form; the server's per-field errors are shown next to each field.
import { page, h, t, api, field, personFields, showFormErrors, clearFormErrors, storeCsrfToken, notice, refreshHeader } from "../app.js";

page({
  title: "register.title",
  render: async (main) => {
    const input = (name, attrs = {}) => h("input", { name, id: "reg-" + name, required: true, ...attrs });
    const form = h(
      "form",
      { class: "form", novalidate: true },
      h("div", { class: "form-alert" }),
      h(
        "fieldset",
        {},
        h("legend", {}, t("register.personal")),
        personFields("reg-", true),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, t("register.contact")),
        field("field.email", input("email", { type: "email", autocomplete: "email" })),
        field("field.phone", input("phone", { type: "tel", autocomplete: "tel", placeholder: "+48 600 100 200" })),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, t("register.account")),
        field("field.login", input("login", { autocomplete: "username", maxlength: "64" })),
        field("field.password", input("password", { type: "password", autocomplete: "new-password", minlength: "12" }), "hint.password"),
      ),
      h("button", { type: "submit" }, t("register.submit")),
    );
    const done = h("div", { "aria-live": "polite" });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFormErrors(form);
      const body = Object.fromEntries(new FormData(form).entries());
      for (const key of Object.keys(body)) if (key !== "password") body[key] = body[key].trim();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("/accounts", { method: "POST", body });
        // A taken login or PESEL is answered like success (the hub tells nobody who has an
        // account here); then the login fails and the e-mail says what happened.
        const login = await api("/auth/login", { method: "POST", body: { login: body.login, password: body.password } }).catch((error) => {
          if (error.status === 401) return null;
          throw error;
        });
        form.remove();
        if (!login) {
          done.replaceChildren(notice("info", t("register.check_email")));
          return;
        }
        storeCsrfToken(login.csrf_token);
        await refreshHeader();
        done.replaceChildren(
          notice("success", t("register.done")),
          h("p", {}, h("a", { class: "button", href: "/terms.html" }, t("register.next_terms"))),
        );
      } catch (error) {
        showFormErrors(form, error);
      } finally {
        button.disabled = false;
      }
    });
    main.append(
      h("p", {}, t("register.lead")),
      form,
      done,
      h("p", {}, t("register.have_account") + " ", h("a", { href: "/login.html" }, t("nav.login"))),
    );
  },
});
