// Shared code of the patient and reception pages: the API client, DOM helpers, the page frame.
// Plain ES module, no framework. Text from users and from the server is always inserted as
// text (textContent / text nodes), never as HTML.

import { getLanguage, setLanguage, t, onLanguageChange } from "./i18n.js";

export { t, getLanguage };

export const API = "/api/v1";
const CSRF_KEY = "mp_csrf";

/** A failed API call: the HTTP status and the RFC 9457 problem the server sent. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.title || problem.detail)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || "http_" + status;
    this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

export function csrfToken() {
  return sessionStorage.getItem(CSRF_KEY);
}

export function storeCsrfToken(token) {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

/** The login page, coming back to this one afterwards. */
export function loginUrl(reason) {
  const next = location.pathname + location.search;
  const params = new URLSearchParams({ next });
  if (reason) params.set("reason", reason);
  return "/login.html?" + params.toString();
}

/**
 * `value` (a URL parameter such as the login page's `next`) as a path of this site to go to, or
 * null. Only a same-origin URL whose path starts with exactly one "/" passes (OWASP Unvalidated
 * Redirects and Forwards Cheat Sheet): "//evil", "https://evil" and "javascript:" fail, and so do
 * backslashes and control characters, which the URL parser turns into "/" or drops (WHATWG URL:
 * "/\\evil" and "/<TAB>/evil" both mean "//evil"), and an encoded slash or backslash right
 * after the first "/", which a proxy might decode. The parsed, normalised form is returned.
 */
export function sameOriginPath(value) {
  if (typeof value !== "string" || !value.startsWith("/")) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return null;
  }
  if (url.origin !== location.origin || !url.pathname.startsWith("/")) return null;
  if (/^\/(\/|%2f|%5c)/i.test(url.pathname)) return null;
  return url.pathname + url.search + url.hash;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id in a URL parameter, or "" when it is not one. Ids from the address go into API paths
 * (`/physician/appointments/${id}`); only a UUID may, so "../" cannot steer a page's request to
 * another endpoint (client-side path traversal).
 */
export function idParam(value) {
  return typeof value === "string" && UUID.test(value) ? value : "";
}

/**
 * Call the REST API. `body` is sent as JSON, `form` as multipart (FormData, in its order).
 * The CSRF token from the login goes with every state-changing request made with the cookie.
 * Resolves to the parsed JSON (or null for 204); rejects with ApiError.
 */
export async function api(path, { method = "GET", body, form, query } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": getLanguage() };
  let url = API + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    }
    const text = params.toString();
    if (text) url += "?" + text;
  }
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
  }
  if (form) {
    init.body = form;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { code: "network_error", title: t("error.network") });
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (error.code === "csrf_failed") {
      // The token was lost (a new tab, an old session): only a new login gives one.
      storeCsrfToken(null);
      location.assign(loginUrl("session"));
    }
    throw error;
  }
  return data;
}

/** Build an element; strings among the children become text nodes, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.append(child);
    else parent.append(document.createTextNode(String(child)));
  }
}

const ZONE = "Europe/Warsaw";

/** "wt., 1 gru 2026, 10:30" in the page's language, in the clinics' time zone. */
export function formatDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: ZONE,
  }).format(new Date(iso));
}

export function formatDate(iso) {
  if (!iso) return "";
  const value = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? iso + "T12:00:00Z" : iso;
  return new Intl.DateTimeFormat(getLanguage() === "pl" ? "pl-PL" : "en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: ZONE,
  }).format(new Date(value));
}

export function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
  return Math.max(1, Math.round(bytes / 1024)) + " kB";
}

/** A status line (role=status) or an alert (role=alert) that screen readers announce. */
export function notice(kind, text) {
  return h("p", { class: "notice notice-" + kind, role: kind === "error" ? "alert" : "status" }, text);
}

/** Replace the content of `container` with a notice about `error`. */
export function showError(container, error) {
  container.replaceChildren(notice("error", describe(error)));
}

export function describe(error) {
  if (error instanceof ApiError) {
    const detail = error.errors.map((e) => e.message).join(" ");
    return [error.problem.title || t("error.generic"), detail].filter(Boolean).join(" ");
  }
  return t("error.generic");
}

/**
 * Show a problem on a form: each `errors[]` entry next to its field (aria-invalid,
 * aria-describedby), the rest in the form's alert box.
 */
