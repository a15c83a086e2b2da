// The patient's consultation room: the upcoming telephone and online consultations (their own
// and their children's), a camera and microphone check against the hub's echo peer, and the
// room itself (pages/room.js) once it opens, 15 minutes before the start. The room's address
// is consultation.html?appointment=<id>, so a reload goes straight back into the call.
import { page, h, t, api, cards, notice, formatDateTime, facts, label, getLanguage, idParam } from "../app.js";
import { connectConsult, request, refusal, gathered } from "./consult-socket.js";
import { localMedia, stopStream, play } from "./consult-media.js";
import { ConsultRoom, exposeRoom } from "./room.js";

const REMOTE = ["telephone_consultation", "online_consultation"];
const OPENS_BEFORE_MS = 15 * 60 * 1000;
const STATS_EVERY_MS = 2000;
const TICK_MS = 15000;

let socketPromise = null; // one /consult connection for the page
let room = null;
let check = null;
let ticker = null;

function getSocket() {
  if (!socketPromise) socketPromise = connectConsult();
  return socketPromise;
}

exposeRoom(() => room);

function describeStats(stats) {
  const dash = "—";
  const rtt = stats.rtt_ms == null ? dash : Math.round(stats.rtt_ms) + " ms";
  const loss = stats.loss_pct == null ? dash : Number(stats.loss_pct).toFixed(1).replace(".", getLanguage() === "pl" ? "," : ".") + " %";
  const kbps = stats.kbps == null ? dash : Math.round(stats.kbps) + " kbit/s";
  return t("check.figures", { rtt, loss, kbps });
}

/**
 * "Check camera and microphone": the own picture and sound sent to the hub's echo peer and back,
 * with its round-trip time, loss and bitrate in plain words every two seconds.
 * Returns {element, start(), stop()}.
 */
