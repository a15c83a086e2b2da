// Released examination results with the physician's comment.
import { page, h, t, api, cards, formatDateTime, facts } from "../app.js";

page({
  title: "results.title",
  auth: "patient",
  render: async (main) => {
    const found = await api("/results");
    main.append(
      cards(found.items, (result) => [
        h("h3", {}, result.test_name),
        facts([
          ["results.performed", formatDateTime(result.performed_at)],
          ["results.commented_by", result.commented_by && result.commented_by.name],
        ]),
        result.values.length
          ? h("div", { class: "table-wrap" }, h(
            "table",
            {},
            h("caption", { class: "sr-only" }, result.test_name),
            h("thead", {}, h("tr", {}, ["results.name", "results.value", "results.range", "results.flag"].map((key) => h("th", { scope: "col" }, t(key))))),
            h("tbody", {}, result.values.map((value) => h(
              "tr",
              { class: value.flag ? "flagged" : null },
              h("td", {}, value.name),
              h("td", {}, value.value + (value.unit ? " " + value.unit : "")),
              h("td", {}, value.reference_text || [value.reference_low, value.reference_high].filter((v) => v !== null).join(" – ")),
              h("td", {}, value.flag ? t("results.flag_" + value.flag) : ""),
            ))),
          ))
          : null,
        result.physician_comment
          ? h("div", { class: "comment" }, h("strong", {}, t("results.comment")), h("p", {}, result.physician_comment))
          : null,
        result.attachment_document_id
          ? h("a", { class: "button secondary", href: `/api/v1/documents/${result.attachment_document_id}/content` }, t("results.attachment"))
          : null,
      ], "results.none"),
    );
  },
});
