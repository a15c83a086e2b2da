// E-referrals and where they lead.
import { page, h, t, api, cards, formatDate, formatDateTime, facts, label } from "../app.js";

page({
  title: "referrals.title",
  auth: "patient",
  render: async (main) => {
    const found = await api("/referrals");
    main.append(
      cards(found.items, (referral) => [
        h("h3", {}, (referral.service && referral.service.name) || (referral.specialty && referral.specialty.name) ||
          label("service_type", referral.service_type || ""), " ",
          h("span", { class: "status status-" + referral.status }, label("referral_status", referral.status))),
        facts([
          ["referrals.reason", referral.reason],
          ["referrals.issued_by", referral.issued_by.name],
          ["referrals.issued_at", formatDateTime(referral.issued_at)],
          ["referrals.valid_until", formatDate(referral.valid_until)],
          ["referrals.access_code", referral.access_code],
        ]),
        referral.status === "issued" ? h("a", { href: "/visits.html#book-title" }, t("referrals.book")) : null,
      ], "referrals.none"),
    );
  },
});
