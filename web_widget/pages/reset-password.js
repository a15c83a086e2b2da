// A new password with the token from the e-mailed link (#token=...).
import { page, h, t, api, field, showFormErrors, clearFormErrors, notice, ApiError } from "../app.js";

page({
  title: "reset.title",
  render: async (main) => {
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (!token) {
      main.append(notice("error", t("reset.no_token")), h("p", {}, h("a", { href: "/login.html" }, t("login.forgot"))));
      return;
    }
    const form = h(
      "form",
      { class: "form", novalidate: true },
      h("div", { class: "form-alert" }),
      field("field.new_password", h("input", { name: "new_password", id: "reset-new", type: "password", required: true, autocomplete: "new-password" }), "hint.password"),
      field("field.repeat_password", h("input", { name: "repeat", id: "reset-repeat", type: "password", required: true, autocomplete: "new-password" })),
      h("button", { type: "submit" }, t("reset.submit")),
    );
    const done = h("div", { "aria-live": "polite" });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFormErrors(form);
      const { new_password: password, repeat } = form.elements;
      if (password.value !== repeat.value) {
        showFormErrors(form, new ApiError(422, { title: t("reset.mismatch"), errors: [{ field: "repeat", message: t("reset.mismatch") }] }));
        return;
      }
      try {
        await api("/auth/password-reset/confirm", { method: "POST", body: { token, new_password: password.value } });
        form.remove();
        history.replaceState(null, "", location.pathname);
        done.replaceChildren(notice("success", t("reset.done")), h("p", {}, h("a", { class: "button", href: "/login.html" }, t("nav.login"))));
      } catch (error) {
        showFormErrors(form, error);
      }
    });
    main.append(form, done);
  },
});
