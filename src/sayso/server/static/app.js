// Sayso's page: microphone -> WebSocket (docs/realtime-protocol.md) -> spoken reply, plus the
// voices, memory and settings pages. No build step: plain modern JavaScript.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, mic: null, mode: "hands-free", held: false, voice: localStorage.getItem("sayso.voice"),
  player: null, bubbles: {}, ready: null, pending: [], stats: { events: [], audioBytes: 0, replies: 0, interrupted: 0, transcripts: [], replyTexts: [], metrics: [] },
};
window.sayso = state; // read by the browser test, handy in the console too

function token() { return localStorage.getItem("sayso.token") || ""; }

async function api(path, options = {}) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const response = await fetch(path, { ...options, headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function setStatus(name) { $("status").textContent = name; $("status").dataset.state = name; }
function showError(text) { $("error").textContent = text || ""; }

// ---- playback: 16-bit PCM chunks scheduled back to back; counts the samples actually played ----
class Player {
  constructor(rate) { this.rate = rate; this.ctx = new AudioContext({ sampleRate: rate }); this.reset(null); }
  reset(segment) { this.segment = segment; this.chunks = []; this.next = 0; this.queued = 0; }
  begin(segment) { this.stop(); this.reset(segment); this.ctx.resume(); }
  push(bytes) {
    if (this.segment === null) return; // audio of a segment already cleared
    const pcm = new Int16Array(bytes);
    const buffer = this.ctx.createBuffer(1, pcm.length, this.rate);
    const data = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    const at = Math.max(this.ctx.currentTime + 0.05, this.next);
    source.start(at);
    this.next = at + buffer.duration;
    this.chunks.push({ source, at, samples: pcm.length });
    this.queued += pcm.length;
  }
  played() {
    const now = this.ctx.currentTime;
    return this.chunks.reduce((sum, c) => sum + Math.max(0, Math.min(c.samples, Math.round((now - c.at) * this.rate))), 0);
  }
  playing() { return this.segment !== null && this.played() < this.queued; }
  stop() {
    const played = this.segment === null ? 0 : this.played();
    for (const c of this.chunks) { try { c.source.stop(); } catch (e) { /* not started yet */ } }
    this.chunks = [];
    return played;
  }
}

function send(event) { if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(event)); }

// The server needs to know what was heard: report the open segment's played samples 4 times a second.
function reportPlayback() {
  const p = state.player;
  if (p && p.segment !== null) send({ type: "playback", segment: p.segment, played: p.played() });
}
setInterval(reportPlayback, 250);

function stopReply() {
  const p = state.player;
  if (p && p.segment !== null) { send({ type: "playback", segment: p.segment, played: p.stop() }); p.reset(null); }
  send({ type: "reply.stop" });
  setStatus("ready");
}

// ---- transcript ----
function bubble(key, who, text) {
  let el = state.bubbles[key];
  if (!el) {
    el = document.createElement("div");
    el.className = `msg ${who}`;
    $("transcript").appendChild(el);
    state.bubbles[key] = el;
  }
  if (text !== undefined) el.textContent = text;
  $("transcript").scrollTop = $("transcript").scrollHeight;
  return el;
}

function onEvent(event) {
  state.stats.events.push(`${Math.round(performance.now())} ${event.type} ${event.state || event.text || ""}`.trim());
  switch (event.type) {
    case "session.ready":
      state.player = new Player(event.output_rate);
      setStatus("ready");
      send({ type: "session.update", mode: state.mode, ...(state.voice ? { voice: state.voice } : {}) });
      if (state.onReady) state.onReady();
      break;
    case "session.updated": state.voice = event.voice; break;
    case "state": setStatus(event.state === "idle" ? "ready" : event.state); break;
    case "speech.started": setStatus("hearing"); break;
    case "speech.stopped": setStatus("thinking"); break;
    case "transcript.partial": bubble(`u${event.turn}`, "user partial", event.text); break;
    case "transcript.final":
      state.stats.transcripts.push(event.text);
      bubble(`u${event.turn}`, "user", event.text).classList.remove("partial");
      setStatus("thinking");
      break;
    case "transcript.empty": setStatus("ready"); break;
    case "reply.started": setStatus("speaking"); break;
    case "audio.start": state.player.begin(event.segment); break;
    case "audio.clear":
      if (state.player.segment === event.segment) { state.player.stop(); state.player.reset(null); }
      break;
    case "metrics": state.stats.metrics.push(event); break;
    case "reply.text": {
      const el = bubble(`a${event.turn}`, "assistant");
      el.textContent = (el.textContent + " " + event.text).trim();
      break;
    }
    case "reply.done":
      state.stats.replies += 1;
      state.stats.replyTexts.push(event.text);
      break;
    case "reply.interrupted":
      state.stats.interrupted += 1;
      bubble(`a${event.turn}`, "assistant").classList.add("interrupted");
      break;
    case "error": showError(event.message); break;
  }
}

// ---- microphone and connection ----
async function startMic() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule("/static/capture-worklet.js");
  const node = new AudioWorkletNode(ctx, "sayso-capture");
  // Always streamed: in push-to-talk the server treats audio outside a press as silence.
  node.port.onmessage = (message) => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(message.data);
  };
  ctx.createMediaStreamSource(stream).connect(node);
  return { stream, ctx };
}

