// The patient phone simulator: a thread that polls, and a call screen that follows TwiML.
// Every request to /twilio/* is signed by /dev/phone/sign first, exactly as Twilio signs.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let patient = null, info = null, call = null, poller = null;

  async function signed(url, form) {
    const u = new URL(url, location.origin);
    const path = u.pathname + u.search;
    const r = await fetch("/dev/phone/sign", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path, form }) });
    const { signature } = await r.json();
    return fetch(path, { method: "POST", headers: { "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
  }
  const sid = (prefix) => prefix + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

  async function refresh() {
    if (!patient) return;
    const r = await fetch(`/dev/phone/patients/${patient}`);
    if (!r.ok) return;
    info = await r.json();
    $("pharmacy").textContent = `${info.pharmacy.name}`;
    const thread = $("thread");
    const atBottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 10;
    thread.replaceChildren(...info.messages.map((m) => {
      const li = document.createElement("li");
      li.className = (m.mine ? "mine " : "") + m.channel;
      li.textContent = m.body || (m.recording ? "[recording]" : (m.channel === "voice" ? "[call]" : ""));
      return li;
    }));
    if (atBottom) thread.scrollTop = thread.scrollHeight;
  }

  async function sendText(body) {
    await signed("/twilio/sms", { MessageSid: sid("SM"), AccountSid: "AC" + "0".repeat(32), From: info.patient.phone, To: info.pharmacy.number, Body: body, NumMedia: "0", SmsStatus: "received", ApiVersion: "2010-04-01" });
    await refresh();
  }

  function callForm(extra) {
    const outbound = call.outbound;
    return Object.assign({ CallSid: call.sid, AccountSid: "AC" + "0".repeat(32), From: outbound ? info.pharmacy.number : info.patient.phone, To: outbound ? info.patient.phone : info.pharmacy.number, Direction: outbound ? "outbound-api" : "inbound", CallStatus: "in-progress", ApiVersion: "2010-04-01" }, extra || {});
  }

  async function follow(url, extra) {
    const r = await signed(url, callForm(extra));
    show(new DOMParser().parseFromString(await r.text(), "text/xml"));
    refresh();
  }

  function show(doc) {
    const response = doc.documentElement;
    call.gather = call.record = call.redirect = call.dial = null;
    $("spoken").replaceChildren();
    for (const verb of response.children) {
      const said = verb.tagName === "Gather" ? verb.querySelectorAll("Say") : (verb.tagName === "Say" ? [verb] : []);
      for (const say of said) { const li = document.createElement("li"); li.textContent = "Heard: " + say.textContent; $("spoken").append(li); }
      if (verb.tagName === "Gather") call.gather = verb.getAttribute("action");
      if (verb.tagName === "Record") call.record = verb.getAttribute("action");
      if (verb.tagName === "Redirect" && !call.redirect) call.redirect = verb.textContent;
      if (verb.tagName === "Hangup") { call.ended = true; }
      if (verb.tagName === "Dial") { call.dial = verb.getAttribute("action"); $("dial-number").textContent = verb.textContent.trim(); }
    }
    $("dial").hidden = !call.dial;
    $("keypad").hidden = $("speech-form").hidden = !call.gather;
    $("record-form").hidden = !call.record;
    $("silent").hidden = !call.redirect;
    $("call-state").textContent = call.ended ? "Call ended." : (call.record ? "Recording after the tone…" : "On the call");
    if (call.ended) { $("keypad").hidden = $("speech-form").hidden = $("record-form").hidden = true; $("silent").hidden = true; $("dial").hidden = true; }
  }

  async function startCall() {
    await refresh();  // the latest call the pharmacy placed, if any
    const message = info.pending_call_message;
    call = { sid: sid("CA"), outbound: Boolean(message), ended: false };
    $("call").hidden = false;
    $("call-state").textContent = message ? "The pharmacy is calling you: answered." : "Calling the pharmacy…";
    const url = message ? `/twilio/voice?m=${message}` : "/twilio/voice";
    await follow(url, message ? { AnsweredBy: "human" } : {});
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("patient").addEventListener("change", (e) => {
      patient = e.target.value || null; call = null; $("call").hidden = true;
      $("phone").hidden = !patient; refresh();
      clearInterval(poller); poller = setInterval(refresh, 2000);
    });
    $("reply-form").addEventListener("submit", (e) => { e.preventDefault(); const v = $("reply").value; if (v.trim()) { $("reply").value = ""; sendText(v); } });
    $("call-button").addEventListener("click", startCall);
    $("keypad").addEventListener("click", (e) => { const d = e.target.dataset.digit; if (d && call && call.gather) follow(call.gather, { Digits: d }); });
    $("speech-form").addEventListener("submit", (e) => { e.preventDefault(); const v = $("speech").value; $("speech").value = ""; if (v.trim() && call.gather) follow(call.gather, { SpeechResult: v, Confidence: "0.92" }); });
    $("record-form").addEventListener("submit", (e) => { e.preventDefault(); const v = $("record").value; $("record").value = ""; const rec = sid("RE"); if (call.record) follow(call.record, { RecordingUrl: `${location.origin}/dev/phone/recording/${rec}.wav`, RecordingSid: rec, RecordingDuration: "4", TranscriptionText: v }); });
    $("silent").addEventListener("click", () => { if (call && call.redirect) follow(call.redirect, {}); });
    // A <Dial> to the pharmacy: the simulator plays both endings of the transfer.
    $("dial-answered").addEventListener("click", () => { if (call && call.dial) follow(call.dial, { DialCallStatus: "completed" }); });
    $("dial-missed").addEventListener("click", () => { if (call && call.dial) follow(call.dial, { DialCallStatus: "no-answer" }); });
    $("hangup").addEventListener("click", () => { if (call) { call.ended = true; $("call-state").textContent = "Call ended."; $("keypad").hidden = $("speech-form").hidden = $("record-form").hidden = true; } });
  });
})();
