// Customer chat client. Protocol: docs/protocol.md. No framework: it must embed anywhere.
(function () {
  "use strict";
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const statusEl = document.getElementById("status");
  const talkButton = document.getElementById("talk-to-person");
  const banner = document.getElementById("handoff-banner");
  const bannerText = document.getElementById("handoff-text");
  const cancelButton = document.getElementById("cancel-handoff");
  const typingEl = document.getElementById("typing");
  const ticketForm = document.getElementById("ticket-form");
  const csatForm = document.getElementById("csat");
  const newChat = document.getElementById("new-chat");
  const maxChars = parseInt(document.getElementById("chat").dataset.maxChars, 10) || 2000;
  const STORE = "faqbot.conversation";
  const CUSTOMER_STORE = "faqbot.customer";
  const streaming = new Map(); // message_id -> <li>
  // Customer messages sent but not yet acknowledged, oldest first: the server answers each
  // customer_message, in order, with message_received or with one of these errors.
  const pending = []; // {text, li}
  const REJECTS = new Set(["rate_limited", "busy", "message_too_long", "empty_message", "invalid_message", "frame_too_large"]);
  // Replies that will never be written (reply_cancelled): late tokens for them are dropped.
  const cancelled = new Set();
  let socket = null;
  let retry = 0;
  // The handoff state from the server: who is answering, and how the window should look.
  const state = { status: "bot", agent: null, estimate: null, rated: false };
  let typingHide = null;
  let typingSentAt = 0;
  let typingStop = null;
  let csatScore = 0;

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
    if (opts && opts.notice) li.dataset.notice = opts.notice;
    if (role === "agent" && opts && opts.author) {
      const who = document.createElement("span");
      who.className = "author";
      who.textContent = opts.author + " · Support team";
      li.appendChild(who);
    }
    const body = document.createElement("div");
    body.className = "body";
    // Only the bot's FAQ-sourced Markdown is rendered; people's words are plain text.
    if (role === "bot") body.innerHTML = renderMarkdown(text); else body.textContent = text;
    li.appendChild(body);
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }
  // An icon, not an emoji: emoji fonts are missing on many systems (a box instead).
  const THUMB = '<svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true"><path fill="currentColor" d="M2 21h4V9H2v12zm20-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L13.17 1 6.59 7.59C6.22 7.95 6 8.45 6 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"/></svg>';
  function addFeedback(li, id, value) {
    const box = document.createElement("div");
    box.className = "feedback";
    [[1, "up", "Helpful"], [-1, "down", "Not helpful"]].forEach(([v, dir, label]) => {
      const b = document.createElement("button");
      b.type = "button"; b.className = "thumb " + dir; b.innerHTML = THUMB;
      b.title = label; b.setAttribute("aria-label", label);
      b.dataset.value = v;
      b.setAttribute("aria-pressed", value === v ? "true" : "false");
      b.addEventListener("click", () => {
        const pressed = b.getAttribute("aria-pressed") === "true";
        send({ type: "feedback", message_id: Number(id), value: pressed ? 0 : v });
      });
      box.appendChild(b);
    });
    li.appendChild(box);
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
    if (li.dataset.messageId && !li.querySelector(".feedback")) addFeedback(li, li.dataset.messageId, ev.feedback);
  }
  function startStreaming(id) {
    const li = addMessage("bot", "", {});
    li.classList.add("streaming");
    li.removeAttribute("aria-label");
    li.dataset.messageId = id;
    li.dataset.raw = "";
    li.dataset.attempt = "0";
    streaming.set(id, li);
    return li;
  }
  function markTyping(li) {
    li.classList.add("typing");
    li.setAttribute("aria-label", "The assistant is typing");
    li.querySelector(".body").innerHTML = '<span class="dot"></span><span class="dot"></span><span class="dot"></span>';
  }
  // The bubble of a reply the server has promised (message_received names it) shows the
  // assistant typing until its first verified words fill it in place.
  function showReplyTyping(replyId) {
    if (!replyId || streaming.has(replyId) || cancelled.has(replyId) || shownComplete(replyId)) return;
    markTyping(startStreaming(replyId));
  }
  function dropReplyTyping() {
    streaming.forEach((li, id) => {
      if (li.classList.contains("typing")) { li.remove(); streaming.delete(id); }
    });
  }
  // A reply taken over by another worker starts again from nothing: the first attempt's
  // partial text is replaced, never appended to. Returns false for a stale attempt's token.
  function atAttempt(li, attempt) {
    const seen = parseInt(li.dataset.attempt || "0", 10);
    if (!attempt || attempt === seen) return true;
    if (attempt < seen) return false;
    li.dataset.attempt = String(attempt);
    li.dataset.raw = "";
    markTyping(li); // nothing of the new attempt is verified yet
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

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { addMessage("error", "Not connected yet — please try again in a moment."); return false; }
    socket.send(JSON.stringify(frame));
    return true;
  }

  // --- Handoff: what the window shows for each state --------------------------------------
  function applyState() {
    const s = state.status;
    const name = state.agent && state.agent.name;
    banner.hidden = !(s === "waiting" || s === "agent");
    cancelButton.hidden = s !== "waiting";
    if (s === "waiting") {
      bannerText.textContent = state.estimate
        ? `Waiting for an agent · about ${state.estimate} minute${state.estimate === 1 ? "" : "s"}`
        : "Waiting for an agent";
    } else if (s === "agent") {
      bannerText.textContent = `You're chatting with ${name || "our team"}`;
    }
    banner.dataset.state = s;
    talkButton.disabled = s === "waiting" || s === "agent" || s === "resolved";
    talkButton.textContent = s === "waiting" ? "Waiting for an agent…" : s === "agent" ? `With ${name || "an agent"}` : "Talk to a person";
    const closed = s === "resolved";
    form.hidden = closed;
    csatForm.hidden = !closed || state.rated;
    newChat.hidden = !closed;
    document.getElementById("csat-thanks").hidden = !(closed && state.rated);
    if (s !== "bot") ticketForm.hidden = true;
    if (s !== "agent") showTyping(null);
  }
  function showTyping(name) {
    window.clearTimeout(typingHide);
    typingEl.hidden = !name;
    typingEl.textContent = name ? `${name} is typing…` : "";
    // A lost "stopped typing" frame must not leave the indicator up forever.
    if (name) typingHide = window.setTimeout(() => showTyping(null), 6000);
  }
  function offerTicket() {
    ticketForm.hidden = false;
    document.getElementById("ticket-error").hidden = true;
    const msg = document.getElementById("ticket-message");
    if (!msg.value) {
      const asked = [...list.querySelectorAll(".msg.customer .body")].map((b) => b.textContent);
      msg.value = asked.slice(-3).join("\n");
    }
    ticketForm.scrollIntoView({ block: "end" });
  }
  function sendTyping(on) {
    if (state.status !== "waiting" && state.status !== "agent") return;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "typing", typing: on }));
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    const known = window.localStorage.getItem(STORE);
    const customer = window.localStorage.getItem(CUSTOMER_STORE);
    const params = new URLSearchParams();
    if (known) params.set("conversation", known);
    if (customer) params.set("customer", customer);
    const qs = params.toString() ? "?" + params.toString() : "";
    const ws = new WebSocket(`${proto}://${window.location.host}/ws/chat/${qs}`);
    socket = ws;
    ws.onopen = () => { retry = 0; setStatus("Online"); };
    ws.onclose = () => {
      if (socket !== ws) return; // replaced on purpose (a new conversation)
      setStatus("Reconnecting…");
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 500 * 2 ** retry);
    };
    socket.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      if (ev.type === "conversation") {
        window.localStorage.setItem(STORE, ev.conversation_id);
        if (ev.customer_token) window.localStorage.setItem(CUSTOMER_STORE, ev.customer_token);
        // Sent just before the old socket dropped: if the replay doesn't end with them they
        // were never stored, so the customer gets the text back to send again.
        const stored = (ev.messages || []).filter((m) => m.role === "customer").slice(-pending.length).map((m) => m.text);
        pending.splice(0).filter((p) => !stored.includes(p.text)).reverse().forEach((p) => giveBack(p.text));
        list.innerHTML = "";
        streaming.clear(); // those bubbles were just removed from the page
        (ev.messages || []).forEach((m) => {
          if (m.role === "bot" && (m.state === "streaming" || m.state === "pending")) {
            // Reconnected mid-answer: the rest of the tokens and the final answer land here.
            const li = startStreaming(m.message_id);
            li.dataset.raw = m.text || "";
            if (li.dataset.raw) li.querySelector(".body").innerHTML = renderMarkdown(li.dataset.raw);
            else markTyping(li); // nothing verified yet: still "typing"
            return;
          }
          const li = addMessage(m.role, m.text, { id: m.message_id, author: m.author, notice: m.notice });
          if (m.role === "bot") finishBot(li, m);
        });
        Object.assign(state, { status: ev.status, agent: ev.agent || null, rated: !!ev.rated, estimate: ev.estimate_minutes || null });
        applyState();
        // Told nobody could come and not answered since: the message form is still open.
        const last = (ev.messages || []).slice(-1)[0];
        if (ev.status === "bot" && last && last.role === "system" && last.notice === "offline") offerTicket();
      } else if (ev.type === "token") {
        // Each token is verified text (whole sentences): render it as it will stay.
        if (shownComplete(ev.message_id) || cancelled.has(ev.message_id)) return;
        const li = streaming.get(ev.message_id) || startStreaming(ev.message_id);
        if (!atAttempt(li, ev.attempt)) return;
        li.classList.remove("typing");
        li.removeAttribute("aria-label");
        const note = li.querySelector(".queue-note");
        if (note) note.remove();
        li.dataset.raw += ev.text;
        li.querySelector(".body").innerHTML = renderMarkdown(li.dataset.raw);
        li.scrollIntoView({ block: "end" });
      } else if (ev.type === "bot_message") {
        // Already in the replayed history (it completed while we reconnected).
        if (shownComplete(ev.message_id)) return;
        const li = streaming.get(ev.message_id) || startStreaming(ev.message_id);
        li.classList.remove("typing");
        li.removeAttribute("aria-label");
        streaming.delete(ev.message_id);
        finishBot(li, ev);
        li.scrollIntoView({ block: "end" });
      } else if (ev.type === "status") {
        Object.assign(state, { status: ev.status, agent: ev.agent || null, estimate: ev.estimate_minutes, rated: !!ev.rated });
        applyState();
      } else if (ev.type === "system_message" || ev.type === "agent_message") {
        if (list.querySelector(`li[data-message-id="${Number(ev.message_id)}"]`)) return;
        const role = ev.type === "agent_message" ? "agent" : "system";
        addMessage(role, ev.text, { id: ev.message_id, author: ev.author, notice: ev.notice });
        if (role === "agent") showTyping(null);
      } else if (ev.type === "typing") {
        if (ev.role === "agent") showTyping(ev.typing ? ev.name || "The agent" : null);
      } else if (ev.type === "handoff_unavailable") {
        offerTicket();
      } else if (ev.type === "ticket_created") {
        ticketForm.hidden = true;
        ticketForm.reset();
      } else if (ev.type === "feedback_received") {
        const li = list.querySelector(`li[data-message-id="${Number(ev.message_id)}"]`);
        if (li) li.querySelectorAll(".thumb").forEach((b) => b.setAttribute("aria-pressed", Number(b.dataset.value) === ev.value ? "true" : "false"));
      } else if (ev.type === "rating_received") {
        state.rated = true;
        applyState();
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
        showReplyTyping(ev.reply_id); // null when the assistant will not answer it
      } else if (ev.type === "error") {
        const rejected = REJECTS.has(ev.code) ? pending.shift() : null;
        if (rejected) { rejected.li.remove(); giveBack(rejected.text); }
        if (ev.code === "generation_failed") dropReplyTyping();
        if (ev.code === "invalid_email" || ev.code === "invalid_ticket") {
          const err = document.getElementById("ticket-error");
          err.textContent = ev.detail; err.hidden = false;
          return;
        }
        if (ev.code === "invalid_rating" || ev.code === "already_rated") {
          const err = document.getElementById("csat-error");
          err.textContent = ev.detail; err.hidden = false;
          return;
        }
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
    window.clearTimeout(typingStop);
    if (typingSentAt) { typingSentAt = 0; sendTyping(false); }
  });
  // Typing indicator for the agent: at most one frame every 2.5 s while typing, and a
  // "stopped" frame 3 s after the last key.
  input.addEventListener("input", () => {
    if (state.status !== "waiting" && state.status !== "agent") return;
    const now = Date.now();
    if (now - typingSentAt > 2500) { typingSentAt = now; sendTyping(true); }
    window.clearTimeout(typingStop);
    typingStop = window.setTimeout(() => { typingSentAt = 0; sendTyping(false); }, 3000);
  });
  talkButton.addEventListener("click", () => { send({ type: "request_human" }); });
  cancelButton.addEventListener("click", () => { send({ type: "cancel_handoff" }); });
  ticketForm.addEventListener("submit", (e) => {
    e.preventDefault();
    send({ type: "leave_message", email: document.getElementById("ticket-email").value, message: document.getElementById("ticket-message").value });
  });
  document.getElementById("ticket-dismiss").addEventListener("click", () => { ticketForm.hidden = true; });
  csatForm.querySelectorAll(".star").forEach((star) => {
    star.addEventListener("click", () => {
      csatScore = Number(star.dataset.score);
      csatForm.querySelectorAll(".star").forEach((s) => {
        const on = Number(s.dataset.score) <= csatScore;
        s.classList.toggle("on", on);
        s.setAttribute("aria-checked", Number(s.dataset.score) === csatScore ? "true" : "false");
      });
      document.getElementById("csat-submit").disabled = false;
    });
  });
  csatForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (csatScore) send({ type: "rate", score: csatScore, comment: document.getElementById("csat-comment").value });
  });
  document.getElementById("new-chat-button").addEventListener("click", () => {
    window.localStorage.removeItem(STORE);
    const old = socket;
    socket = null;
    if (old) old.close();
    list.innerHTML = "";
    csatScore = 0;
    csatForm.reset();
    csatForm.querySelectorAll(".star").forEach((s) => s.classList.remove("on"));
    connect();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  connect();
})();
