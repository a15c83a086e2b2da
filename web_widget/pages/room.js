// The consultation room, shared by the patient's page (consultation.html) and the physician's
// desk (desk.html): joining over the /consult socket (docs/consult-protocol.md), the waiting
// room and admission, WebRTC between the two browsers with the hub's relay as the fallback, the
// call's controls and its end. The chat is room-chat.js, the documents room-documents.js. Text
// from users and the server goes in as text only.
//
// WebRTC roles (protocol, "signal"): the physician always offers and the patient only answers,
// so the two never glare. ICE candidates trickle through `signal` (RFC 8838); the hub's own
// aiortc peers (echo and relay) do not trickle, so offers to the hub are sent only once ICE
// gathering is complete (half-trickle).
import { h, t, notice, formatDateTime, getLanguage, loginUrl } from "../app.js";
import { request, refusal, gathered } from "./consult-socket.js";
import { localMedia, stopStream, play } from "./consult-media.js";
import { RoomChat } from "./room-chat.js";
import { RoomDocuments } from "./room-documents.js";

/**
 * One consultation room, seen by `role` ("patient" or "physician") on `socket`.
 * `element` is the room's UI; `start()` gets the camera and joins; `destroy()` drops media and
 * listeners (without `leave`: a re-render rejoins at once). `onEnded(summary)` runs when the
 * consultation is ended; `onLeft()` when the user leaves; `onDocument(doc)` for each document
 * the room lists.
 */
export class ConsultRoom {
  constructor({ socket, appointmentId, role, autoAdmit = false, onEnded = null, onLeft = null, onDocument = null }) {
    this.socket = socket;
    this.id = appointmentId;
    this.role = role;
    this.autoAdmit = autoAdmit;
    this.onEnded = onEnded;
    this.onLeft = onLeft;
    this.onDocument = onDocument;
    this.info = null; // the join ack's room
    this.state = "connecting";
    this.transport = "direct";
    this.peerPresent = false;
    this.joined = false;
    this.ready = false;
    this.admitting = false;
    this.offerOnAdmit = false;
    this.relaying = false;
    this.pc = null;
    this.pendingCandidates = [];
    this.signalChain = Promise.resolve();
    this.relayTimer = null;
    this.relayRequested = false;
    this.relayAttempt = 0;
    this.localStream = null;
    this.camera = true;
    this.mic = true;
    this.voiceOnly = false;
    this.handlers = {};
    this.destroyed = false;
    this.build();
  }

  // -- the UI -------------------------------------------------------------------------------

  build() {
    const other = this.role === "patient" ? "physician" : "patient";
    this.title = h("h2", { id: "room-title" }, t("room.title"));
    this.badge = h("span", { class: "transport-badge", id: "transport-badge", hidden: true });
    this.subtitle = h("p", { class: "muted room-service", id: "room-service" });
    this.status = h("p", { class: "room-status", id: "room-status", role: "status" }, t("room.connecting"));
    this.peerState = h("p", { class: "muted", id: "peer-media", "aria-live": "polite" });
    this.remoteVideo = h("video", { class: "remote-video", id: "remote-video", autoplay: true, playsInline: true });
    this.localVideo = h("video", { class: "local-video", id: "local-video", autoplay: true, playsInline: true, muted: true });
    this.voiceNote = h("p", { class: "voice-note", hidden: true }, t("room.voice_only_on"));
    this.videos = h("div", { class: "videos", hidden: true, "aria-label": t("room.video_" + other) }, this.remoteVideo, this.localVideo, this.voiceNote);
    this.stageNote = h("div", { class: "stage-note", id: "room-stage", "aria-live": "polite" });
    this.cameraButton = h("button", { type: "button", class: "secondary", id: "toggle-camera" }, t("room.camera_off"));
    this.micButton = h("button", { type: "button", class: "secondary", id: "toggle-mic" }, t("room.mic_off"));
    this.voiceButton = h("button", { type: "button", class: "secondary", id: "toggle-voice" }, t("room.voice_only"));
    this.leaveButton = h("button", { type: "button", class: "danger", id: "room-leave" }, t("room.leave"));
    this.endButton = this.role === "physician" ? h("button", { type: "button", class: "danger", id: "room-end" }, t("room.end")) : null;
    this.controls = h("div", { class: "actions room-controls", hidden: true }, this.cameraButton, this.micButton, this.voiceButton, this.endButton, this.leaveButton);
    this.cameraButton.addEventListener("click", () => this.toggle("camera"));
    this.micButton.addEventListener("click", () => this.toggle("mic"));
    this.voiceButton.addEventListener("click", () => this.toggle("voice"));
    this.leaveButton.addEventListener("click", () => this.leave());
    if (this.endButton) this.endButton.addEventListener("click", () => this.end());

    this.chat = new RoomChat({ socket: this.socket, appointmentId: this.id, role: this.role, canSend: () => this.joined });
    this.documents = new RoomDocuments({ appointmentId: this.id, onDocument: this.onDocument });

    this.element = h(
      "section",
      { class: "room", id: "room", "data-role": this.role, "aria-labelledby": "room-title" },
      h("div", { class: "room-head" }, this.title, this.badge),
      this.subtitle,
      this.status,
      h(
        "div",
        { class: "room-body" },
        h("div", { class: "stage" }, this.stageNote, this.videos, this.peerState, this.controls),
        h("div", { class: "room-side" }, this.chat.element, this.documents.element),
      ),
    );
  }

