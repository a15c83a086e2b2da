// Camera, microphone and playback, shared by the device check and the room.
import { h, t } from "../app.js";

/** Camera and microphone, or the microphone alone, or nothing (the call still receives). */
export async function localMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
  const video = { width: { ideal: 640 }, height: { ideal: 480 } };
  for (const constraints of [{ audio: true, video }, { audio: true }, { video }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      if (error && error.name === "NotAllowedError") return null;
    }
  }
  return null;
}

/** Stop every track of `stream` (camera light off). */
export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

/** Play a media element; if the browser wants a gesture first, offer a button for it. */
export function play(video, holder) {
  const started = video.play();
  if (!started || !started.catch) return;
  started.catch((error) => {
    // An AbortError only means a newer source replaced this one; that one plays.
    if (!error || error.name !== "NotAllowedError") return;
    video.muted = true;
    video.play().catch(() => {});
    if (holder.querySelector(".unmute")) return;
    const button = h("button", { type: "button", class: "unmute secondary" }, t("room.sound_on"));
    button.addEventListener("click", () => {
      video.muted = false;
      video.play().catch(() => {});
      button.remove();
    });
    holder.append(button);
  });
}
