// Customer chat client. Protocol: docs/protocol.md. No framework: it must embed anywhere.
(function () {
  "use strict";
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const statusEl = document.getElementById("status");
  const maxChars = parseInt(document.getElementById("chat").dataset.maxChars, 10) || 2000;
  const STORE = "faqbot.conversation";
  const streaming = new Map(); // message_id -> <li>
  // Customer messages sent but not yet acknowledged, oldest first: the server answers each
  // customer_message, in order, with message_received or with one of these errors.
  const pending = []; // {text, li}
  const REJECTS = new Set(["rate_limited", "busy", "message_too_long", "empty_message", "invalid_message", "frame_too_large"]);
  // Replies that will never be written (reply_cancelled): late tokens for them are dropped.
  const cancelled = new Set();
  let socket = null;
  let retry = 0;

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function safeUrl(u) {
    try { const url = new URL(u, window.location.href); return /^(https?:|mailto:)$/.test(url.protocol) ? url.href : null; }
    catch (e) { return null; }
  }
  // Answers are Markdown from FAQs: escape everything, then allow links, bold and code.
  function renderMarkdown(text) {
    let html = escapeHtml(text);
    html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, label, href) => {
      const url = safeUrl(href.replace(/&amp;/g, "&"));
      return url ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label;
    });
    html = html.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>").replace(/`([^`]+)`/g, "<code>$1</code>");
    return html;
  }
  function addMessage(role, text, opts) {
    const li = document.createElement("li");
    li.className = "msg " + role;
    li.dataset.role = role;
    if (opts && opts.id) li.dataset.messageId = opts.id;
    const body = document.createElement("div");
    body.className = "body";
    if (role === "customer" || role === "error") body.textContent = text; else body.innerHTML = renderMarkdown(text);
    li.appendChild(body);
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }
  function finishBot(li, ev) {
    li.classList.remove("streaming");
    const note = li.querySelector(".queue-note");
    if (note) note.remove();
    li.querySelector(".body").innerHTML = renderMarkdown(ev.text);
    if (ev.escalate) li.classList.add("escalated");
    const cites = (ev.citations || []).filter((c) => safeUrl(c.url));
    if (cites.length) {
      const box = document.createElement("div");
      box.className = "citations";
      box.append("Source: ");
      cites.forEach((c, i) => {
        const a = document.createElement("a");
        a.href = safeUrl(c.url); a.textContent = c.question; a.target = "_blank"; a.rel = "noopener noreferrer";
        a.className = "citation";
        if (i) box.append(" · ");
        box.appendChild(a);
      });
      li.appendChild(box);
    }
    if (ev.escalate) {
      const meta = document.createElement("span");
      meta.className = "meta"; meta.textContent = "Flagged for a member of our team.";
      li.appendChild(meta);
    }
  }
  function startStreaming(id) {
    const li = addMessage("bot", "", { id: id });
    li.classList.add("streaming");
    li.dataset.raw = "";
    li.dataset.attempt = "0";
    streaming.set(id, li);
    return li;
  }
  // A reply taken over by another worker starts again from nothing: the first attempt's
  // partial text is replaced, never appended to. Returns false for a stale attempt's token.
  function atAttempt(li, attempt) {
    const seen = parseInt(li.dataset.attempt || "0", 10);
    if (!attempt || attempt === seen) return true;
    if (attempt < seen) return false;
    li.dataset.attempt = String(attempt);
    li.dataset.raw = "";
    li.querySelector(".body").textContent = "";
    const note = li.querySelector(".queue-note");
    if (note) note.remove();
    return true;
  }
  function shownComplete(id) {
    return !streaming.has(id) && list.querySelector(`li[data-message-id="${Number(id)}"]`) !== null;
  }
  function setStatus(text) { statusEl.textContent = text; }
  // A message the server did not take goes back into the input box, never lost: ahead of
  // anything typed since, which stays.
  function giveBack(text) {
    const typed = input.value.trim();
    input.value = typed ? text + "\n" + typed : text;
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    const known = window.localStorage.getItem(STORE);
    const qs = known ? "?conversation=" + encodeURIComponent(known) : "";
    socket = new WebSocket(`${proto}://${window.location.host}/ws/chat/${qs}`);
    socket.onopen = () => { retry = 0; setStatus("Online"); };
    socket.onclose = () => {
      setStatus("Reconnecting…");
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 500 * 2 ** retry);
    };
    socket.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      if (ev.type === "conversation") {
        window.localStorage.setItem(STORE, ev.conversation_id);
        // Sent just before the old socket dropped: if the replay doesn't end with them they
        // were never stored, so the customer gets the text back to send again.
        const stored = (ev.messages || []).filter((m) => m.role === "customer").slice(-pending.length).map((m) => m.text);
        pending.splice(0).filter((p) => !stored.includes(p.text)).reverse().forEach((p) => giveBack(p.text));
        list.innerHTML = "";
        streaming.clear(); // those bubbles were just removed from the page
        (ev.messages || []).forEach((m) => {
          if (m.role === "bot" && (m.state === "streaming" || m.state === "pending")) {
            // Reconnected mid-answer: the rest of the tokens and the final answer land here.
            startStreaming(m.message_id).dataset.raw = m.text || "";
            return;
          }
          const li = addMessage(m.role, m.text, { id: m.message_id });
          if (m.role === "bot") finishBot(li, m);
        });
      } else if (ev.type === "token") {
        if (shownComplete(ev.message_id) || cancelled.has(ev.message_id)) return;
        const li = streaming.get(ev.message_id) || startStreaming(ev.message_id);
        if (!atAttempt(li, ev.attempt)) return;
        const note = li.querySelector(".queue-note");
        if (note) note.remove();
        li.dataset.raw += ev.text;
        li.querySelector(".body").textContent = li.dataset.raw;
        li.scrollIntoView({ block: "end" });
      } else if (ev.type === "bot_message") {
        // Already in the replayed history (it completed while we reconnected).
        if (shownComplete(ev.message_id)) return;
        const li = streaming.get(ev.message_id) || addMessage("bot", "", { id: ev.message_id });
        streaming.delete(ev.message_id);
        finishBot(li, ev);
        li.scrollIntoView({ block: "end" });
      } else if (ev.type === "reply_restart") {
        if (shownComplete(ev.message_id) || cancelled.has(ev.message_id)) return;
        atAttempt(streaming.get(ev.message_id) || startStreaming(ev.message_id), ev.attempt);
      } else if (ev.type === "reply_cancelled") {
        cancelled.add(ev.message_id);
        const li = streaming.get(ev.message_id);
        streaming.delete(ev.message_id);
        if (li) li.remove();
      } else if (ev.type === "queue_status") {
        if (shownComplete(ev.message_id) || cancelled.has(ev.message_id)) return;
        const li = streaming.get(ev.message_id) || startStreaming(ev.message_id);
        let note = li.querySelector(".queue-note");
        if (!note) { note = document.createElement("span"); note.className = "meta queue-note"; li.appendChild(note); }
        note.textContent = `We're busy right now: your answer should start in about ${ev.estimated_wait_s} s` +
          (ev.offer_human ? " — or ask for a person if you'd rather not wait." : ".");
      } else if (ev.type === "message_received") {
        const sent = pending.shift();
        if (sent) { sent.li.classList.remove("pending"); sent.li.dataset.messageId = ev.message_id; }
      } else if (ev.type === "error") {
        const rejected = REJECTS.has(ev.code) ? pending.shift() : null;
        if (rejected) { rejected.li.remove(); giveBack(rejected.text); }
        addMessage("error", ev.detail || ev.code);
      }
    };
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (text.length > maxChars) { addMessage("error", `Messages are limited to ${maxChars} characters.`); return; }
    if (!socket || socket.readyState !== WebSocket.OPEN) { addMessage("error", "Not connected yet — please try again in a moment."); return; }
    const li = addMessage("customer", text);
    li.classList.add("pending");
    pending.push({ text, li });
    socket.send(JSON.stringify({ type: "customer_message", text }));
    input.value = "";
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  connect();
})();