export function showFormErrors(form, error) {
  clearFormErrors(form);
  const box = form.querySelector(".form-alert");
  const unplaced = [];
  for (const item of error instanceof ApiError ? error.errors : []) {
    const name = String(item.field || "").split(".").pop();
    const input = name ? form.elements.namedItem(name) : null;
    const target = input && (input instanceof RadioNodeList ? input[0] : input);
    if (!target) {
      unplaced.push(item.message);
      continue;
    }
    const id = "err-" + name;
    const message = h("span", { class: "field-error", id }, item.message);
    const field = target.closest(".field") || target.parentElement;
    field.append(message);
    target.setAttribute("aria-invalid", "true");
    target.setAttribute("aria-describedby", id);
  }
  if (box) {
    const title = error instanceof ApiError ? error.problem.title : t("error.generic");
    box.replaceChildren(notice("error", [title, ...unplaced].filter(Boolean).join(" ")));
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

export function clearFormErrors(form) {
  form.querySelectorAll(".field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => {
    node.removeAttribute("aria-invalid");
    node.removeAttribute("aria-describedby");
  });
  const box = form.querySelector(".form-alert");
  if (box) box.replaceChildren();
}

/** A labelled form field. */
export function field(labelKey, input, hintKey) {
  const id = input.id || "f-" + (input.name || Math.random().toString(36).slice(2));
  input.id = id;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, t(labelKey)),
    hintKey ? h("span", { class: "hint" }, t(hintKey)) : null,
    input,
  );
}

/**
 * The person fields of registration and of adding a child: first and last name, birth date
 * (DD-MM-YYYY), sex and PESEL, with ids `prefix + name`. `own`: the user's own data, which the
 * browser may fill in (autocomplete); a child's it may not.
 */
export function personFields(prefix, own) {
  const auto = (value) => (own ? value : "off");
  const input = (name, attrs = {}) => h("input", { name, id: prefix + name, required: true, ...attrs });
  const sex = h(
    "select",
    { name: "sex", id: prefix + "sex", required: true },
    h("option", { value: "" }, t("register.sex_choose")),
    h("option", { value: "female" }, t("sex.female")),
    h("option", { value: "male" }, t("sex.male")),
  );
  return [
    field("field.first_name", input("first_name", { autocomplete: auto("given-name"), maxlength: "200" })),
    field("field.last_name", input("last_name", { autocomplete: auto("family-name"), maxlength: "200" })),
    field("field.birth_date", input("birth_date", { placeholder: "DD-MM-YYYY", inputmode: "numeric", pattern: "\\d{2}-\\d{2}-\\d{4}", autocomplete: auto("bday") }), "hint.birth_date"),
    field("field.sex", sex),
    field("field.pesel", input("pesel", { inputmode: "numeric", maxlength: "11", autocomplete: "off" }), "hint.pesel"),
  ];
}

const FLASH_KEY = "mp_flash";

/** Keep a success message for the page's next render (a page re-renders after a change). */
export function flash(text) {
  sessionStorage.setItem(FLASH_KEY, text);
}

/** Show the kept success message, if any, in `status`, once. */
export function showFlash(status) {
  const text = sessionStorage.getItem(FLASH_KEY);
  if (!text) return;
  sessionStorage.removeItem(FLASH_KEY);
  status.replaceChildren(notice("success", text));
}

/** A random id for idempotency keys and chat messages (also outside secure contexts). */
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const NAV = [
  ["visits.html", "nav.visits"],
  ["children.html", "nav.children"],
  ["documents.html", "nav.documents"],
  ["results.html", "nav.results"],
  ["referrals.html", "nav.referrals"],
  ["instructions.html", "nav.instructions"],
  ["prescriptions.html", "nav.prescriptions"],
  ["questions.html", "nav.questions"],
  ["consultation.html", "nav.consultation"],
];

/** Staff see their own console instead of the patient's pages. */
const STAFF_NAV = {
  reception: [["reception.html", "nav.reception"]],
  physician: [["desk.html", "nav.desk"]],
};

