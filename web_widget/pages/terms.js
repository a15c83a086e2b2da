// The Terms of Service: accepting them online gives full access.
import { page, h, t, api, notice, describe, formatDateTime } from "../app.js";

page({
  title: "terms.title",
  render: async (main, { me }) => {
    const terms = await api("/terms");
    main.append(
      h("p", { class: "hint" }, t("terms.version", { version: terms.terms_version })),
      h(
        "section",
        { class: "terms-text" },
        ["terms.p1", "terms.p2", "terms.p3", "terms.p4"].map((key) => h("p", {}, t(key))),
      ),
    );
    if (!me) {
      main.append(h("p", {}, h("a", { class: "button", href: "/login.html?next=/terms.html" }, t("terms.login_to_accept"))));
      return;
    }
    if (me.access_level === "full") {
      main.append(notice("success", t("terms.already", { at: formatDateTime(me.full_access_at) })));
      return;
    }
    if (me.role !== "patient") return;
    const box = h("input", { type: "checkbox", id: "accept-terms", name: "accept_terms" });
    const status = h("div", { "aria-live": "polite" });
    const form = h(
      "form",
      { class: "form" },
      h("div", { class: "check" }, box, h("label", { for: "accept-terms" }, t("terms.accept_label"))),
      h("button", { type: "submit" }, t("terms.accept")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!box.checked) {
        status.replaceChildren(notice("error", t("terms.tick_first")));
        box.focus();
        return;
      }
      try {
        await api("/me/full-access", { method: "POST", body: { accept_terms: true, terms_version: terms.terms_version } });
        form.remove();
        status.replaceChildren(
          notice("success", t("terms.accepted")),
          h("p", {}, h("a", { class: "button", href: "/visits.html" }, t("nav.visits"))),
        );
      } catch (error) {
        status.replaceChildren(notice("error", describe(error)));
      }
    });
    main.append(form, status);
  },
});
