// The documents of a consultation: each shown inline (images) or opened (PDF), and the form
// that shares a new one in the room (POST /consultations/{id}/documents, the documents rules:
// jpg/png/pdf up to 8 MB with a description). Used by the room and the desk's visit detail.
import { h, t, api, notice, describe, formatSize, field, label } from "../app.js";

const ACCEPT = ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf";
const MAX_BYTES = 8 * 1024 * 1024;

async function documentBlob(id) {
  const response = await fetch(`/api/v1/documents/${id}/content`, { credentials: "same-origin" });
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.blob();
}

/**
 * One shared document: images appear inline (fetched as a blob), a PDF has "Open" (a new tab
 * with the fetched file) and "Download". Used by the room and the desk's visit detail.
 */
export function documentItem(doc, extra = null) {
  const isImage = String(doc.content_type).startsWith("image/");
  const status = h("span", { class: "doc-status", "aria-live": "polite" });
  const item = h(
    "li",
    { class: "doc", "data-document-id": doc.id, "data-content-type": doc.content_type },
    h("strong", { class: "doc-name" }, doc.file_name),
    h("span", { class: "muted" }, " · ", label("mime", doc.content_type), " · ", formatSize(doc.size)),
    doc.description ? h("p", { class: "doc-description" }, doc.description) : null,
    extra,
  );
  const download = h(
    "a",
    { class: "button secondary", href: `/api/v1/documents/${doc.id}/content`, download: doc.file_name },
    t("room.download"),
  );
  if (isImage) {
    const picture = h("img", { class: "doc-image", alt: doc.description || doc.file_name });
    item.append(picture, h("div", { class: "actions" }, download), status);
    documentBlob(doc.id)
      .then((blob) => {
        picture.src = URL.createObjectURL(blob);
        picture.addEventListener("load", () => URL.revokeObjectURL(picture.src), { once: true });
      })
      .catch(() => status.replaceChildren(notice("error", t("room.doc_failed"))));
  } else {
    const open = h("button", { type: "button", class: "doc-open" }, t("room.open"));
    open.addEventListener("click", async () => {
      open.disabled = true;
      try {
        const blob = await documentBlob(doc.id);
        const url = URL.createObjectURL(blob);
        // A link clicked by the page keeps the click's user activation, so no popup blocker.
        const link = h("a", { href: url, target: "_blank", rel: "noopener" });
        document.body.append(link);
        link.click();
        link.remove();
        item.dataset.opened = String(blob.size);
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (error) {
        status.replaceChildren(notice("error", t("room.doc_failed")));
      } finally {
        open.disabled = false;
      }
    });
    item.append(h("div", { class: "actions" }, open, download), status);
  }
  return item;
}

/**
 * The room's documents panel: what was shared so far, each once, and the share form.
 * `onDocument(doc)` runs for each document listed.
 */
export class RoomDocuments {
  constructor({ appointmentId, onDocument = null }) {
    this.id = appointmentId;
    this.onDocument = onDocument;
    this.seen = new Set();
    this.list = h("ul", { class: "docs", id: "room-docs" });
    this.empty = h("p", { class: "empty" }, t("room.no_docs"));
    this.form = this.buildForm();
    this.element = h(
      "section",
      { class: "panel-box", id: "room-documents", "aria-labelledby": "docs-title" },
      h("h3", { id: "docs-title" }, t("room.documents")),
      this.empty,
      this.list,
      this.form,
    );
  }

  /** Whether the share form shows (while the room is open). */
  set open(value) {
    this.form.hidden = !value;
  }

  /** List `doc` unless it is listed already. */
  add(doc) {
    if (this.seen.has(doc.id)) return;
    this.seen.add(doc.id);
    this.empty.hidden = true;
    this.list.append(documentItem(doc));
    if (this.onDocument) this.onDocument(doc);
  }

  buildForm() {
    const description = h("input", { name: "description", id: "share-description", maxlength: "200", required: true });
    const file = h("input", { type: "file", name: "file", id: "share-file", accept: ACCEPT, required: true });
    const status = h("div", { class: "form-alert", "aria-live": "polite" });
    const button = h("button", { type: "submit", class: "secondary" }, t("room.share"));
    const form = h(
      "form",
      { class: "form share-form", id: "share-form", novalidate: true },
      h("h4", {}, t("room.share_title")),
      field("docs.description", description, "docs.description_hint"),
      field("docs.file", file, "docs.file_hint"),
      button,
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = file.files && file.files[0];
      if (!description.value.trim()) return status.replaceChildren(notice("error", t("docs.description_required")));
      if (!chosen) return status.replaceChildren(notice("error", t("docs.choose_file")));
      if (chosen.size > MAX_BYTES) return status.replaceChildren(notice("error", t("docs.limit_size_error", { size: formatSize(chosen.size) })));
      // The description part comes first, then the file (the protocol's multipart order).
      const body = new FormData();
      body.append("description", description.value.trim());
      body.append("file", chosen, chosen.name);
      button.disabled = true;
      status.replaceChildren(notice("info", t("room.sharing")));
      try {
        const doc = await api(`/consultations/${this.id}/documents`, { method: "POST", form: body });
        this.add(doc);
        form.reset();
        status.replaceChildren(notice("success", t("room.shared", { name: doc.file_name })));
      } catch (error) {
        status.replaceChildren(notice("error", describe(error)));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }
}