  setStatus(key, params) {
    this.status.textContent = t(key, params);
  }

  setStage(...children) {
    this.stageNote.replaceChildren(...children);
  }

  showBadge() {
    this.badge.hidden = false;
    this.badge.textContent = t("room.transport_" + this.transport);
    this.badge.dataset.transport = this.transport;
    this.element.dataset.transport = this.transport;
  }

  setState(state) {
    this.state = state;
    this.element.dataset.state = state;
    const inCall = state === "admitted";
    this.videos.hidden = !inCall && state !== "waiting";
    this.controls.hidden = !(inCall || state === "waiting");
    this.cameraButton.hidden = this.micButton.hidden = this.voiceButton.hidden = !(inCall || state === "waiting");
    if (this.endButton) this.endButton.hidden = !inCall;
    const open = state === "waiting" || state === "admitted";
    this.chat.open = open;
    this.documents.open = open;
  }

  // -- start and stop ----------------------------------------------------------------------

  async start() {
    this.ready = false;
    this.bind();
    this.setState("connecting");
    this.localStream = await localMedia();
    if (this.destroyed) return stopStream(this.localStream);
    if (this.localStream) {
      this.localVideo.srcObject = this.localStream;
      play(this.localVideo, this.videos);
    } else {
      this.chat.status.replaceChildren(notice("info", t("room.no_devices")));
    }
    this.camera = !!this.track("video");
    this.mic = !!this.track("audio");
    this.showToggles();
    // Join once the camera is ready, so the first offer or answer carries it; a connection
    // made meanwhile does not join on its own (`connect` below waits for this).
    this.ready = true;
    if (this.socket.connected) await this.join();
  }

  bind() {
    const on = (event, handler) => {
      const wrapped = (data) => {
        if (this.destroyed) return;
        if (data && data.appointment_id && data.appointment_id !== this.id) return;
        if (data && data.message && data.message.appointment_id && data.message.appointment_id !== this.id) return;
        handler(data || {});
      };
      this.handlers[event] = wrapped;
      this.socket.on(event, wrapped);
    };
    on("connect", () => this.ready && this.join());
    on("disconnect", () => {
      this.joined = false;
      this.setStatus("room.reconnecting");
    });
    on("connect_error", (error) => {
      const code = error && error.data && error.data.code;
      if (code === "authentication_required" || code === "session_invalid") location.assign(loginUrl("session"));
      else if (code) this.fail({ code, message: error.data.message });
      else this.setStatus("room.reconnecting");
    });
    on("waiting", (data) => this.onWaiting(data));
    on("admitted", () => this.onAdmitted());
    on("peer_joined", (data) => this.onPeerJoined(data));
    on("peer_left", (data) => this.onPeerLeft(data));
    on("signal", (data) => {
      this.signalChain = this.signalChain.then(() => this.onSignal(data)).catch((error) => console.warn("signal", error));
    });
    on("media", (data) => this.showPeerMedia(data));
    on("chat", (data) => data.message && this.chat.add(data.message));
    on("document", (data) => data.document && this.documents.add(data.document));
    on("transport", (data) => data.transport === "relay" && this.switchToRelay());
    on("ended", (data) => this.onEndedEvent(data.summary));
  }