function deviceCheck(getSocket) {
  const video = h("video", { class: "echo-video", id: "echo-video", autoplay: true, playsInline: true, muted: true });
  const verdict = h("p", { class: "verdict", id: "check-verdict", role: "status" });
  const figures = h("p", { class: "muted", id: "check-stats" });
  const problems = h("div", { "aria-live": "polite" });
  const stopButton = h("button", { type: "button", class: "secondary", id: "check-stop" }, t("check.stop"));
  const startButton = h("button", { type: "button", id: "check-start" }, t("check.start"));
  const stage = h("div", { class: "echo", hidden: true }, video, verdict, figures, h("div", { class: "actions" }, stopButton));
  const element = h(
    "section",
    { class: "panel-box device-check", id: "device-check", "aria-labelledby": "check-title" },
    h("h2", { id: "check-title" }, t("check.title")),
    h("p", {}, t("check.lead")),
    h("div", { class: "actions" }, startButton),
    problems,
    stage,
  );
  let pc = null;
  let stream = null;
  let timer = null;
  let socket = null;
  let running = false;

  async function poll() {
    if (!running || !socket) return;
    const ack = await request(socket, "device_check_stats", {});
    if (!running) return;
    if (ack.ok) {
      verdict.textContent = t("check.verdict_" + (ack.verdict || "unknown"));
      verdict.dataset.verdict = ack.verdict || "unknown";
      figures.textContent = describeStats(ack);
    }
    timer = setTimeout(poll, STATS_EVERY_MS);
  }

  async function stop({ tell = true } = {}) {
    const wasRunning = running;
    running = false;
    clearTimeout(timer);
    if (pc) pc.close();
    pc = null;
    stopStream(stream);
    stream = null;
    video.srcObject = null;
    stage.hidden = true;
    startButton.disabled = false;
    if (tell && wasRunning && socket && socket.connected) await request(socket, "device_check_stop", {});
  }

  async function start() {
    await stop({ tell: false });
    problems.replaceChildren();
    startButton.disabled = true;
    element.scrollIntoView({ block: "nearest" });
    try {
      socket = await getSocket();
      stream = await localMedia();
      if (!stream) {
        problems.replaceChildren(notice("error", t("check.no_devices")));
        startButton.disabled = false;
        return;
      }
      running = true;
      stage.hidden = false;
      verdict.textContent = t("check.verdict_unknown");
      figures.textContent = "";
      pc = new RTCPeerConnection({ iceServers: [] });
      const mine = pc;
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      const echoed = new MediaStream();
      video.srcObject = echoed;
      pc.addEventListener("track", (event) => {
        echoed.addTrack(event.track);
        play(video, stage);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const ack = await request(socket, "device_check", { sdp: pc.localDescription.sdp, type: "offer" });
      if (mine !== pc) return;
      if (!ack.ok) throw ack;
      await pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
      timer = setTimeout(poll, 1000);
    } catch (error) {
      problems.replaceChildren(notice("error", error && error.ok === false ? refusal(error) : t("check.failed")));
      await stop({ tell: false });
    }
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", () => stop());
  return { element, start, stop };
}

function opensAt(item) {
  return new Date(item.start).getTime() - OPENS_BEFORE_MS;
}

function consultationCard(item, join) {
  const open = h("button", { type: "button", class: "join", "data-appointment-id": item.id, "aria-describedby": "consult-note-" + item.id }, t("consult.join"));
  const note = h("p", { class: "hint", id: "consult-note-" + item.id });
  const checkButton = h("button", { type: "button", class: "secondary" }, t("check.start"));
  checkButton.addEventListener("click", () => check && check.start());
  open.addEventListener("click", () => join(item.id));
  const update = () => {
    const ready = Date.now() >= opensAt(item);
    open.disabled = !ready;
    note.textContent = ready ? t("consult.open_now") : t("consult.opens_at", { at: formatDateTime(new Date(opensAt(item)).toISOString()) });
  };
  update();
  return {
    update,
    body: [
      h("h3", {}, item.service.name),
      facts([
        ["visits.when", formatDateTime(item.start)],
        ["visits.physician", item.physician.name],
        ["visits.patient", item.patient.name],
        ["consult.kind", label("service_type", item.service.type)],
      ]),
      h("div", { class: "actions" }, open, checkButton),
      note,
    ],
  };
}

async function showList(main, rerender) {
  const all = await api("/appointments", { query: { period: "all" } });
  const now = Date.now();
  // Upcoming and under way: a room stays open after the start until the physician ends it.
  const remote = all.items.filter((a) => a.status === "booked" && REMOTE.includes(a.service.type) && new Date(a.end).getTime() > now);
  check = deviceCheck(getSocket);
  const updates = [];
  const join = (id) => {
    if (check) check.stop();
    history.pushState(null, "", "/consultation.html?appointment=" + encodeURIComponent(id));
    rerender();
  };
  main.append(
    h("p", { class: "lead" }, t("consult.lead")),
    cards(remote, (item) => {
      const card = consultationCard(item, join);
      updates.push(card.update);
      return card.body;
    }, "consult.none"),
    check.element,
  );
  ticker = setInterval(() => updates.forEach((update) => update()), TICK_MS);
}

async function showRoom(main, id) {
  const socket = await getSocket();
  room = new ConsultRoom({ socket, appointmentId: id, role: "patient" });
  main.append(h("p", { class: "back" }, h("a", { href: "/consultation.html" }, t("consult.back"))), room.element);
  room.start().catch((error) => room && room.fail({ code: "media_failed", message: String(error && error.message) }));
}

page({
  title: "consult.title",
  auth: "patient",
  render: async (main, { rerender }) => {
    // A re-render (language switch, joining from the list) starts afresh on a new connection.
    clearInterval(ticker);
    if (room) room.destroy();
    room = null;
    if (check) await check.stop();
    check = null;
    if (socketPromise) {
      const old = socketPromise;
      socketPromise = null;
      old.then((socket) => socket.disconnect()).catch(() => {});
    }
    // Only an id: it goes into the room's API paths (see idParam).
    const id = idParam(new URLSearchParams(location.search).get("appointment"));
    if (id) await showRoom(main, id);
    else await showList(main, rerender);
  },
});

addEventListener("popstate", () => location.reload());
