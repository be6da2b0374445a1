// Agent console. Protocol: docs/protocol.md ("Agent socket"). No framework, like chat.js.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const maxChars = parseInt($("console").dataset.maxChars, 10) || 2000;
  const LABELS = {
    button: "Pressed “Talk to a person”",
    explicit_request: "Asked for a person",
    low_confidence: "Bot unsure",
    negative_feedback: "Unhelpful answers",
    frustration: "Frustrated",
    circling: "Going in circles",
    sensitive_topic: "Sensitive topic",
    requeued: "Back in queue",
  };
  const STATUS = { bot: "With the assistant", waiting: "Waiting", agent: "With an agent", resolved: "Resolved", abandoned: "Left while waiting", ticket: "Left a message" };
  const rows = new Map(); // conversation id -> inbox row
  const closedOrder = []; // ids, most recent first
  const unread = new Set();
  let me = null;
  let socket = null;
  let retry = 0;
  let current = null; // the open conversation's detail
  let typingHide = null;
  let typingSentAt = 0;
  let typingStop = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function safeUrl(u) {
    try { const url = new URL(u, window.location.href); return /^https?:$/.test(url.protocol) ? url.href : null; }
    catch (e) { return null; }
  }
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  // The bot's answers are FAQ Markdown (as in chat.js): escape everything, then allow links,
  // bold and code. People's messages stay plain text.
  function renderMarkdown(text) {
    let html = escapeHtml(text);
    html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, label, href) => {
      const url = safeUrl(href.replace(/&amp;/g, "&"));
      return url ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label;
    });
    return html.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>").replace(/`([^`]+)`/g, "<code>$1</code>");
  }
  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return "just now";
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d`;
  }
  function clock(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }
  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { toast("Not connected — reconnecting…"); return false; }
    socket.send(JSON.stringify(frame));
    return true;
  }
  function toast(text) {
    const t = el("div", "toast", text);
    document.body.appendChild(t);
    window.setTimeout(() => t.remove(), 5000);
  }

  // --- Inbox ----------------------------------------------------------------------------
  function bucket(row) {
    if (row.status === "waiting") return "waiting";
    if (row.status === "agent") return me && row.agent && row.agent.id === me.id ? "mine" : null;
    return "closed";
  }
  function renderLists() {
    const groups = { waiting: [], mine: [], closed: [] };
    rows.forEach((row) => { const b = bucket(row); if (b) groups[b].push(row); });
    groups.waiting.sort((a, b) => Date.parse(a.status_changed_at || 0) - Date.parse(b.status_changed_at || 0));
    groups.mine.sort((a, b) => Date.parse(a.status_changed_at || 0) - Date.parse(b.status_changed_at || 0));
    groups.closed.sort((a, b) => closedOrder.indexOf(a.id) - closedOrder.indexOf(b.id));
    groups.closed = groups.closed.slice(0, 20);
    for (const [name, items] of Object.entries(groups)) {
      const ul = $("list-" + name);
      ul.innerHTML = "";
      items.forEach((row) => ul.appendChild(item(row, name)));
      $("empty-" + name).hidden = items.length > 0;
      if ($("count-" + name)) $("count-" + name).textContent = items.length;
    }
    document.title = (groups.waiting.length ? `(${groups.waiting.length}) ` : "") + "Agent console";
  }
  function item(row, name) {
    const li = el("li", "item");
    li.dataset.id = row.id;
    if (current && current.id === row.id) li.classList.add("active");
    if (unread.has(row.id)) li.classList.add("unread");
    const top = el("div", "item-top");
    const label = row.trigger ? LABELS[row.trigger] || row.trigger : STATUS[row.status];
    top.appendChild(el("span", "item-label", name === "closed" ? STATUS[row.status] || row.status : label));
    if (row.language) top.appendChild(el("span", "lang", row.language.toUpperCase()));
    const since = name === "waiting" ? row.status_changed_at : name === "mine" ? row.status_changed_at : row.status_changed_at;
    top.appendChild(el("span", "item-time" + (name === "waiting" ? " wait" : ""), name === "closed" ? clock(since) : ago(since)));
    li.appendChild(top);
    const preview = row.last_message ? row.last_message.text : row.reason;
    li.appendChild(el("div", "item-preview", preview || ""));
    const flags = el("div", "item-flags");
    if (name !== "closed") flags.appendChild(el("span", row.customer_online ? "dot on" : "dot", row.customer_online ? "online" : "away"));
    if (row.csat) flags.appendChild(el("span", "stars-small", "★".repeat(row.csat)));
    if (row.ticket && row.status !== "ticket") flags.appendChild(el("span", "tag", "message left"));
    li.appendChild(flags);
    li.tabIndex = 0;
    li.addEventListener("click", () => openConversation(row.id));
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") openConversation(row.id); });
    return li;
  }
  function upsert(row) {
    const before = rows.get(row.id);
    rows.set(row.id, row);
    if (bucket(row) === "closed") {
      const i = closedOrder.indexOf(row.id);
      if (i >= 0) closedOrder.splice(i, 1);
      closedOrder.unshift(row.id);
    }
    if (before && row.last_message && before.last_message && row.last_message.at !== before.last_message.at &&
        row.last_message.role === "customer" && (!current || current.id !== row.id)) unread.add(row.id);
  }

  // --- The open conversation --------------------------------------------------------------
  function openConversation(id) {
    unread.delete(id);
    window.location.hash = "c=" + id;
    send({ type: "open", conversation_id: id });
  }
  function isMine() {
    return current && current.status === "agent" && current.agent && me && current.agent.id === me.id;
  }
  function renderConversation(detail) {
    current = detail;
    $("placeholder").hidden = true;
    $("conv").hidden = false;
    renderHead();
    const list = $("transcript");
    list.innerHTML = "";
    detail.messages.forEach((m) => list.appendChild(messageItem(m)));
    list.scrollTop = list.scrollHeight;
    renderContext();
    renderLists();
  }
  function renderHead() {
    const d = current;
    $("conv-title").textContent = (d.last_message && d.messages.find((m) => m.role === "customer") || {}).text || "Conversation";
    const meta = [STATUS[d.status] || d.status];
    if (d.agent) meta.push(d.agent.name);
    meta.push("Language: " + (d.language ? d.language.toUpperCase() : "unknown"));
    meta.push(d.customer_online ? "Customer online" : "Customer away");
    meta.push("Started " + clock(d.created_at));
    $("conv-meta").textContent = meta.join(" · ");
    $("accept").hidden = d.status !== "waiting";
    $("resolve").hidden = !isMine();
    $("hand-back").hidden = !isMine();
    $("reply").hidden = !isMine();
    const note = $("readonly-note");
    note.hidden = isMine();
    note.textContent = d.status === "waiting" ? "Accept the conversation to reply." :
      d.status === "agent" ? `${d.agent ? d.agent.name : "Another agent"} is handling this conversation.` :
      "This conversation is not with an agent. Read-only.";
    if (!isMine()) $("hand-back-form").hidden = true;
  }
  function messageItem(m) {
    const li = el("li", "tmsg " + m.role);
    li.dataset.messageId = m.message_id;
    const head = el("div", "tmsg-head");
    const who = m.role === "customer" ? "Customer" : m.role === "bot" ? "Assistant" : m.role === "agent" ? m.author || "Agent" : "";
    if (who) head.appendChild(el("span", "who", who));
    head.appendChild(el("span", "when", clock(m.created_at)));
    if (m.role !== "system") li.appendChild(head);
    const body = el("div", "text");
    if (m.role === "bot") body.innerHTML = renderMarkdown(m.text); else body.textContent = m.text;
    li.appendChild(body);
    if (m.role === "bot") {
      const facts = el("div", "facts");
      if (typeof m.confidence === "number") facts.appendChild(el("span", "chip" + (m.confidence < 0.5 ? " warn" : ""), `confidence ${m.confidence.toFixed(2)}`));
      if (m.outcome === "draft") facts.appendChild(el("span", "chip ok", "model's answer, verified"));
      if (m.outcome === "fallback") facts.appendChild(el("span", "chip warn", "draft rejected: FAQ quoted"));
      if (m.escalate) facts.appendChild(el("span", "chip warn", "no supported answer"));
      if (m.feedback === 1) facts.appendChild(el("span", "chip ok", "customer: helpful"));
      if (m.feedback === -1) facts.appendChild(el("span", "chip warn", "customer: not helpful"));
      (m.citations || []).forEach((c) => {
        const url = safeUrl(c.url);
        const a = el(url ? "a" : "span", "cite", c.question);
        if (url) { a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer"; }
        facts.appendChild(a);
      });
      li.appendChild(facts);
    }
    if (m.role === "agent" && me && current && current.status !== "waiting") {
      const promote = el("button", "link-button promote", m.promoted ? "Sent to staff for review" : "Promote to FAQ");
      promote.type = "button";
      promote.disabled = !!m.promoted;
      promote.addEventListener("click", () => { send({ type: "promote", message_id: m.message_id }); promote.disabled = true; });
      li.appendChild(promote);
    }
    return li;
  }
  function renderContext() {
    const d = current;
    const fill = (id, items, render) => {
      const ul = $(id);
      ul.innerHTML = "";
      items.forEach((x) => ul.appendChild(render(x)));
      $("panel-" + id.split("-")[0]).hidden = items.length === 0;
    };
    const summary = (d.summary || []).slice();
    if (d.csat) summary.push(`Customer rating: ${"★".repeat(d.csat.score)}${"☆".repeat(5 - d.csat.score)}${d.csat.comment ? " — “" + d.csat.comment + "”" : ""}`);
    (d.tickets || []).forEach((t) => summary.push(`Message left for ${t.email}${t.emailed ? " (e-mailed to the team)" : ""}: “${t.message}”`));
    fill("summary", summary, (line) => el("li", "", line));
    fill("handoffs", d.handoffs || [], (h) => {
      const li = el("li");
      li.appendChild(el("strong", "", LABELS[h.trigger] || h.trigger));
      li.appendChild(el("span", "muted", ` · ${clock(h.requested_at)}${h.outcome === "offline" ? " · nobody available (" + h.unavailable_reason + ")" : ""}`));
      li.appendChild(el("div", "", h.reason));
      if (h.agent) li.appendChild(el("div", "muted", `${h.agent}${h.auto_assigned ? " (auto-assigned)" : ""}${h.end ? " · " + h.end.replace("_", " ") : ""}`));
      if (h.note) li.appendChild(el("div", "note", "Note: " + h.note));
      return li;
    });
    const bots = (d.messages || []).filter((m) => m.role === "bot");
    fill("bot-answers", bots, (m) => {
      const li = el("li");
      const plain = m.text.replace(/\[([^\]]+)\]\([^)]*\)/g, "$1").replace(/\*\*|`/g, "");
      li.appendChild(el("div", "", `“${plain.slice(0, 90)}${plain.length > 90 ? "…" : ""}”`));
      const conf = typeof m.confidence === "number" ? `confidence ${m.confidence.toFixed(2)}` : "no confidence";
      const verified = m.outcome === "draft" ? " · draft verified" : m.outcome === "fallback" ? " · draft rejected, FAQ quoted" : "";
      li.appendChild(el("div", "muted", conf + verified));
      (m.citations || []).forEach((c) => li.appendChild(el("div", "cite-line", "Cited: " + c.question)));
      if (!(m.citations || []).length) li.appendChild(el("div", "muted", "No FAQ cited"));
      (m.retrieved || []).forEach((r) => {
        const score = typeof r.score === "number" ? ` (${r.score.toFixed(2)})` : "";
        li.appendChild(el("div", "muted", "Retrieved: " + r.question + score));
      });
      return li;
    });
    $("panel-bot").hidden = bots.length === 0;
    fill("earlier", d.earlier || [], (c) => {
      const li = el("li", "earlier-item");
      li.appendChild(el("div", "", c.first_message || "(no message)"));
      li.appendChild(el("div", "muted", `${new Date(c.created_at).toLocaleDateString()} · ${STATUS[c.status] || c.status}${c.csat ? " · " + "★".repeat(c.csat) : ""}`));
      li.addEventListener("click", () => openConversation(c.id));
      return li;
    });
    $("panel-tools").hidden = !isMine();
    if (isMine() && !$("canned-results").childElementCount) searchCanned();
  }
  function upsertMessage(m) {
    if (!current) return;
    const i = current.messages.findIndex((x) => x.message_id === m.message_id);
    if (i >= 0) current.messages[i] = Object.assign(current.messages[i], m); else current.messages.push(m);
    const list = $("transcript");
    const old = list.querySelector(`li[data-message-id="${Number(m.message_id)}"]`);
    const li = messageItem(i >= 0 ? current.messages[i] : m);
    if (old) old.replaceWith(li); else list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    if (m.role === "customer") showTyping(false);
    if (m.role === "bot") renderContext();
  }
  function showTyping(on) {
    window.clearTimeout(typingHide);
    $("typing").hidden = !on;
    $("typing").textContent = on ? "Customer is typing…" : "";
    if (on) typingHide = window.setTimeout(() => showTyping(false), 6000);
  }

  // --- Tools: canned replies and the knowledge base ---------------------------------------
  function insert(text) {
    const box = $("reply-text");
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n" + text : text;
    box.focus();
  }
  async function search(url, target, render) {
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = await res.json();
      const ul = $(target);
      ul.innerHTML = "";
      if (!res.ok) { ul.appendChild(el("li", "muted", (data.error && data.error.detail) || "Search failed.")); return; }
      if (!data.results.length) ul.appendChild(el("li", "muted", "No results."));
      data.results.forEach((r) => ul.appendChild(render(r)));
    } catch (e) { /* offline: keep the old results */ }
  }
  function searchCanned() {
    search("/agent/api/canned?q=" + encodeURIComponent($("canned-q").value), "canned-results", (r) => {
      const li = el("li", "result");
      li.appendChild(el("strong", "", r.title));
      li.appendChild(el("div", "muted", r.body.slice(0, 120)));
      const b = el("button", "link-button", "Insert");
      b.type = "button";
      b.addEventListener("click", () => insert(r.body));
      li.appendChild(b);
      return li;
    });
  }
  function searchKb() {
    const q = $("kb-q").value.trim();
    if (!q) { $("kb-results").innerHTML = ""; return; }
    search("/agent/api/kb?q=" + encodeURIComponent(q), "kb-results", (r) => {
      const li = el("li", "result");
      li.appendChild(el("strong", "", r.question));
      li.appendChild(el("div", "muted", r.answer.slice(0, 160)));
      const b = el("button", "link-button", "Insert answer");
      b.type = "button";
      b.addEventListener("click", () => insert(r.answer + (safeUrl(r.url) ? "\n" + r.url : "")));
      li.appendChild(b);
      return li;
    });
  }
  function debounce(fn, ms) { let t; return () => { window.clearTimeout(t); t = window.setTimeout(fn, ms); }; }
  $("canned-q").addEventListener("input", debounce(searchCanned, 250));
  $("kb-q").addEventListener("input", debounce(searchKb, 300));

  // --- Socket ---------------------------------------------------------------------------
  function connect() {
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${proto}://${window.location.host}/ws/agent/`);
    socket.onopen = () => { retry = 0; $("conn").textContent = "Connected"; $("conn").className = "conn ok"; };
    socket.onclose = (e) => {
      $("conn").className = "conn";
      if (e.code === 4403 || e.code === 1006 && !me) {
        // Refused: the session ended (signed out elsewhere) or this is not an agent.
        $("conn").textContent = "Signed out — reload to sign in";
        if (me) { window.setTimeout(() => window.location.reload(), 1500); }
        return;
      }
      $("conn").textContent = "Reconnecting…";
      retry = Math.min(retry + 1, 5);
      window.setTimeout(connect, 500 * 2 ** retry);
    };
    socket.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      handle(ev);
    };
  }
  function handle(ev) {
    if (ev.type === "hello") {
      me = ev.agent;
      $("me-name").textContent = me.name;
      $("availability").value = me.status;
      $("availability").disabled = false;
      rows.clear();
      closedOrder.length = 0;
      ["waiting", "mine", "closed"].forEach((k) => ev.inbox[k].forEach((r) => { rows.set(r.id, r); if (k === "closed") closedOrder.push(r.id); }));
      renderLists();
      const wanted = (window.location.hash.match(/c=([0-9a-f-]{36})/) || [])[1];
      if (current) send({ type: "open", conversation_id: current.id });
      else if (wanted) send({ type: "open", conversation_id: wanted });
    } else if (ev.type === "inbox_update") {
      upsert(ev.conversation);
      renderLists();
      if (current && current.id === ev.conversation.id && current.status !== ev.conversation.status) {
        send({ type: "open", conversation_id: current.id }); // refresh the view: new state
      } else if (current && current.id === ev.conversation.id) {
        current.customer_online = ev.conversation.customer_online;
        renderHead();
      }
    } else if (ev.type === "conversation") {
      renderConversation(ev.conversation);
    } else if (ev.type === "message") {
      if (current && current.id === ev.conversation_id) upsertMessage(ev.message);
    } else if (ev.type === "typing") {
      if (current && current.id === ev.conversation_id && ev.role === "customer") showTyping(ev.typing);
    } else if (ev.type === "accepted") {
      openConversation(ev.conversation_id);
    } else if (ev.type === "assigned") {
      toast("A conversation was assigned to you.");
      if (!current || !isMine()) openConversation(ev.conversation.id);
    } else if (ev.type === "availability") {
      if (me) me.status = ev.status;
      $("availability").value = ev.status;
    } else if (ev.type === "promoted") {
      const m = current && current.messages.find((x) => x.message_id === ev.message_id);
      if (m) { m.promoted = true; upsertMessage(m); }
      toast(`Draft FAQ #${ev.faq_id} created for staff review.`);
    } else if (ev.type === "error") {
      toast(ev.detail || ev.code);
      if (ev.code === "already_taken" && current) send({ type: "open", conversation_id: current.id });
    }
  }

  // --- Actions --------------------------------------------------------------------------
  $("availability").addEventListener("change", (e) => send({ type: "set_availability", status: e.target.value }));
  $("accept").addEventListener("click", () => current && send({ type: "accept", conversation_id: current.id }));
  $("resolve").addEventListener("click", () => current && send({ type: "resolve", conversation_id: current.id }));
  $("hand-back").addEventListener("click", () => { $("hand-back-form").hidden = false; $("hand-back-note").focus(); });
  $("hand-back-cancel").addEventListener("click", () => { $("hand-back-form").hidden = true; });
  $("hand-back-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (current) send({ type: "hand_back", conversation_id: current.id, note: $("hand-back-note").value });
    $("hand-back-note").value = "";
    $("hand-back-form").hidden = true;
  });
  $("reply").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text || !current) return;
    if (text.length > maxChars) { toast(`Messages are limited to ${maxChars} characters.`); return; }
    if (send({ type: "message", conversation_id: current.id, text })) {
      $("reply-text").value = "";
      window.clearTimeout(typingStop);
      if (typingSentAt) { typingSentAt = 0; send({ type: "typing", conversation_id: current.id, typing: false }); }
    }
  });
  $("reply-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("reply").requestSubmit(); }
  });
  $("reply-text").addEventListener("input", () => {
    if (!isMine()) return;
    const now = Date.now();
    if (now - typingSentAt > 2500) { typingSentAt = now; send({ type: "typing", conversation_id: current.id, typing: true }); }
    window.clearTimeout(typingStop);
    typingStop = window.setTimeout(() => { typingSentAt = 0; if (isMine()) send({ type: "typing", conversation_id: current.id, typing: false }); }, 3000);
  });
  // Wait times tick without a server round trip.
  window.setInterval(renderLists, 15000);
  connect();
})();