  destroy() {
    this.destroyed = true;
    for (const [event, handler] of Object.entries(this.handlers)) this.socket.off(event, handler);
    this.closePc();
    stopStream(this.localStream);
    this.localStream = null;
  }

  fail(ack) {
    this.setState("error");
    this.setStatus("room.unavailable");
    const extra = ack && ack.opens_at ? " " + t("room.opens_at", { at: formatDateTime(ack.opens_at) }) : "";
    this.setStage(notice("error", refusal(ack) + extra));
    this.videos.hidden = true;
    this.closePc();
  }

  // -- join, waiting, admission ---------------------------------------------------------------

  async join() {
    if (this.destroyed || this.state === "left") return;
    this.setStatus("room.joining");
    const payload = { appointment_id: this.id };
    if (this.chat.lastSeq > 0) payload.after_seq = this.chat.lastSeq;
    const ack = await request(this.socket, "join", payload);
    if (this.destroyed) return;
    if (!ack.ok) {
      if (ack.code === "room_closed") return this.showEnded(null, true);
      return this.fail(ack);
    }
    this.joined = true;
    const room = ack.room;
    this.info = room;
    this.transport = room.transport || "direct";
    this.relayRequested = this.transport === "relay";
    this.peerPresent = !!room.peer_present;
    const other = this.role === "patient" ? room.physician : room.patient;
    this.title.textContent = t("room.title_with", { name: (other && other.name) || "" });
    const service = (getLanguage() === "en" && room.service_en) || room.service;
    this.subtitle.textContent = [service, room.start_at ? formatDateTime(room.start_at) : ""].filter(Boolean).join(" · ");
    this.element.dataset.appointmentId = room.appointment_id;
    for (const message of room.messages || []) this.chat.add(message);
    for (const doc of room.documents || []) this.documents.add(doc);
    if (room.peer_media) this.showPeerMedia({ role: this.role === "patient" ? "physician" : "patient", ...room.peer_media });
    this.chat.flush();
    if (room.state === "ended") return this.showEnded(null, true);
    this.announceMedia();
    // The patient sees "waiting" and the physician "open" until the physician admits.
    if (room.state !== "admitted") return this.onWaiting(room);
    this.enterCall(true);
  }

  onWaiting(data) {
    if (this.state === "admitted") return;
    this.setState("waiting");
    if (this.role === "patient") {
      this.setStatus("room.waiting");
      this.setStage(
        h("p", { class: "waiting-lead" }, t("room.waiting_lead")),
        h("p", { id: "physician-notified", hidden: !data.physician_notified }, t("room.physician_notified")),
      );
    } else {
      this.showAdmit();
    }
  }

  /**
   * The physician's waiting screen. "Admit" is always there: `peer_present` counts only this
   * hub node's sockets, and the waiting room (from the database) may know better.
   */
  showAdmit() {
    if (this.admitting) return;
    this.setStatus(this.peerPresent ? "room.patient_waiting" : "room.patient_absent");
    this.setStage(h("p", {}, t(this.peerPresent ? "room.patient_waiting_lead" : "room.patient_absent_lead")), h("div", { class: "actions" }, this.admitButton()));
    if (this.autoAdmit) {
      this.autoAdmit = false;
      this.admit();
    }
  }

  /**
   * Admit the patient. The hub answers with `peer_joined` (before or, across hub nodes, after
   * the ack), and that is what makes the physician offer: one offer per admission.
   */
  async admit() {
    if (this.admitting) return;
    this.admitting = true;
    this.offerOnAdmit = false;
    const ack = await request(this.socket, "admit", { appointment_id: this.id });
    this.admitting = false;
    if (!ack.ok) return this.setStage(notice("error", refusal(ack)), h("div", { class: "actions" }, this.admitButton()));
    this.enterCall(this.offerOnAdmit);
  }

  admitButton() {
    const again = h("button", { type: "button", id: "room-admit" }, t("room.admit"));
    again.addEventListener("click", () => this.admit());
    return again;
  }

  onAdmitted() {
    this.peerPresent = true;
    if (this.state !== "admitted") this.enterCall(true);
  }

