// Log in (keeps the CSRF token in sessionStorage) and "forgot password".
import { page, h, t, api, field, showFormErrors, clearFormErrors, storeCsrfToken, notice, sameOriginPath } from "../app.js";

/** Where to go after the login: `next` if it is a path of this site, else the role's own page. */
function safeNext(value, role) {
  const next = sameOriginPath(value);
  if (next) return next;
  if (role === "reception") return "/reception.html";
  return role === "physician" ? "/desk.html" : "/visits.html";
}

page({
  title: "login.title",
  render: async (main, { me }) => {
    const params = new URLSearchParams(location.search);
    if (params.get("reason") === "session") main.append(notice("info", t("login.session_lost")));
    if (me && !params.get("reason")) main.append(notice("info", t("login.already", { name: me.display_name })));
    const form = h(
      "form",
      { class: "form", novalidate: true },
      h("div", { class: "form-alert" }),
      field("field.login", h("input", { name: "login", id: "login-login", required: true, autocomplete: "username" })),
      field("field.password", h("input", { name: "password", id: "login-password", type: "password", required: true, autocomplete: "current-password" })),
      h("button", { type: "submit" }, t("login.submit")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFormErrors(form);
      const body = Object.fromEntries(new FormData(form).entries());
      body.login = body.login.trim();
      try {
        const result = await api("/auth/login", { method: "POST", body });
        storeCsrfToken(result.csrf_token);
        location.assign(safeNext(params.get("next"), result.account.role));
      } catch (error) {
        showFormErrors(form, error);
      }
    });
    const forgot = h(
      "form",
      { class: "form", novalidate: true },
      h("div", { class: "form-alert" }),
      field("login.forgot_login", h("input", { name: "login", id: "forgot-login", required: true, autocomplete: "username" })),
      h("button", { type: "submit", class: "secondary" }, t("login.forgot_submit")),
    );
    const forgotDone = h("div", { "aria-live": "polite" });
    forgot.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFormErrors(forgot);
      try {
        await api("/auth/password-reset", { method: "POST", body: { login: forgot.elements.login.value.trim() } });
        forgotDone.replaceChildren(notice("success", t("login.forgot_sent")));
      } catch (error) {
        showFormErrors(forgot, error);
      }
    });
    main.append(
      form,
      h("p", {}, t("login.no_account") + " ", h("a", { href: "/register.html" }, t("nav.register"))),
      h("details", { class: "forgot" }, h("summary", {}, t("login.forgot")), h("p", {}, t("login.forgot_lead")), forgot, forgotDone),
    );
  },
});