async function loadMe() {
  try {
    return await api("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function logout() {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch (error) {
    // Already logged out or the session ended: the cookie is cleared either way.
  }
  storeCsrfToken(null);
  // The chat of this login stays with it: the next person at this browser starts afresh.
  localStorage.removeItem("mp_chat");
  sessionStorage.removeItem("mp_chat_transcript");
  sessionStorage.removeItem("mp_desk_chat");
  location.assign("/login.html");
}

function header(me) {
  const here = location.pathname.replace(/^\//, "") || "index.html";
  const links = !me ? [] : STAFF_NAV[me.role] || NAV;
  const nav = h(
    "nav",
    { class: "site-nav", "aria-label": t("nav.label") },
    h(
      "ul",
      {},
      links.map(([href, key]) =>
        h("li", {}, h("a", { href: "/" + href, "aria-current": href === here ? "page" : null }, t(key))),
      ),
    ),
  );
  const other = getLanguage() === "pl" ? "en" : "pl";
  const account = me
    ? h(
        "div",
        { class: "account" },
        h("span", { class: "who" }, me.display_name),
        h("button", { type: "button", class: "link", onclick: logout }, t("nav.logout")),
      )
    : h(
        "div",
        { class: "account" },
        h("a", { href: "/login.html" }, t("nav.login")),
        h("a", { href: "/register.html" }, t("nav.register")),
      );
  return h(
    "header",
    { class: "site-header" },
    h(
      "div",
      { class: "bar" },
      h("a", { class: "brand", href: "/" }, t("app.name")),
      h(
        "button",
        {
          type: "button",
          class: "lang",
          lang: other,
          "aria-label": t("nav.language_switch"),
          onclick: () => setLanguage(other),
        },
        other.toUpperCase(),
      ),
      account,
    ),
    nav,
  );
}

/** Draw the header again for whoever is logged in now (after a login on the same page). */
export async function refreshHeader() {
  const me = await loadMe();
  const old = document.querySelector("header.site-header");
  if (old) old.replaceWith(header(me));
  return me;
}

/**
 * Run a page: header, language, the logged-in account, then `render(main, context)`.
 * `auth` is null (anyone), "any" (logged in), "patient", "physician" or "reception".
 * A page that needs a login and finds no CSRF token in this tab sends the user to log in again:
 * no endpoint hands the token out later.
 */
export function page({ title, auth = null, render }) {
  const run = async () => {
    document.documentElement.lang = getLanguage();
    document.title = t(title) + " · " + t("app.name");
    const main = document.querySelector("main") || document.body.appendChild(h("main"));
    main.id = "main";
    let me = null;
    try {
      me = await loadMe();
    } catch (error) {
      showError(main, error);
    }
    if (auth && (!me || !csrfToken())) {
      location.replace(loginUrl(me ? "session" : null));
      return;
    }
    const old = document.querySelector("header.site-header");
    const top = header(me);
    if (old) old.replaceWith(top);
    else document.body.prepend(top);
    if (!document.querySelector(".skip")) {
      document.body.prepend(h("a", { class: "skip", href: "#main" }, t("nav.skip")));
    } else {
      document.querySelector(".skip").textContent = t("nav.skip");
    }
    main.replaceChildren(h("h1", {}, t(title)));
    if (auth && auth !== "any" && me.role !== auth) {
      main.append(notice("error", t("error.wrong_role")));
      return;
    }
    main.setAttribute("aria-busy", "true");
    try {
      await render(main, { me, rerender: run });
    } catch (error) {
      main.append(notice("error", describe(error)));
    } finally {
      main.removeAttribute("aria-busy");
    }
  };
  onLanguageChange(run);
  run();
}

/** A list of cards, or an "empty" line. */
export function cards(items, renderItem, emptyKey) {
  if (!items.length) return h("p", { class: "empty" }, t(emptyKey));
  return h("ul", { class: "cards" }, items.map((item) => h("li", { class: "card" }, renderItem(item))));
}

/** A definition list of label/value rows, skipping empty values. */
export function facts(rows) {
  return h(
    "dl",
    { class: "facts" },
    rows
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([key, value]) => [h("dt", {}, t(key)), h("dd", {}, value)]),
  );
}

/** Localised label of an enum value: `prefix.value`, or the value itself. */
export function label(prefix, value) {
  const key = prefix + "." + value;
  const text = t(key);
  return text === key ? value : text;
}

/** Where a visit happens: the clinic, or "by telephone" / "online". */
export function place(item) {
  if (item.clinic) return item.clinic.name + ", " + item.clinic.address + ", " + item.clinic.city;
  return label("service_type", item.service.type);
}