  /** Into the call; `start`: begin media now (the physician's offer, or a relay connection). */
  enterCall(start) {
    this.setState("admitted");
    this.showBadge();
    this.setStage();
    if (this.transport === "relay") {
      // Each side connects to the hub on its own, whether or not the other is there yet.
      this.connectRelay();
    } else if (start && this.peerPresent) {
      this.setStatus("room.connecting_media");
      this.connectMedia();
      return;
    }
    if (!this.peerPresent) this.setStatus(this.role === "patient" ? "room.physician_absent" : "room.patient_absent");
  }

  onPeerJoined(data) {
    if (data.role === this.role) return;
    this.peerPresent = true;
    if (this.state === "waiting" && this.role === "physician") {
      if (this.admitting) this.offerOnAdmit = true; // the admit's own peer_joined, before its ack
      else this.showAdmit();
      return;
    }
    if (this.state === "waiting" && this.role === "patient") {
      const notified = this.stageNote.querySelector("#physician-notified");
      if (notified) notified.hidden = false;
      return;
    }
    if (this.state !== "admitted") return;
    if (this.transport === "relay") {
      // The hub switches the relayed picture to the newcomer's by itself (rtc/tracks.py);
      // only a relay connection of ours that broke is made again.
      if (!this.pc || ["failed", "closed"].includes(this.pc.connectionState)) this.connectRelay();
      return;
    }
    this.setStatus("room.connecting_media");
    // A fresh join, a reload or a reconnect of the other side: the physician offers again.
    this.connectMedia();
  }

  onPeerLeft(data) {
    if (data.role === this.role) return;
    this.peerPresent = false;
    clearTimeout(this.relayTimer);
    if (this.state === "waiting" && this.role === "physician") return this.showAdmit();
    if (this.state !== "admitted") return;
    this.setStatus(this.role === "patient" ? "room.physician_left" : "room.patient_left");
    this.remoteVideo.srcObject = null;
  }

  // -- media: direct ------------------------------------------------------------------------

  /** The side that starts media: the physician's offer, or in relay mode both sides' relay offer. */
  connectMedia() {
    if (this.transport === "relay") return this.connectRelay();
    if (this.role === "physician") {
      this.signalChain = this.signalChain.then(() => this.offerDirect()).catch((error) => console.warn("offer", error));
    }
    // The patient waits for the physician's offer (`signal`).
  }

