// The physicians' instructions after visits.
import { page, h, api, cards, formatDateTime } from "../app.js";

page({
  title: "instructions.title",
  auth: "patient",
  render: async (main) => {
    const found = await api("/instructions");
    main.append(
      cards(found.items, (item) => [
        h("h3", {}, item.physician.name),
        h("p", { class: "muted" }, formatDateTime(item.created_at)),
        h("p", { class: "pre" }, item.text),
      ], "instructions.none"),
    );
  },
});
