/*
 * inbox-tui chat widget. One tag adds a chat launcher to any page:
 *
 *   <script src="https://support.example.com/widget.js" data-title="Velora Bikes"
 *           data-color="#2f6f5e" data-position="right" data-greeting="Hi! How can we help?"
 *           data-locale="es" async></script>
 *
 * It speaks the server's /chat protocol as a careful client: a hello with the page's
 * locale, the conversation token kept in localStorage (a reload or another tab resumes
 * the thread with its history), a client_id per message, unacknowledged messages sent
 * again after a reconnect (backoff with jitter), each message shown once.
 *
 * Every piece of text goes into the page with textContent, never as HTML; no eval, no
 * inline handlers or styles, so a page with a strict Content-Security-Policy can use it.
 */
(function () {
  "use strict";

  // currentScript is the tag while it runs (async or inserted by a tag manager alike).
  var script = document.currentScript || document.querySelector("script[src*='widget.js']");
  if (!script || window.__inboxTuiWidget) return; // one widget per page
  window.__inboxTuiWidget = true;

  var STYLE_VERSION = "__WIDGET_STYLE_VERSION__";
  var ACK_TIMEOUT_MS = 10000;
  var RETRY_LATER_MS = 2000;
  var MAX_BACKOFF_MS = 10000;
  var MAX_CHARS = 4000;
  var LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  var STRINGS = {
    en: {
      open: "Open chat", close: "Close chat", send: "Send", placeholder: "Write a message…",
      you: "You", assistant: "Assistant", connecting: "Connecting…",
      offline: "Offline — reconnecting…", sending: "Sending…", notSent: "Not sent: ",
      withBot: "Our assistant answers here", withNobody: "A teammate will answer here",
      withPerson: "You're now chatting with {name}", botAgain: "Our assistant is answering again",
      unread: "{n} new", messages: "Messages", composer: "Message",
      title: "Chat with us"
    },
    es: {
      open: "Abrir el chat", close: "Cerrar el chat", send: "Enviar", placeholder: "Escribe un mensaje…",
      you: "Tú", assistant: "Asistente", connecting: "Conectando…",
      offline: "Sin conexión — reconectando…", sending: "Enviando…", notSent: "No enviado: ",
      withBot: "Te responde nuestro asistente", withNobody: "Un compañero del equipo te responderá aquí",
      withPerson: "Ahora hablas con {name}", botAgain: "Nuestro asistente vuelve a responder",
      unread: "{n} nuevos", messages: "Mensajes", composer: "Mensaje", title: "Escríbenos"
    },
    de: {
      open: "Chat öffnen", close: "Chat schließen", send: "Senden", placeholder: "Nachricht schreiben…",
      you: "Du", assistant: "Assistent", connecting: "Verbinde…",
      offline: "Offline — verbinde neu…", sending: "Wird gesendet…", notSent: "Nicht gesendet: ",
      withBot: "Unser Assistent antwortet hier", withNobody: "Ein Teammitglied antwortet hier",
      withPerson: "Du chattest jetzt mit {name}", botAgain: "Unser Assistent antwortet wieder",
      unread: "{n} neu", messages: "Nachrichten", composer: "Nachricht", title: "Schreib uns"
    },
    fr: {
      open: "Ouvrir le chat", close: "Fermer le chat", send: "Envoyer", placeholder: "Écrivez un message…",
      you: "Vous", assistant: "Assistant", connecting: "Connexion…",
      offline: "Hors ligne — reconnexion…", sending: "Envoi…", notSent: "Non envoyé : ",
      withBot: "Notre assistant vous répond ici", withNobody: "Un membre de l'équipe vous répondra ici",
      withPerson: "Vous discutez maintenant avec {name}", botAgain: "Notre assistant vous répond à nouveau",
      unread: "{n} nouveaux", messages: "Messages", composer: "Message", title: "Écrivez-nous"
    },
    pt: {
      open: "Abrir o chat", close: "Fechar o chat", send: "Enviar", placeholder: "Escreve uma mensagem…",
      you: "Tu", assistant: "Assistente", connecting: "A ligar…",
      offline: "Sem ligação — a religar…", sending: "A enviar…", notSent: "Não enviada: ",
      withBot: "O nosso assistente responde aqui", withNobody: "Um colega da equipa responde aqui",
      withPerson: "Estás agora a falar com {name}", botAgain: "O nosso assistente volta a responder",
      unread: "{n} novas", messages: "Mensagens", composer: "Mensagem", title: "Fala connosco"
    },
    it: {
      open: "Apri la chat", close: "Chiudi la chat", send: "Invia", placeholder: "Scrivi un messaggio…",
      you: "Tu", assistant: "Assistente", connecting: "Connessione…",
      offline: "Offline — riconnessione…", sending: "Invio…", notSent: "Non inviato: ",
      withBot: "Ti risponde il nostro assistente", withNobody: "Un collega del team ti risponderà qui",
      withPerson: "Ora parli con {name}", botAgain: "Il nostro assistente risponde di nuovo",
      unread: "{n} nuovi", messages: "Messaggi", composer: "Messaggio", title: "Scrivici"
    }
  };

  // -- options ----------------------------------------------------------------------

  var data = script.dataset;
  var scriptUrl = new URL(script.src, location.href);
  var chatUrl = new URL("chat", scriptUrl.href);
  chatUrl.protocol = scriptUrl.protocol === "https:" ? "wss:" : "ws:";
  chatUrl.search = "";
  chatUrl.hash = "";
  var styleUrl = new URL("widget.css?v=" + STYLE_VERSION, scriptUrl.href).href;
  var locale = (data.locale || navigator.language || "en").slice(0, 16);
  var text = STRINGS[locale.slice(0, 2).toLowerCase()] || STRINGS.en;
  var title = data.title || text.title;
  var greeting = data.greeting || "";
  var position = data.position === "left" ? "left" : "right";

  function say(key, values) {
    var template = text[key] || STRINGS.en[key];
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  // -- what outlives the page ---------------------------------------------------------
  // The conversation (customer id, conversation id, token) is shared by the tabs of a
  // site through localStorage. Messages not yet acknowledged stay with their tab in
  // sessionStorage, so a reload sends them again, with the same client_id.

  var storageKey = "inbox-tui-widget:" + chatUrl.href;

  function storage(kind) {
    try {
      var store = window[kind];
      store.setItem(storageKey + ":probe", "1");
      store.removeItem(storageKey + ":probe");
      return store;
    } catch (error) {
      return null; // storage disabled: the conversation lasts as long as the page
    }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function readJson(store, fallback) {
    if (!store) return fallback;
    try {
      var value = JSON.parse(store.getItem(storageKey) || "null");
      return value && typeof value === "object" ? value : fallback;
    } catch (error) {
      return fallback;
    }
  }

  function writeJson(store, value) {
    if (!store) return;
    try {
      store.setItem(storageKey, JSON.stringify(value));
    } catch (error) { /* full: keep going in memory */ }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  var saved = readJson(local, {});
  var thread = {
    customerId: typeof saved.customerId === "string" ? saved.customerId : "web-" + randomId(),
    conversationId: typeof saved.conversationId === "string" ? saved.conversationId : null,
    token: typeof saved.token === "string" ? saved.token : null
  };

  function saveThread() {
    writeJson(local, thread);
  }
  saveThread();

  // client_id -> {clientId, text, at, element, sentOn, timer}
  var outbox = new Map();
  function saveOutbox() {
    var list = [];
    outbox.forEach(function (item) { list.push({ clientId: item.clientId, text: item.text, at: item.at }); });
    writeJson(session, list);
  }

  // -- the elements ---------------------------------------------------------------------

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  var host = element("div");
  host.setAttribute("data-inbox-tui-widget", "");
  host.style.display = "none"; // until the stylesheet is in (CSSOM: allowed by a strict CSP)
  var root = host.attachShadow({ mode: "open" });

  var stylesheet = element("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = styleUrl;
  stylesheet.addEventListener("load", function () { host.style.display = ""; });
  stylesheet.addEventListener("error", function () { host.style.display = ""; });
  root.appendChild(stylesheet);

  var frame = element("div", "widget " + position);
  root.appendChild(frame);

  var panelId = "inbox-tui-chat-panel";
  var launcher = element("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", say("open") + ": " + title);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", panelId);
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var iconPath = document.createElementNS("http://www.w3.org/2000/svg", "path");
  iconPath.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.appendChild(iconPath);
  launcher.appendChild(icon);
  var badge = element("span", "badge");
  badge.hidden = true;
  launcher.appendChild(badge);

  var panel = element("section", "panel");
  panel.id = panelId;
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  panel.setAttribute("aria-labelledby", panelId + "-title");

  var header = element("header", "header");
  var heading = element("div", "heading");
  var titleNode = element("h2", "title", title);
  titleNode.id = panelId + "-title";
  var subtitle = element("p", "subtitle");
  heading.appendChild(titleNode);
  heading.appendChild(subtitle);
  var closeButton = element("button", "close", "×");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", say("close"));
  header.appendChild(heading);
  header.appendChild(closeButton);

  var status = element("p", "status");
  status.setAttribute("role", "status");
  status.hidden = true;

  var log = element("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-label", say("messages"));
  log.setAttribute("aria-live", "off"); // the announcer below speaks for new messages
  log.tabIndex = 0;
  if (greeting) log.appendChild(line("bot greeting", "", greeting, null, null));
  var list = element("ol", "messages");
  log.appendChild(list);

  var announcer = element("p", "announcer");
  announcer.setAttribute("aria-live", "polite");
  announcer.setAttribute("aria-atomic", "true");

  var form = element("form", "composer");
  var input = element("textarea", "input");
  input.rows = 1;
  input.maxLength = MAX_CHARS;
  input.placeholder = say("placeholder");
  input.setAttribute("aria-label", say("composer"));
  input.setAttribute("dir", "auto");
  var sendButton = element("button", "send", say("send"));
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(form);
  panel.appendChild(announcer);
  frame.appendChild(panel);
  frame.appendChild(launcher);

  var accent = data.color && window.CSS && CSS.supports("color", data.color) ? data.color : null;
  if (accent) {
    host.style.setProperty("--accent", accent);
    host.style.setProperty("--on-accent", readableOn(accent));
  }

  function readableOn(color) {
    var probe = element("span");
    probe.style.color = color;
    document.documentElement.appendChild(probe);
    var rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || ["0", "0", "0"]).map(Number);
    probe.remove();
    var channel = function (value) {
      value /= 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    };
    var luminance = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    return luminance > 0.4 ? "#111" : "#fff";
  }

  // -- showing messages -----------------------------------------------------------------

  var timeFormat = safeFormat({ hour: "2-digit", minute: "2-digit" });
  var dateTimeFormat = safeFormat({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

  function safeFormat(options) {
    try {
      return new Intl.DateTimeFormat(locale, options);
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, options);
    }
  }

  function timeElement(at) {
    var when = new Date(at);
    if (isNaN(when.getTime())) return null;
    var node = element("time", "at");
    node.dateTime = when.toISOString();
    var today = new Date().toDateString() === when.toDateString();
    node.textContent = (today ? timeFormat : dateTimeFormat).format(when);
    return node;
  }

  /** Text with http(s) links as safe anchors; everything else as text nodes. */
  function linkedText(container, value) {
    var last = 0;
    value.replace(LINK, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]}]+$/, "");
      var parsed = null;
      try {
        parsed = new URL(url);
      } catch (error) { /* not a URL after all */ }
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) return match;
      container.appendChild(document.createTextNode(value.slice(last, offset)));
      var anchor = element("a", "link", url);
      anchor.href = parsed.href;
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
      container.appendChild(anchor);
      last = offset + url.length;
      return match;
    });
    container.appendChild(document.createTextNode(value.slice(last)));
  }

  function line(kind, name, body, at, note) {
    var item = element(kind === "bot greeting" ? "div" : "li", "message " + kind);
    if (name) item.appendChild(element("span", "name", name));
    var bubble = element("p", "text");
    bubble.setAttribute("dir", "auto");
    if (kind === "agent" || kind === "bot") linkedText(bubble, body);
    else bubble.textContent = body;
    item.appendChild(bubble);
    var meta = element("span", "meta");
    var stamp = at ? timeElement(at) : null;
    if (stamp) meta.appendChild(stamp);
    if (note) meta.appendChild(element("span", "state", note));
    item.appendChild(meta);
    return item;
  }

  var shown = new Map(); // message id -> element
  var held = new Map(); // message id -> frame: history that may be one of our unacked messages

  function speakerOf(frameData) {
    if (frameData.author === "customer") return say("you");
    if (frameData.author === "bot") return frameData.name || say("assistant");
    if (frameData.author === "agent") return frameData.name || title;
    return "";
  }

  /** Insert a stored message in id order, once. */
  function show(frameData, live) {
    if (typeof frameData.id !== "number" || shown.has(frameData.id)) return;
    var author = ["customer", "bot", "agent", "system"].indexOf(frameData.author) >= 0 ? frameData.author : "system";
    var item = line(author, speakerOf(frameData), String(frameData.text || ""), frameData.at, null);
    item.dataset.id = String(frameData.id);
    if (author === "agent") item.dataset.name = frameData.name || "";
    place(item, frameData.id);
    shown.set(frameData.id, item);
    markHandovers();
    if (live && author !== "customer") {
      announce(speakerOf(frameData) + ": " + frameData.text);
      if (panel.hidden) bumpUnread();
    }
    if (author === "agent" && mode === "human") showMode();
    scrollDown();
  }

  /** Items are kept in the order of the store's ids; a mode line sits just after the
   * message before it, and messages waiting for their ack stay last. */
  function place(item, order) {
    item.dataset.order = String(order);
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      if (Number(children[i].dataset.order) > order) {
        list.insertBefore(item, children[i]);
        return;
      }
    }
    list.appendChild(item);
  }

  function lastShownId() {
    var last = 0;
    shown.forEach(function (_, id) { last = Math.max(last, id); });
    return last;
  }

  /** "You're now chatting with Ana" before a teammate's first message after anyone else
   * of the team spoke; worked out from the thread itself, so a reload shows the same. */
  function markHandovers() {
    var previous = null;
    Array.prototype.forEach.call(list.children, function (item) {
      var isAgent = item.classList.contains("agent");
      var isTeam = isAgent || item.classList.contains("bot");
      var divider = item.querySelector(".handover");
      var wanted = isAgent && (previous === null || previous.dataset.name !== item.dataset.name ||
                               !previous.classList.contains("agent"));
      if (wanted && !divider) {
        item.insertBefore(element("p", "handover", say("withPerson", { name: item.dataset.name || title })),
                          item.firstChild);
      } else if (!wanted && divider) {
        divider.remove();
      }
      if (isTeam) previous = item;
    });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function announce(message) {
    announcer.textContent = "";
    // A fresh text node each time, so screen readers read a repeated message again.
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  var unread = 0;
  function bumpUnread() {
    unread += 1;
    badge.hidden = false;
    badge.textContent = String(unread);
    launcher.setAttribute("aria-label", say("open") + ": " + title + " (" + say("unread", { n: unread }) + ")");
  }

  var mode = "bot";
  function showMode() {
    var agents = list.querySelectorAll(".agent");
    var lastAgent = agents.length ? agents[agents.length - 1] : null;
    var lastTeam = list.querySelectorAll(".agent, .bot");
    var latest = lastTeam.length ? lastTeam[lastTeam.length - 1] : null;
    frame.dataset.mode = mode;
    if (mode === "bot") subtitle.textContent = say("withBot");
    else if (lastAgent && latest === lastAgent) subtitle.textContent = say("withPerson", { name: lastAgent.dataset.name || title });
    else subtitle.textContent = say("withNobody");
  }

  function modeChanged(next, live) {
    if (next !== "bot" && next !== "human") return;
    var changed = next !== mode;
    mode = next;
    showMode();
    if (live && changed) {
      var note = element("li", "message mode", next === "bot" ? say("botAgain") : say("withNobody"));
      place(note, lastShownId() + 0.5);
      announce(note.textContent);
      scrollDown();
    }
  }

  // -- sending --------------------------------------------------------------------------

  function queue(body) {
    var item = {
      clientId: randomId(), text: body, at: new Date().toISOString(),
      element: null, sentOn: null, timer: 0
    };
    track(item);
    saveOutbox();
    if (socket) transmit(item);
    else connect(); // the first message opens the conversation; the welcome sends it
  }

  function track(item) {
    item.element = line("customer pending", say("you"), item.text, null, say("sending"));
    item.element.dataset.clientId = item.clientId;
    place(item.element, Infinity);
    outbox.set(item.clientId, item);
    scrollDown();
  }

  function transmit(item) {
    window.clearTimeout(item.timer);
    if (!socket || !welcomed) return; // sent after the next welcome
    item.sentOn = socket;
    socket.send(JSON.stringify({ type: "message", text: item.text, client_id: item.clientId }));
    var sentOn = socket;
    item.timer = window.setTimeout(function () {
      // No ack in time on a socket that still looks open: the same client_id again is safe.
      if (outbox.has(item.clientId) && socket === sentOn) transmit(item);
    }, ACK_TIMEOUT_MS);
  }

  function acknowledged(frameData) {
    var item = outbox.get(frameData.client_id);
    if (!item) return;
    window.clearTimeout(item.timer);
    outbox.delete(item.clientId);
    saveOutbox();
    held.delete(frameData.id);
    if (shown.has(frameData.id)) {
      item.element.remove(); // stored before; already on screen
    } else {
      item.element.remove();
      show({ id: frameData.id, author: "customer", text: item.text, at: frameData.at || item.at }, false);
    }
    releaseHeld();
  }

  function refused(frameData) {
    var item = outbox.get(frameData.client_id);
    if (!item) return;
    window.clearTimeout(item.timer);
    if (frameData.code === "unavailable" || frameData.code === "rate_limited") {
      item.timer = window.setTimeout(function () { transmit(item); }, RETRY_LATER_MS * (0.5 + Math.random()));
      return;
    }
    outbox.delete(item.clientId);
    saveOutbox();
    item.element.classList.remove("pending");
    item.element.classList.add("failed");
    var state = item.element.querySelector(".state");
    if (state) state.textContent = say("notSent") + (frameData.message || frameData.code);
    releaseHeld();
  }

  function releaseHeld() {
    if (outbox.size) return;
    held.forEach(function (frameData) { show(frameData, false); });
    held.clear();
  }

  // -- the connection -------------------------------------------------------------------

  var socket = null;
  var welcomed = false;
  var attempt = 0;
  var reconnectTimer = 0;
  var everConnected = false;

  function setStatus(message) {
    status.hidden = !message;
    status.textContent = message || "";
    frame.dataset.online = message ? "false" : "true";
  }

  function connect() {
    window.clearTimeout(reconnectTimer);
    if (socket) return;
    var opened;
    try {
      opened = new WebSocket(chatUrl.href);
    } catch (error) {
      reconnectLater();
      return;
    }
    socket = opened;
    welcomed = false;
    if (!everConnected) setStatus(say("connecting"));
    opened.addEventListener("open", function () {
      opened.send(JSON.stringify(hello()));
    });
    opened.addEventListener("message", function (event) {
      if (socket === opened) receive(event.data);
    });
    opened.addEventListener("close", function () {
      if (socket !== opened) return;
      socket = null;
      welcomed = false;
      setStatus(say("offline"));
      reconnectLater();
    });
  }

  function reconnectLater() {
    window.clearTimeout(reconnectTimer);
    // Exponential backoff with jitter, so a restarted server is not hit by every page at once.
    var ceiling = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempt));
    attempt += 1;
    reconnectTimer = window.setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
  }

  function hello() {
    if (!thread.token) {
      // Another tab of this site may have started the conversation meanwhile: join it.
      var shared = readJson(local, {});
      if (typeof shared.conversationId === "string" && typeof shared.token === "string") {
        thread.conversationId = shared.conversationId;
        thread.token = shared.token;
      }
    }
    if (thread.conversationId && thread.token) {
      return { type: "hello", conversation_id: thread.conversationId, token: thread.token };
    }
    return {
      type: "hello", channel: "web", conversation_id: null, token: null,
      customer: { id: thread.customerId, locale: locale, time_zone: browserTimeZone() }
    };
  }

  // The browser's IANA zone ("Europe/Lisbon"): the team's "back at" times are told in it.
  function browserTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
    } catch (error) {
      return null;
    }
  }

  function receive(raw) {
    var frameData;
    try {
      frameData = JSON.parse(raw);
    } catch (error) {
      return;
    }
    if (!frameData || typeof frameData !== "object") return;
    switch (frameData.type) {
      case "welcome": return welcome(frameData);
      case "ack": return acknowledged(frameData);
      case "message": return show(frameData, true);
      case "mode": return modeChanged(frameData.mode, true);
      case "error": return failed(frameData);
    }
  }

  function welcome(frameData) {
    if (thread.conversationId && thread.conversationId !== frameData.conversation_id) forgetThread();
    thread.conversationId = frameData.conversation_id;
    thread.token = frameData.token;
    saveThread();
    welcomed = true;
    everConnected = true;
    attempt = 0;
    setStatus("");
    // History that may be a message of ours whose ack was lost waits until the resend is
    // acknowledged (same id: it is that message) or refused.
    var waiting = new Set();
    outbox.forEach(function (item) { if (item.sentOn) waiting.add(item.text); });
    (frameData.history || []).forEach(function (message) {
      if (message.author === "customer" && !shown.has(message.id) && waiting.has(message.text)) {
        held.set(message.id, message);
      } else {
        show(message, false);
      }
    });
    modeChanged(frameData.mode, false);
    outbox.forEach(transmit);
    releaseHeld();
  }

  function failed(frameData) {
    if (frameData.client_id) return refused(frameData);
    if (!welcomed && frameData.code === "not_found") {
      // The conversation is gone (a reset server): start a new one on this socket.
      forgetThread();
      socket.send(JSON.stringify(hello()));
    }
  }

  function forgetThread() {
    thread.conversationId = null;
    thread.token = null;
    saveThread();
    shown.forEach(function (item) { item.remove(); });
    shown.clear();
    held.clear();
    Array.prototype.forEach.call(list.querySelectorAll(".mode"), function (item) { item.remove(); });
  }

  window.addEventListener("online", function () {
    if (!socket) {
      attempt = 0;
      connect();
    }
  });

  // -- opening, closing, typing ------------------------------------------------------------

  function open() {
    panel.hidden = false;
    frame.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    badge.hidden = true;
    launcher.setAttribute("aria-label", say("open") + ": " + title);
    // A visitor who only looks starts no conversation: that waits for the first message.
    if (thread.token || readJson(local, {}).token) connect();
    scrollDown();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    frame.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
    input.focus();
  });

  function submit() {
    var body = input.value;
    if (!body.trim()) return;
    input.value = "";
    queue(body);
  }

  // -- start ----------------------------------------------------------------------------

  readJson(session, []).forEach(function (item) {
    if (item && typeof item.clientId === "string" && typeof item.text === "string") {
      track({ clientId: item.clientId, text: item.text, at: item.at, element: null, sentOn: "earlier", timer: 0 });
    }
  });
  showMode();
  if (document.body) document.body.appendChild(host);
  else document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(host); });
  // A returning customer reconnects at once, so a teammate's reply shows on the launcher.
  if (thread.token || outbox.size) connect();
})();
