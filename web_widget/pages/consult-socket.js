// The /consult socket (docs/consult-protocol.md) as the room and the device check use it: one
// connection of its own, requests with an acknowledgement and a timeout, refusals in the page's
// language, and ICE gathering for offers to the hub's own aiortc peers (which do not trickle).
import { t, getLanguage } from "../app.js";

const CLIENT_URL = "/node_modules/socket.io-client/dist/socket.io.esm.min.js";
const ACK_MS = 15000;
const GATHER_MS = 5000;

/**
 * Connect to /consult with the session cookie, in the page's language. A connection of its own
 * (not shared with the chat widget's /chat), WebSocket first: signalling goes out at once, in
 * order, without a mid-call transport upgrade; long-polling only where WebSocket is blocked.
 */
export async function connectConsult() {
  const { io } = await import(CLIENT_URL);
  return io("/consult", {
    auth: { language: getLanguage() },
    withCredentials: true,
    forceNew: true,
    transports: ["websocket", "polling"],
    tryAllTransports: true,
  });
}

/** Emit with an acknowledgement; resolves to the ack, or {ok: false, code: "timeout"}. */
export function request(socket, event, data = {}) {
  return new Promise((resolve) => {
    socket.timeout(ACK_MS).emit(event, data, (error, ack) =>
      resolve(error ? { ok: false, code: "timeout", message: t("room.no_answer") } : ack || { ok: false }),
    );
  });
}

/** An ack's or a connect error's message, in the page's language. */
export function refusal(ack) {
  if (!ack) return t("error.generic");
  const key = "room.code_" + ack.code;
  const known = t(key);
  return ack.message || (known === key ? t("error.generic") : known);
}

/** Resolve once ICE gathering is complete (or after `ms`: send what we have). */
export function gathered(pc, ms = GATHER_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