  newPc() {
    this.closePc();
    const pc = new RTCPeerConnection({ iceServers: (this.info && this.info.ice_servers) || [] });
    this.pc = pc;
    this.pendingCandidates = [];
    const remote = new MediaStream();
    this.remoteVideo.srcObject = remote;
    pc.addEventListener("track", (event) => {
      if (this.pc !== pc) return;
      remote.addTrack(event.track);
      event.track.addEventListener("ended", () => remote.removeTrack(event.track));
      play(this.remoteVideo, this.videos);
    });
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(pc));
    return pc;
  }

  closePc() {
    clearTimeout(this.relayTimer);
    if (this.pc) this.pc.close();
    this.pc = null;
    this.pendingCandidates = [];
  }

  track(kind) {
    return this.localStream ? this.localStream.getTracks().find((track) => track.kind === kind) : null;
  }

  /** Send our camera and microphone (as far as we have them) and receive both kinds. */
  addLocal(pc) {
    for (const kind of ["audio", "video"]) {
      const track = this.track(kind);
      if (track) pc.addTrack(track, this.localStream);
      else pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  async offerDirect() {
    if (this.destroyed || this.transport === "relay" || this.state !== "admitted") return;
    const pc = this.newPc();
    pc.addEventListener("icecandidate", (event) => this.sendCandidate(pc, event.candidate));
    this.addLocal(pc);
    await pc.setLocalDescription(await pc.createOffer());
    if (this.pc !== pc) return;
    const ack = await request(this.socket, "signal", { appointment_id: this.id, description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
    if (!ack.ok && ack.code !== "timeout") this.setStatus("room.media_problem");
    // The relay timer starts with the answer: an offer to nobody is no reason for relay.
  }

  async answerDirect(description) {
    const pc = this.newPc();
    pc.addEventListener("icecandidate", (event) => this.sendCandidate(pc, event.candidate));
    await pc.setRemoteDescription(description);
    for (const transceiver of pc.getTransceivers()) {
      const track = this.track(transceiver.receiver.track.kind);
      if (track) {
        await transceiver.sender.replaceTrack(track);
        if (transceiver.sender.setStreams) transceiver.sender.setStreams(this.localStream);
        transceiver.direction = "sendrecv";
      } else {
        transceiver.direction = "recvonly";
      }
    }
    await this.flushCandidates(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.pc !== pc) return;
    await request(this.socket, "signal", { appointment_id: this.id, description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
    this.armRelayTimer(pc);
  }

  sendCandidate(pc, candidate) {
    if (this.pc !== pc || this.transport === "relay") return;
    this.socket.emit("signal", { appointment_id: this.id, candidate: candidate ? candidate.toJSON() : null }, () => {});
  }

  async flushCandidates(pc) {
    const queued = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of queued) await pc.addIceCandidate(candidate).catch(() => {});
  }

  async onSignal(data) {
    if (this.destroyed || this.transport === "relay" || data.from === this.role) return;
    if (data.description) {
      const description = data.description;
      if (description.type === "offer" && this.role === "patient") {
        this.peerPresent = true;
        if (this.state !== "admitted") this.enterCall(false);
        this.setStatus("room.connecting_media");
        await this.answerDirect(description);
      } else if (description.type === "answer" && this.pc && this.pc.signalingState === "have-local-offer") {
        const pc = this.pc;
        await pc.setRemoteDescription(description);
        await this.flushCandidates(pc);
        this.armRelayTimer(pc);
      }
    }
    if (data.candidate) {
      const pc = this.pc;
      if (!pc || !pc.remoteDescription) this.pendingCandidates.push(data.candidate);
      else await pc.addIceCandidate(data.candidate).catch(() => {});
    }
  }

  onConnectionState(pc) {
    if (this.pc !== pc) return;
    const state = pc.connectionState;
    this.element.dataset.connection = state;
    if (state === "connected") {
      clearTimeout(this.relayTimer);
      this.setStatus(this.transport === "relay" ? "room.in_call_relay" : "room.in_call");
    } else if (state === "failed") {
      if (this.transport === "direct" && this.peerPresent) this.requestRelay("failed");
      else if (this.transport === "relay") {
        this.setStatus("room.media_problem");
        // One more relay connection after a pause: the hub may have restarted its peer.
        setTimeout(() => this.pc === pc && this.state === "admitted" && this.connectRelay(), 2000);
      }
    } else if (state === "disconnected") {
      this.setStatus("room.media_unstable");
    }
  }

  // -- media: relay through the hub ----------------------------------------------------------

  armRelayTimer(pc) {
    clearTimeout(this.relayTimer);
    if (this.transport !== "direct") return;
    const ms = (this.info && this.info.relay_timeout_ms) || 5000;
    this.relayTimer = setTimeout(() => {
      if (this.pc === pc && pc.connectionState !== "connected" && this.peerPresent && this.state === "admitted") {
        this.requestRelay("timeout");
      }
    }, ms);
  }

  async requestRelay(reason) {
    if (this.relayRequested || this.transport === "relay") return;
    this.relayRequested = true;
    this.setStatus("room.trying_relay");
    const ack = await request(this.socket, "relay_request", { appointment_id: this.id, reason });
    if (ack.ok && ack.transport === "relay") this.switchToRelay();
    else if (!ack.ok) {
      this.relayRequested = false;
      this.setStatus("room.media_problem");
    }
  }

  switchToRelay() {
    if (this.transport === "relay" && this.relaying) return;
    this.transport = "relay";
    this.relayRequested = true;
    this.showBadge();
    if (this.state === "admitted") this.connectRelay();
    else this.closePc();
  }

  /** A connection to the hub's relay peer: our offer once gathered, its answer in the ack. */
  async connectRelay() {
    if (this.destroyed || this.state !== "admitted") return;
    const attempt = ++this.relayAttempt;
    this.relaying = true;
    this.setStatus("room.connecting_relay");
    try {
      const pc = this.newPc();
      this.addLocal(pc);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (attempt !== this.relayAttempt || this.pc !== pc) return;
      const ack = await request(this.socket, "relay_offer", { appointment_id: this.id, sdp: pc.localDescription.sdp, type: "offer" });
      if (attempt !== this.relayAttempt || this.pc !== pc) return;
      if (!ack.ok) {
        this.setStatus("room.media_problem");
        this.chat.status.replaceChildren(notice("error", refusal(ack)));
        return;
      }
      await pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
    } catch (error) {
      console.warn("relay", error);
      this.setStatus("room.media_problem");
    }
  }

  // -- controls ---------------------------------------------------------------------------------

  toggle(what) {
    if (what === "camera") this.camera = !this.camera;
    if (what === "mic") this.mic = !this.mic;
    if (what === "voice") {
      this.voiceOnly = !this.voiceOnly;
      this.camera = !this.voiceOnly && !!this.track("video");
    }
    this.showToggles();
    this.announceMedia();
  }

  showToggles() {
    const video = this.track("video");
    const audio = this.track("audio");
    if (video) video.enabled = this.camera;
    if (audio) audio.enabled = this.mic;
    this.cameraButton.disabled = !video || this.voiceOnly;
    this.micButton.disabled = !audio;
    this.cameraButton.textContent = t(this.camera ? "room.camera_off" : "room.camera_on");
    this.micButton.textContent = t(this.mic ? "room.mic_off" : "room.mic_on");
    this.voiceButton.textContent = t(this.voiceOnly ? "room.video_back" : "room.voice_only");
    this.videos.classList.toggle("voice-only", this.voiceOnly);
    this.voiceNote.hidden = !this.voiceOnly;
    this.localVideo.hidden = !this.camera;
  }

  announceMedia() {
    if (!this.joined) return;
    this.socket.emit("media", { appointment_id: this.id, audio: this.mic, video: this.camera }, () => {});
  }

  showPeerMedia(data) {
    if (data.role === this.role) return;
    const who = t("room.who_" + data.role);
    const parts = [];
    if (data.video === false) parts.push(t("room.peer_camera_off", { who }));
    if (data.audio === false) parts.push(t("room.peer_mic_off", { who }));
    this.peerState.textContent = parts.join(" ");
  }

  async leave() {
    this.state = "left";
    this.joined = false;
    this.element.dataset.state = "left";
    await request(this.socket, "leave", { appointment_id: this.id });
    this.closePc();
    stopStream(this.localStream);
    this.localStream = null;
    this.setStatus("room.left");
    this.videos.hidden = true;
    this.controls.hidden = true;
    this.chat.open = false;
    this.documents.open = false;
    const again = h("button", { type: "button", id: "room-rejoin" }, t("room.rejoin"));
    again.addEventListener("click", () => {
      this.state = "connecting";
      this.setStage();
      this.start();
    });
    this.setStage(h("p", {}, t("room.left_lead")), h("div", { class: "actions" }, again));
    for (const [event, handler] of Object.entries(this.handlers)) this.socket.off(event, handler);
    if (this.onLeft) this.onLeft();
  }

  async end() {
    if (!confirm(t("room.end_confirm"))) return;
    this.endButton.disabled = true;
    const ack = await request(this.socket, "end", { appointment_id: this.id });
    this.endButton.disabled = false;
    if (!ack.ok) return this.chat.status.replaceChildren(notice("error", refusal(ack)));
    this.showEnded(ack.summary || null, false);
  }

  onEndedEvent(summary) {
    this.showEnded(summary || null, false);
  }

  showEnded(summary, earlier) {
    if (this.state === "ended") return;
    this.setState("ended");
    this.closePc();
    stopStream(this.localStream);
    this.localStream = null;
    this.videos.hidden = true;
    this.controls.hidden = true;
    this.setStatus("room.ended");
    const lines = [h("p", { class: "ended-lead", id: "room-ended" }, t(this.role === "patient" ? "room.ended_by_physician" : "room.ended_physician"))];
    const endedAt = summary && (summary.ended_at || summary.end);
    if (endedAt) lines.push(h("p", { class: "muted" }, t("room.ended_at", { at: formatDateTime(endedAt) })));
    else if (earlier) lines.push(h("p", { class: "muted" }, t("room.ended_earlier")));
    if (this.role === "patient") lines.push(h("p", {}, h("a", { href: "/instructions.html" }, t("room.see_instructions"))));
    this.setStage(...lines);
    this.chat.close();
    if (this.onEnded) this.onEnded(summary);
  }

}

/**
 * Tests and support read the current call through this (harmless: it exposes only what the
 * page already holds): `pc()` the current RTCPeerConnection, `transport`, `state`.
 */
export function exposeRoom(getRoom) {
  window.__consult = {
    pc: () => (getRoom() ? getRoom().pc : null),
    get transport() {
      return getRoom() ? getRoom().transport : null;
    },
    get state() {
      return getRoom() ? getRoom().state : null;
    },
  };
}
