// E-prescriptions, and ordering a renewal from the history.
import { page, h, t, api, cards, notice, describe, formatDate, formatDateTime, facts, label, flash, showFlash } from "../app.js";

page({
  title: "rx.title",
  auth: "patient",
  render: async (main, { rerender }) => {
    const found = await api("/prescriptions");
    const status = h("div", { class: "page-status", "aria-live": "polite" });
    main.append(
      status,
      h("h2", {}, t("rx.history")),
      cards(found.prescriptions, (rx) => {
        const order = h("button", { type: "button" }, t("rx.order"));
        order.addEventListener("click", async () => {
          order.disabled = true;
          try {
            await api("/prescriptions/orders", { method: "POST", body: { prescription_id: rx.id } });
            flash(t("rx.ordered", { name: rx.medication_name }));
            await rerender();
          } catch (error) {
            order.disabled = false;
            status.replaceChildren(notice("error", describe(error)));
          }
        });
        return [
          h("h3", {}, rx.medication_name, " ", h("span", { class: "status status-" + rx.status }, label("rx_status", rx.status))),
          facts([
            ["rx.dosage", rx.dosage],
            ["rx.key", rx.prescription_key],
            ["rx.code", rx.access_code],
            ["rx.issued", formatDateTime(rx.issued_at)],
            ["rx.valid_until", formatDate(rx.valid_until)],
            ["rx.physician", rx.physician.name],
          ]),
          h("div", { class: "actions" }, order),
        ];
      }, "rx.none"),
      h("h2", {}, t("rx.orders")),
      cards(found.orders, (o) => [
        h("h3", {}, o.medication_name, " ", h("span", { class: "status status-" + o.status }, label("order_status", o.status))),
        facts([
          ["rx.dosage", o.dosage],
          ["rx.ordered_at", formatDateTime(o.created_at)],
          ["rx.reviewer", o.reviewer.name],
          ["rx.rejection", o.rejection_reason],
          ["rx.key", o.prescription && o.prescription.prescription_key],
          ["rx.code", o.prescription && o.prescription.access_code],
        ]),
      ], "rx.no_orders"),
    );
    showFlash(status);
  },
});
