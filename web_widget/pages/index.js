// Home: what the portal offers and where to go next.
import { page, h, t, notice } from "../app.js";

const SECTIONS = [
  ["visits.html", "nav.visits", "home.visits"],
  ["documents.html", "nav.documents", "home.documents"],
  ["results.html", "nav.results", "home.results"],
  ["referrals.html", "nav.referrals", "home.referrals"],
  ["instructions.html", "nav.instructions", "home.instructions"],
  ["prescriptions.html", "nav.prescriptions", "home.prescriptions"],
  ["questions.html", "nav.questions", "home.questions"],
  ["consultation.html", "nav.consultation", "home.consultation"],
];

page({
  title: "home.title",
  render: async (main, { me }) => {
    main.append(h("p", { class: "lead" }, t("home.lead")));
    if (!me) {
      main.append(
        h(
          "p",
          { class: "actions" },
          h("a", { class: "button", href: "/login.html" }, t("nav.login")),
          h("a", { class: "button secondary", href: "/register.html" }, t("nav.register")),
        ),
      );
    } else if (me.role === "reception") {
      main.append(h("p", {}, h("a", { class: "button", href: "/reception.html" }, t("nav.reception"))));
      return;
    } else if (me.access_level !== "full") {
      main.append(notice("info", t("home.basic_access")), h("p", {}, h("a", { href: "/terms.html" }, t("terms.title"))));
    }
    main.append(
      h(
        "ul",
        { class: "tiles" },
        SECTIONS.map(([href, title, text]) =>
          h("li", {}, h("a", { href: "/" + href }, h("strong", {}, t(title)), h("span", {}, t(text)))),
        ),
      ),
      h("p", { class: "hint" }, t("home.chat_hint")),
    );
  },
});
