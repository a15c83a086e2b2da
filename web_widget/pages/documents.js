// "Your files" for a telephone or online consultation: accept the regulations, upload (limits
// shown before and enforced before sending), list, download, delete.
import { page, h, t, api, notice, describe, formatDateTime, formatSize, field, label, ApiError } from "../app.js";

const TYPES = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", pdf: "application/pdf" };
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_FILES = 5;
const REMOTE = ["telephone_consultation", "online_consultation"];

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** The client-side checks: the server checks again (by content, not by name). */
export function checkFile(file, stored) {
  if (stored >= MAX_FILES) return t("docs.limit_count", { max: MAX_FILES });
  if (!(extension(file.name) in TYPES)) return t("docs.limit_type_error");
  if (file.size > MAX_BYTES) return t("docs.limit_size_error", { size: formatSize(file.size) });
  if (file.size === 0) return t("docs.empty_file");
  return null;
}

page({
  title: "docs.title",
  auth: "patient",
  render: async (main) => {
    main.append(
      h("p", {}, t("docs.lead")),
      h(
        "section",
        { class: "limits", id: "limits", "aria-labelledby": "limits-title" },
        h("h2", { id: "limits-title" }, t("docs.limits")),
        h("ul", {}, h("li", {}, t("docs.limit_types")), h("li", {}, t("docs.limit_size")), h("li", {}, t("docs.limit_files", { max: MAX_FILES }))),
      ),
    );
    const status = h("div", { class: "page-status", "aria-live": "polite" });
    const listBox = h("section", { id: "files", "aria-labelledby": "files-title" });
    let documents = [];

    const regulations = h(
      "section",
      { class: "panel-box", id: "regulations", "aria-labelledby": "regs-title" },
      h("h2", { id: "regs-title" }, t("docs.regulations")),
      ["docs.reg1", "docs.reg2", "docs.reg3"].map((key) => h("p", {}, t(key))),
    );
    const regsBox = h("input", { type: "checkbox", id: "accept-regulations" });
    const regsButton = h("button", { type: "button" }, t("docs.accept_regulations"));
    const regsStatus = h("div", { "aria-live": "polite" });
    regsButton.addEventListener("click", async () => {
      if (!regsBox.checked) {
        regsStatus.replaceChildren(notice("error", t("terms.tick_first")));
        return;
      }
      try {
        const out = await api("/me/document-regulations", { method: "POST", body: {} });
        regsStatus.replaceChildren(notice("success", t("docs.regulations_accepted", { version: out.version })));
      } catch (error) {
        regsStatus.replaceChildren(notice("error", describe(error)));
      }
    });
    regulations.append(h("div", { class: "check" }, regsBox, h("label", { for: "accept-regulations" }, t("docs.accept_label"))), regsButton, regsStatus);

    const upcoming = await api("/appointments", { query: { period: "upcoming" } });
    const remote = upcoming.items.filter((a) => a.status === "booked" && REMOTE.includes(a.service.type));
    const select = h(
      "select",
      { name: "appointment_id", id: "doc-appointment" },
      remote.map((a) => h("option", { value: a.id }, `${formatDateTime(a.start)} · ${a.service.name} · ${a.patient.name}`)),
    );
    const description = h("input", { name: "description", id: "doc-description", required: true, maxlength: "500" });
    const file = h("input", {
      type: "file", name: "file", id: "doc-file", required: true,
      accept: ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf",
    });
    const form = h(
      "form",
      { class: "form", id: "upload-form", novalidate: true },
      h("div", { class: "form-alert" }),
      field("docs.consultation", select),
      field("docs.description", description, "docs.description_hint"),
      field("docs.file", file, "docs.file_hint"),
      h("button", { type: "submit" }, t("docs.upload")),
    );
    const formStatus = h("div", { "aria-live": "polite" });
    // The limit of five is per patient: count the files of the chosen visit's patient.
    const storedFor = (appointmentId) => {
      const visit = remote.find((a) => a.id === appointmentId);
      return documents.filter((d) => !visit || d.patient_id === visit.patient.id).length;
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formStatus.replaceChildren();
      const chosen = file.files[0];
      const problem = !description.value.trim()
        ? t("docs.description_required")
        : !chosen
          ? t("docs.choose_file")
          : checkFile(chosen, storedFor(select.value));
      if (problem) {
        formStatus.replaceChildren(notice("error", problem));
        return;
      }
      // The text parts first, the file last: the server checks them before reading the file.
      const data = new FormData();
      data.append("description", description.value.trim());
      if (select.value) data.append("appointment_id", select.value);
      data.append("file", chosen, chosen.name);
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("/documents", { method: "POST", form: data });
        form.reset();
        await reload(t("docs.uploaded", { name: chosen.name }));
      } catch (error) {
        let text = describe(error);
        if (error instanceof ApiError && error.code === "document_regulations_required") {
          text = t("docs.accept_first");
          regsBox.focus();
        }
        formStatus.replaceChildren(notice("error", text));
      } finally {
        button.disabled = false;
      }
    });

    const reload = async (message) => {
      const docs = await api("/documents");
      documents = docs.items;
      const stored = docs.items.length;
      listBox.replaceChildren(
        h("h2", { id: "files-title" }, t("docs.your_files", { count: stored, max: MAX_FILES })),
        docs.items.length
          ? h("ul", { class: "cards" }, docs.items.map((doc) => {
            const remove = h("button", { type: "button", class: "danger" }, t("docs.delete"));
            remove.addEventListener("click", async () => {
              if (!confirm(t("docs.delete_confirm", { name: doc.file_name }))) return;
              remove.disabled = true;
              try {
                await api(`/documents/${doc.id}`, { method: "DELETE" });
                await reload(t("docs.deleted", { name: doc.file_name }));
              } catch (error) {
                remove.disabled = false;
                status.replaceChildren(notice("error", describe(error)));
              }
            });
            return h("li", { class: "card", "data-document-id": doc.id },
              h("h3", {}, doc.file_name),
              h("p", {}, doc.description),
              h("p", { class: "muted" }, `${label("mime", doc.content_type)} · ${formatSize(doc.size)} · ${formatDateTime(doc.created_at)}`),
              h("div", { class: "actions" },
                h("a", { class: "button secondary", href: `/api/v1/documents/${doc.id}/content`, download: doc.file_name }, t("docs.download")),
                remove));
          }))
          : h("p", { class: "empty" }, t("docs.none")),
      );
      status.replaceChildren(message ? notice("success", message) : "");
    };

    main.append(status, regulations);
    if (remote.length) {
      main.append(h("section", { class: "panel-box", "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, t("docs.upload_title")), form, formStatus));
    } else {
      main.append(notice("info", t("docs.no_consultation")), h("p", {}, h("a", { href: "/visits.html" }, t("docs.book_one"))));
    }
    main.append(listBox);
    await reload();
  },
});
