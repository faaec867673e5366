// The web page: asks /v1/chat/completions with stream=true, shows the answer as it arrives,
// then its numbered citations; a citation opens its passage with the quoted span marked.
"use strict";
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem("assistant-key") || "";

function headers() {
  const h = { "Content-Type": "application/json" };
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function call(path, options) {
  let response = await fetch(path, Object.assign({ headers: headers() }, options || {}));
  if (response.status === 401) {
    key = window.prompt("This server needs its API key:") || "";
    sessionStorage.setItem("assistant-key", key);
    response = await fetch(path, Object.assign({ headers: headers() }, options || {}));
  }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function where(c) {
  return [c.source, c.page ? "page " + c.page : null, c.section].filter(Boolean).join(" · ");
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function openPassage(c, passages) {
  const p = passages.find((x) => x.source === c.source && x.start <= c.start && c.end <= x.end);
  const box = $("passage-text");
  box.textContent = "";
  if (p) {
    const a = c.start - p.start, b = c.end - p.start;
    box.append(p.text.slice(0, a));
    const mark = document.createElement("mark");
    mark.textContent = p.text.slice(a, b);
    box.append(mark, p.text.slice(b));
  } else {
    const mark = document.createElement("mark");
    mark.textContent = c.text;
    box.append(mark);
  }
  $("passage-title").textContent = "[" + c.n + "] " + where(c) + " (characters " + c.start + "–" + c.end + ")";
  $("passage").hidden = false;
  $("passage").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function render(text, data) {
  const answer = $("answer");
  answer.textContent = "";
  answer.classList.toggle("abstained", data.abstained);
  const cited = new Map(data.citations.map((c) => [c.n, c]));
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const c = cited.get(Number(m[1]));
    if (!c) continue;
    answer.append(text.slice(last, m.index));
    const link = document.createElement("a");
    link.href = "#";
    link.textContent = m[0];
    link.onclick = (e) => { e.preventDefault(); openPassage(c, data.passages); };
    answer.append(link);
    last = m.index + m[0].length;
  }
  answer.append(text.slice(last));
  $("mode").textContent = data.abstained ? "No answer in the documents" : (data.mode === "llm" ? "Answer written by the model, checked against the passages" : "Extractive answer: sentences quoted from the documents");
  $("notice").textContent = data.notice || "";
  $("notice").hidden = !data.notice;
  const list = $("citations");
  list.textContent = "";
  for (const c of data.citations) {
    const item = document.createElement("li");
    item.value = c.n;
    const link = document.createElement("a");
    link.href = "#";
    link.className = "citation";
    link.textContent = "“" + c.text + "”";
    link.onclick = (e) => { e.preventDefault(); openPassage(c, data.passages); };
    const place = document.createElement("div");
    place.className = "where";
    place.textContent = where(c);
    item.append(link, place);
    if (c.header) {  // a table row: its table's header row says what each cell is
      const header = document.createElement("div");
      header.className = "where table-header";
      header.textContent = "table: " + c.header;
      item.append(header);
    }
    list.append(item);
  }
}

async function ask(question) {
  $("send").disabled = true;
  showError("");
  $("passage").hidden = true;
  $("result").hidden = false;
  $("answer").textContent = "";
  $("citations").textContent = "";
  $("mode").textContent = "Reading…";
  try {
    const response = await call("/v1/chat/completions", {
      method: "POST", body: JSON.stringify({ model: "assistant", stream: true, messages: [{ role: "user", content: question }] }),
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const line = buffer.slice(0, cut).replace(/^data: /, "");
        buffer = buffer.slice(cut + 2);
        if (line === "[DONE]") continue;
        const event = JSON.parse(line);
        if (event.error) throw new Error(event.error.message);
        const delta = event.choices[0].delta;
        if (delta.content) { text += delta.content; $("answer").textContent = text; }
        if (event.assistant) render(text, event.assistant);
      }
    }
  } catch (error) {
    $("result").hidden = true;
    showError(error.message);
  } finally {
    $("send").disabled = false;
  }
}

async function listDocuments() {
  try {
    const documents = await (await call("/v1/documents")).json();
    const list = $("documents");
    list.textContent = "";
    for (const d of documents) {
      const item = document.createElement("li");
      item.textContent = d.source + " (" + d.chunks + " passages)";
      list.append(item);
    }
    if (!documents.length) list.textContent = "No documents yet: run `assistant ingest PATH`.";
  } catch (error) {
    showError(error.message);
  }
}

$("ask").onsubmit = (e) => { e.preventDefault(); const q = $("question").value.trim(); if (q) ask(q); };
$("passage-close").onclick = () => { $("passage").hidden = true; };
listDocuments();