// A session carries typed and spoken turns alike; the microphone is optional (typing needs none).
function openSession() {
  if (state.ws) return state.ready;
  showError("");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token() ? `?token=${encodeURIComponent(token())}` : "";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/realtime${query}`);
  ws.binaryType = "arraybuffer";
  state.ready = new Promise((resolve) => { state.onReady = resolve; });
  ws.onmessage = (m) => {
    if (typeof m.data === "string") onEvent(JSON.parse(m.data));
    else { state.stats.audioBytes += m.data.byteLength; if (state.player) state.player.push(m.data); }
    $("stop").disabled = !(state.player && state.player.playing()) && !["thinking", "speaking", "paused"].includes($("status").dataset.state);
  };
  ws.onclose = (e) => { if (e.reason) showError(e.reason); endSession(); checkServer(); };
  state.ws = ws;
  return state.ready;
}

async function startTalking() {
  try {
    state.mic = await startMic();
  } catch (error) {
    showError(`The microphone could not be opened (${error.message}). Allow it, or type below instead.`);
    return;
  }
  await openSession();
  $("start").textContent = "Stop talking";
  $("talk-button").disabled = state.mode !== "push-to-talk";
}

function stopTalking() {
  if (state.mic) { state.mic.stream.getTracks().forEach((t) => t.stop()); state.mic.ctx.close(); state.mic = null; }
  $("start").textContent = "Start talking";
  $("talk-button").disabled = true;
}

function endSession() {
  stopTalking();
  if (state.ws) { const ws = state.ws; state.ws = null; ws.close(); }
  if (state.player) { state.player.stop(); state.player.reset(null); }
  state.ready = null;
  $("stop").disabled = true;
}

$("start").onclick = () => (state.mic ? stopTalking() : startTalking());
$("stop").onclick = stopReply;
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.onchange = () => {
    state.mode = radio.value;
    send({ type: "session.update", mode: state.mode });
    $("talk-button").disabled = !(state.mic && state.mode === "push-to-talk");
  };
}
const press = () => { if (state.mode !== "push-to-talk" || !state.mic) return; state.held = true; send({ type: "input.start" }); setStatus("hearing"); };
const release = () => { if (!state.held) return; state.held = false; send({ type: "input.end" }); setStatus("thinking"); };
$("talk-button").addEventListener("pointerdown", press);
$("talk-button").addEventListener("pointerup", release);
$("talk-button").addEventListener("pointerleave", release);
$("typed").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("typed-text").value.trim();
  if (!text) return;
  $("typed-text").value = "";
  if (state.player) state.player.ctx.resume(); // typing is a user gesture: let the reply play
  await openSession();
  send({ type: "text", text });
};

// ---- voices, memory, settings ----
function field(card, label, value) {
  if (!value) return;
  const row = document.createElement("div");
  row.innerHTML = "<b></b> <span></span>";
  row.querySelector("b").textContent = `${label}:`;
  row.querySelector("span").textContent = value;
  card.appendChild(row);
}

async function loadVoices() {
  const list = $("voice-list");
  list.textContent = "";
  for (const v of (await api("/api/voices")).voices) {
    const card = document.createElement("article");
    card.className = `card ${v.status}`;
    const title = document.createElement("h3");
    title.textContent = `${v.id} — ${v.name}`;
    card.appendChild(title);
    field(card, "Whose voice", v.owner || (v.lent ? "" : "preset (see consent)"));
    field(card, "Consent", v.consent);
    field(card, "Scope", v.scope);
    field(card, "Expires", v.expires_at || (v.lent ? "" : "never"));
    field(card, "Provenance", v.source);
    field(card, "Licence", v.licence);
    field(card, "Status", v.status + (v.reason ? ` (${v.reason})` : ""));
    const use = document.createElement("button");
    use.textContent = state.voice === v.id ? "In use" : "Use this voice";
    use.disabled = v.status !== "active";
    use.onclick = () => { state.voice = v.id; localStorage.setItem("sayso.voice", v.id); send({ type: "session.update", voice: v.id }); loadVoices(); };
    card.appendChild(use);
    list.appendChild(card);
  }
}

async function loadMemory() {
  const list = $("memory-list");
  list.textContent = "";
  const memories = (await api("/api/memories")).memories;
  $("memory-empty").hidden = memories.length > 0;
  $("forget-all").hidden = memories.length === 0;
  for (const m of memories) {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = m.text;
    const forget = document.createElement("button");
    forget.textContent = "Forget";
    forget.title = "Sayso forgets this one thing";
    forget.onclick = async () => { await api(`/api/memories/${m.id}`, { method: "DELETE" }); loadMemory(); };
    item.append(text, forget);
    list.appendChild(item);
  }
}
$("forget-all").onclick = async () => {
  if (!confirm("Forget everything Sayso remembers about you? This cannot be undone.")) return;
  await api("/api/memories", { method: "DELETE" });
  loadMemory();
};

const SETTING_LABELS = {
  stt_model: "Speech recognition model", llm: "Language model", max_reply_tokens: "Longest reply (tokens)",
  voice: "Default voice", barge_in: "Interrupt Sayso by talking", endpoint_silence: "Pause that ends your turn (seconds)",
  memory: "Memory", max_upload_bytes: "Largest upload",
};
function settingValue(key, value) {
  if (key === "max_upload_bytes") return `${Math.round(value / 1048576)} MB`;
  return String(value);
}

async function loadSettings() {
  $("token").value = token();
  const dl = $("server-settings");
  dl.textContent = "";
  for (const [key, value] of Object.entries(await api("/api/settings"))) {
    const dt = document.createElement("dt"); dt.textContent = SETTING_LABELS[key] || key.replaceAll("_", " ");
    const dd = document.createElement("dd"); dd.textContent = settingValue(key, value);
    dl.append(dt, dd);
  }
}
$("token-form").onsubmit = (e) => {
  e.preventDefault();
  localStorage.setItem("sayso.token", $("token").value.trim());
  showError("");
  loadSettings().then(checkServer).catch((error) => showError(error.message));
};

const loaders = { voices: loadVoices, memory: loadMemory, settings: loadSettings };
for (const tab of document.querySelectorAll(".tab")) {
  tab.onclick = () => {
    document.querySelectorAll(".tab, .panel").forEach((el) => el.classList.remove("active"));
    tab.classList.add("active");
    $(tab.dataset.tab).classList.add("active");
    showError("");
    if (loaders[tab.dataset.tab]) loaders[tab.dataset.tab]().catch((e) => showError(e.message));
  };
}

// The badge says whether the server is there while no conversation is open.
async function checkServer() {
  if (state.ws) return;
  try {
    const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
    const response = await fetch("/api/session", { headers });
    if (response.status === 401) { setStatus("locked"); showError("This server needs a token: enter it under Settings."); }
    else setStatus(response.ok ? "ready" : "offline");
  } catch (error) {
    setStatus("offline");
  }
}
checkServer();
setInterval(checkServer, 10000);
