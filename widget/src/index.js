// Website chat widget for the clinic's consent assistant.
//
// A clinic adds one script tag; its data attributes configure the widget:
//   <script src="https://chat.clinic.org/widget/widget.js" defer
//           data-clinic-name="Riverside Spine & Pain Clinic"
//           data-primary-color="#1f5f8b"
//           data-start-payload="/greet"
//           data-patient-token="(JWT from the patient portal, optional)"
//           data-lang="es"></script>
//
// The widget speaks the page's language: data-lang, else the page's <html lang>, else
// English; only languages it has texts for (content/widget.yml, content/es/widget.yml).
// It tells the server too (session_request), so the conversation starts in that language.
//
// The invitation page (/i/<link>) sets data-invite (the link or the browser key the
// date-of-birth check gave) and data-open="1": the chat opens at once in the patient's
// conversation, the clinic's text messages so far shown first.
//
// It talks to the project's secure socket.io channel (bot/channels/web/channel.py):
// session_request -> session_confirm (signed session key, kept in localStorage)
// -> session_history (the conversation so far), then user_uttered / bot_uttered,
// with turn_complete when the assistant has finished answering. Event names, the
// message limit and the refusal codes come from ../protocol.json, which the server
// reads too.
//
// No message is lost to a dropped connection: each gets a random client id and stays
// in the outbox until its turn is complete. The server acknowledges it at once; with no
// acknowledgement the connection is taken for dead (a phone changing networks drops it
// without a word) and opened again. After each reconnect, what the server's history does
// not show yet is shown after it and sent again; the server answers each client id once.

import { io } from "socket.io-client";
import { socketAuth, storeName } from "./auth.js";
import {
  client_id_key as CLIENT_ID_KEY,
  connect_errors as CONNECT_ERRORS,
  events as EVENTS,
  language_key as LANGUAGE_KEY,
  max_message_chars as MAX_CHARS,
  origin_check_path as ORIGIN_CHECK_PATH,
} from "../protocol.json";
import { themeColors } from "./color.js";
import { createStore } from "./storage.js";
import { css } from "./styles.js";
import { fill, pickLanguage, textsIn, tokenize } from "./text.js";

// Every word the widget shows by itself, in every language (`{en: {...}, es: {...}}`), from
// content/widget.yml and its translations with the clinic's facts filled in. build.mjs builds
// them in (scripts/build-widget.sh writes them), so they show even when the chat server cannot
// be reached.
// eslint-disable-next-line no-undef
const TEXTS = __WIDGET_TEXTS__;
// The texts of the page's language, chosen when the widget starts (start()).
let TEXT = textsIn(TEXTS, "en");
const TYPING_TIMEOUT_MS = 60000;
// The server acknowledges a message as soon as it arrives; silence this long means the
// connection is gone even if the browser has not noticed (it would take ~45 s to).
const ACK_TIMEOUT_MS = 6000;
// Failed attempts before the error line gives the clinic's phone number.
const UNREACHABLE_AFTER = 3;
// How close to the end (px) the log counts as "at the newest message" when it is resized.
const STICK_PX = 32;
const HOST_ID = "clinic-chat-widget";

/** A number as the texts show it: 2,000. */
const count = (number) => number.toLocaleString("en-US");

/** A random id for one message, so the server can tell a resent message from a new one. */
export function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The script tag that loaded us, for its data attributes. */
function findScript() {
  return (
    document.currentScript ||
    document.querySelector("script[data-clinic-chat]") ||
    [...document.querySelectorAll("script[src]")].find((s) => /\/widget\.js(\?|$)/.test(s.src)) ||
    null
  );
}

/** The language the page asks for: the script tag's data-lang, else <html lang>, else English. */
export function pageLanguage(script) {
  const data = (script && script.dataset) || {};
  return pickLanguage(TEXTS, data.lang, document.documentElement.lang);
}

/** Settings from the script tag's data attributes, with defaults (TEXT: in the page's language). */
export function readConfig(script, lang = "en") {
  const data = (script && script.dataset) || {};
  let origin = window.location.origin;
  if (script && script.src) origin = new URL(script.src, window.location.href).origin;
  const clinicName = (data.clinicName || TEXT["labels.title"]).trim();
  return {
    serverUrl: (data.serverUrl || origin).replace(/\/+$/, ""),
    socketPath: data.socketPath || "/socket.io",
    clinicName,
    subtitle: data.subtitle || TEXT["labels.subtitle"],
    primaryColor: data.primaryColor || "#1f5f8b",
    startPayload: (data.startPayload || "").trim(),
    patientToken: (data.patientToken || "").trim(),
    invite: (data.invite || "").trim(),
    openOnStart: data.open === "1" || data.open === "true",
    notice: (data.notice || "").trim(),
    launcherText: data.launcherText || TEXT["labels.launcher"],
    lang,
  };
}

/** A DOM element with attributes and children; text is always set as text. */
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

/** Message text as DOM nodes: links and bold become elements, the rest text nodes. */
function renderText(text) {
  const fragment = document.createDocumentFragment();
  for (const token of tokenize(text)) {
    if (token.type === "link") {
      const external = /^https?:/.test(token.href);
      const link = el("a", {
        href: token.href,
        target: external ? "_blank" : null,
        rel: external ? "noopener noreferrer" : null,
        text: token.text,
      });
      if (external) link.append(el("span", { class: "sr", text: ` ${TEXT["labels.opens_new_tab"]}` }));
      fragment.append(link);
    } else if (token.type === "strong") {
      fragment.append(el("strong", { text: token.text }));
    } else {
      fragment.append(document.createTextNode(token.text));
    }
  }
  return fragment;
}

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" ' +
  'd="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

class ChatWidget {
  constructor(config) {
    this.config = config;
    this.store = createStore(storeName(config.serverUrl, config.invite));
    this.socket = null;
    this.ready = false; // bound to a conversation on the server
    // Messages whose turn is not known to be complete: {id, text, display, acked}. Kept
    // until turn_complete names them or the server's history shows them.
    this.outbox = [];
    this.wantNew = false; // next session_request asks for a new conversation
    this.typingTimer = null;
    this.tooLongShown = false; // the error line says the message is too long
    this.failures = 0; // connection attempts failed in a row
    this.connectedOnce = false; // the server has accepted this page at least once
    this.unreachable = false; // the error line gives the clinic's phone number
    this.refused = false; // this page's origin may not use the chat: stop trying
    this.atEnd = true; // the log shows its newest message (kept there on resize)
    this.build();
    if (this.store.wasOpen() || config.openOnStart) this.open({ focus: false });
  }

  build() {
    const { config } = this;
    const colors = themeColors(config.primaryColor);
    if (colors.adjusted) {
      console.warn(
        `Clinic chat: data-primary-color ${config.primaryColor} was darkened to ${colors.primary} ` +
          "so that text on it meets WCAG AA contrast."
      );
    }
    // Screen readers read the chat in its own language, whatever the page's.
    this.host = el("div", { id: HOST_ID, lang: config.lang });
    const root = this.host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css); // not subject to the page's style-src CSP
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", { text: css }));
    }

    this.launcher = el("button", {
      class: "launcher",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "ccw-panel",
    });
    this.launcher.innerHTML = CHAT_ICON; // static markup, no data in it
    this.launcher.append(el("span", { text: config.launcherText }));

    // An invitation's chat is the patient's one conversation with the clinic (texts too): no starting over.
    this.restartButton = el("button", {
      class: "restart",
      type: "button",
      text: TEXT["labels.start_over"],
      hidden: Boolean(config.invite),
    });
    this.confirmNo = el("button", { class: "confirm-no", type: "button", text: TEXT["start_over.no"] });
    this.confirmYes = el("button", { class: "confirm-yes", type: "button", text: TEXT["start_over.yes"] });
    this.confirmBar = el(
      "div",
      { class: "confirm", role: "alertdialog", "aria-labelledby": "ccw-confirm-question", hidden: true },
      [
        el("p", { id: "ccw-confirm-question", text: TEXT["start_over.question"] }),
        el("div", { class: "confirm-buttons" }, [this.confirmYes, this.confirmNo]),
      ]
    );
    this.closeButton = el("button", { class: "close", type: "button", "aria-label": TEXT["labels.close"] }, [
      el("span", { "aria-hidden": "true", text: "×" }),
    ]);
    this.log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": TEXT["labels.conversation"],
      tabindex: "0",
    });
    this.typing = el("div", { class: "typing", role: "status" });
    this.status = el("div", { class: "sr", role: "status" });
    this.error = el("p", { class: "error", role: "alert" });
    this.input = el("textarea", {
      id: "ccw-input",
      rows: "1",
      placeholder: TEXT["labels.placeholder"],
      "aria-describedby": "ccw-hint ccw-counter",
      autocomplete: "off",
    });
    this.counter = el("p", { class: "counter", id: "ccw-counter" });
    this.form = el("form", { class: "composer", novalidate: true }, [
      el("label", { for: "ccw-input", class: "sr", text: TEXT["labels.message_box"] }),
      this.input,
      el("button", { class: "send", type: "submit", text: TEXT["labels.send"] }),
      el("p", { class: "sr", id: "ccw-hint", text: TEXT["labels.keyboard_hint"] }),
      this.counter,
    ]);
    this.panel = el(
      "section",
      { id: "ccw-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "ccw-title", hidden: true },
      [
        el("div", { class: "head" }, [
          el("div", { class: "titles" }, [
            el("h2", { class: "title", id: "ccw-title", text: config.clinicName }),
            el("p", { class: "subtitle", text: config.subtitle }),
          ]),
          this.restartButton,
          this.closeButton,
        ]),
        this.confirmBar,
        config.notice ? el("p", { class: "notice", text: config.notice }) : "",
        this.log,
        this.typing,
        this.error,
        this.status,
        this.form,
      ]
    );
    this.frame = el("div", { class: "ccw", lang: config.lang }, [this.launcher, this.panel]);
    this.frame.style.setProperty("--ccw-primary", colors.primary);
    this.frame.style.setProperty("--ccw-on-primary", colors.onPrimary);
    this.frame.style.setProperty("--ccw-link-light", colors.link);
    this.frame.style.setProperty("--ccw-link-dark", colors.linkDark);
    root.append(this.frame);
    document.body.append(this.host);

    this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    this.closeButton.addEventListener("click", () => this.close());
    this.restartButton.addEventListener("click", () => this.askStartOver());
    this.confirmYes.addEventListener("click", () => this.startOver());
    this.confirmNo.addEventListener("click", () => this.cancelStartOver());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        if (!this.confirmBar.hidden) this.cancelStartOver();
        else this.close();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.updateCounter());

    // Keep the newest message in view when the log changes size: a phone turned to
    // landscape, the on-screen keyboard opening, the browser's text made larger.
    this.log.addEventListener(
      "scroll",
      () => (this.atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight <= STICK_PX),
      { passive: true }
    );
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.atEnd && this.scrollToEnd()).observe(this.log);
    }
    // Full screen on a phone: fit the visible part of the page, above the keyboard.
    const viewport = window.visualViewport;
    if (viewport) {
      const fit = () => {
        this.frame.style.setProperty("--ccw-visible-height", `${viewport.height}px`);
        this.frame.style.setProperty("--ccw-visible-top", `${viewport.offsetTop}px`);
        if (this.atEnd) this.scrollToEnd();
      };
      viewport.addEventListener("resize", fit);
      viewport.addEventListener("scroll", fit);
      fit();
    }
  }

  // --- open / close -------------------------------------------------------

  isOpen() {
    return !this.panel.hidden;
  }

  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.frame.classList.add("open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.store.setOpen(true);
    this.connect();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.frame.classList.remove("open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.setOpen(false);
    this.launcher.focus();
  }

  // --- connection -------------------------------------------------------------

  connect() {
    if (this.socket) return;
    const { config } = this;
    const socket = io(config.serverUrl, {
      path: config.socketPath,
      auth: socketAuth(config),
      // WebSocket first: it always carries the page's Origin and needs no CORS;
      // long-polling remains the fallback where a proxy blocks WebSockets.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      withCredentials: false,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 8000,
      timeout: 10000,
    });
    this.socket = socket;

    socket.on("connect", () => {
      this.failures = 0;
      this.connectedOnce = true;
      this.unreachable = false;
      this.setError("");
      const key = this.wantNew ? null : this.store.sessionKey();
      this.requestedKey = key;
      socket.emit(EVENTS.session_request, { session_key: key, new: this.wantNew, [LANGUAGE_KEY]: config.lang });
      this.wantNew = false;
    });
    socket.on(EVENTS.session_confirm, (key) => {
      if (typeof key === "string") this.store.setSessionKey(key);
      this.sessionKey = key;
    });
    socket.on(EVENTS.session_history, (data) => this.onHistory(data || {}));
    socket.on(EVENTS.bot_message, (message) => this.onBotMessage(message || {}));
    socket.on(EVENTS.turn_complete, (data) => this.onTurnComplete(data || {}));
    socket.on("disconnect", (reason) => {
      this.ready = false;
      // What was queued for this connection is in the outbox; sent again after the history.
      socket.sendBuffer = [];
      this.setTyping(false);
      if (reason === "io server disconnect") {
        this.setError(TEXT["connection.closed"]);
      } else if (reason !== "io client disconnect") {
        this.setError(TEXT["connection.lost"]);
      }
    });
    socket.on("connect_error", (error) => this.onConnectError(error));
    socket.io.on("reconnect_attempt", (attempt) => {
      if (this.refused || this.unreachable) return;
      this.setError(fill(TEXT["connection.reconnecting"], { attempt }));
    });
  }

  onConnectError(error) {
    if (this.refused) return;
    const reason = error && error.message;
    if (CONNECT_ERRORS.includes(reason)) {
      // Refused by the chat server itself, with its reason.
      this.setError(TEXT[`connect_errors.${reason}`]);
      return;
    }
    this.failures += 1;
    // A page the server does not allow fails before any reason can reach it: ask why.
    if (this.failures === 1 && !this.connectedOnce) this.checkOrigin();
    if (this.failures >= UNREACHABLE_AFTER) this.showUnreachable();
  }

  /** The chat server is out of reach: say so with the clinic's phone number, and keep trying. */
  showUnreachable() {
    if (this.refused || (this.socket && this.socket.connected)) return;
    this.unreachable = true;
    this.setError(TEXT["connection.unreachable"]);
  }

  /** Ask the server whether this page may use the chat; a plain "no" stops the retries. */
  async checkOrigin() {
    let answer;
    try {
      const response = await fetch(this.config.serverUrl + ORIGIN_CHECK_PATH, {
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
      });
      answer = await response.json();
    } catch {
      // Not even this request got through: the server is out of reach.
      this.showUnreachable();
      return;
    }
    if (answer && answer.origin_allowed === false) {
      this.refused = true;
      if (this.socket) {
        this.socket.io.reconnection(false);
        this.socket.disconnect();
      }
      this.setTyping(false);
      this.setError(TEXT["connect_errors.origin_not_allowed"]);
    }
  }

  onHistory({ messages = [], resumed = false, received = [] }) {
    const askedToResume = Boolean(this.requestedKey);
    if (askedToResume && !resumed) {
      // The old conversation ended (its key expired): what it received stays with it.
      this.outbox = this.outbox.filter((item) => !item.acked);
    }
    // Messages the server's history already holds are answered (or being answered) there.
    const held = new Set(Array.isArray(received) ? received : []);
    this.outbox = this.outbox.filter((item) => !held.has(item.id));
    // A resumed conversation the server has no record of (its store was reset):
    // keep what this page already shows rather than blank it.
    const keepShown = resumed && messages.length === 0 && this.log.querySelector(".msg");
    if (!keepShown) {
      this.log.setAttribute("aria-busy", "true");
      this.log.replaceChildren();
      if (askedToResume && !resumed) {
        this.appendBot({ text: TEXT["notes.conversation_ended"], notice: "info" });
      }
      for (const message of messages) {
        if (message.sender === "user") this.appendUser(message.text || "");
        else this.appendBot(message);
      }
      // Sent by the patient but not in the history yet: shown after it, never dropped.
      for (const item of this.outbox) {
        if (item.display !== null) this.appendUser(item.display);
      }
      this.log.removeAttribute("aria-busy");
    }
    this.ready = true;
    // Unacknowledged or unanswered: sent again; the server answers each client id once.
    for (const item of this.outbox) this.emitItem(item);
    const key = this.sessionKey;
    if (messages.length === 0 && this.config.startPayload && key && this.store.started() !== key) {
      this.store.setStarted(key);
      this.queue(this.config.startPayload, null);
    }
    this.scrollToEnd();
  }

  onTurnComplete(data) {
    const id = data[CLIENT_ID_KEY];
    if (id) this.outbox = this.outbox.filter((item) => item.id !== id);
    // Still waiting for the answer to another message: keep the indicator.
    this.setTyping(Boolean(id) && this.outbox.some((item) => item.acked));
  }

  onBotMessage(message) {
    this.appendBot(message);
    // turn_complete ends the indicator; this is the fallback for other servers.
    this.setTyping(this.typingTimer !== null, 2500);
  }

  // --- sending -----------------------------------------------------------------

  submit() {
    const text = this.input.value.trim();
    if (!text) {
      this.counter.textContent = TEXT["notes.type_first"];
      this.input.focus();
      return;
    }
    if (text.length > MAX_CHARS) {
      this.updateCounter();
      this.setError(fill(TEXT["notes.too_long"], { count: count(text.length), limit: count(MAX_CHARS) }));
      this.tooLongShown = true;
      this.input.focus();
      return;
    }
    this.input.value = "";
    this.updateCounter();
    this.send(text, text);
  }

  /** Send `text` to the assistant, showing `display` (a button's title) as the user's bubble. */
  send(text, display) {
    this.removeReplies();
    if (!this.socket || !this.socket.connected) {
      if (!this.refused) this.setError(TEXT["notes.offline"]);
      this.connect();
    }
    this.queue(text, display);
  }

  /** Put a message in the outbox (with its bubble unless `display` is null) and send it when bound. */
  queue(text, display) {
    const item = { id: newClientId(), text, display, acked: false };
    this.outbox.push(item);
    if (display !== null) this.appendUser(display);
    if (this.ready && this.socket && this.socket.connected) this.emitItem(item);
  }

  emitItem(item) {
    const socket = this.socket;
    this.setTyping(true);
    // The server knows this socket's conversation; no conversation id travels with a message.
    socket.timeout(ACK_TIMEOUT_MS).emit(EVENTS.user_message, { message: item.text, [CLIENT_ID_KEY]: item.id }, (error) => {
      if (!error) {
        item.acked = true;
        return;
      }
      // No acknowledgement although the socket looks open: it died without a word.
      // Open a new one now; the outbox is sent again once the conversation is bound.
      if (socket === this.socket && socket.connected && !item.acked && this.outbox.includes(item)) {
        socket.io.engine.close();
      }
    });
  }

  askStartOver() {
    this.confirmBar.hidden = false;
    this.confirmNo.focus();
  }

  cancelStartOver() {
    this.confirmBar.hidden = true;
    this.restartButton.focus();
  }

  startOver() {
    this.confirmBar.hidden = true;
    this.log.replaceChildren();
    this.outbox = [];
    this.store.forget();
    this.setTyping(false);
    this.setError("");
    this.input.value = "";
    this.updateCounter();
    this.announce(TEXT["notes.started_over"]);
    this.ready = false;
    if (this.socket && this.socket.connected) {
      this.requestedKey = null;
      this.socket.emit(EVENTS.session_request, { new: true, [LANGUAGE_KEY]: this.config.lang });
    } else {
      this.wantNew = true;
      this.connect();
    }
    this.input.focus();
  }

  // --- rendering ---------------------------------------------------------------

  appendUser(text) {
    this.log.append(
      el("div", { class: "msg user" }, [
        el("div", { class: "bubble" }, [el("span", { class: "sr", text: `${TEXT["labels.you_said"]} ` }), renderText(text)]),
      ])
    );
    this.scrollToEnd();
  }

  appendBot(message) {
    const parts = [];
    if (typeof message.text === "string" && message.text) {
      parts.push(el("div", { class: "bubble" }, [this.speaker(), renderText(message.text)]));
    }
    const attachment = message.attachment;
    if (attachment && attachment.type === "image" && attachment.payload && attachment.payload.src) {
      const bubble = el("div", { class: "bubble" }, [this.speaker()]);
      bubble.append(renderText(`[${TEXT["labels.view_image"]}](${attachment.payload.src})`));
      parts.push(bubble);
    }
    const buttons = message.quick_replies || message.buttons || [];
    if (Array.isArray(buttons) && buttons.length) {
      const group = el("div", { class: "replies", role: "group", "aria-label": TEXT["labels.reply_options"] });
      for (const button of buttons) {
        if (!button || !button.title || !button.payload) continue;
        const reply = el("button", { class: "reply", type: "button", text: String(button.title) });
        reply.addEventListener("click", () => {
          this.send(String(button.payload), String(button.title));
          this.input.focus();
        });
        group.append(reply);
      }
      parts.push(group);
    }
    if (!parts.length) return;
    const notice = message.notice ? " notice" : "";
    this.log.append(el("div", { class: `msg bot${notice}` }, parts));
    this.scrollToEnd();
  }

  /** "Assistant:" before a bot bubble, for screen readers. */
  speaker() {
    return el("span", { class: "sr", text: `${TEXT["labels.assistant_said"]} ` });
  }

  removeReplies() {
    for (const group of this.log.querySelectorAll(".replies")) group.remove();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
    this.atEnd = true;
  }

  setTyping(on, hideAfterMs = TYPING_TIMEOUT_MS) {
    clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (on) {
      if (!this.typing.firstChild) {
        const dots = el("span", { class: "dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]);
        this.typing.append(dots, document.createTextNode(TEXT["labels.typing"]));
      }
      this.typingTimer = setTimeout(() => this.setTyping(false), hideAfterMs);
    } else {
      this.typing.replaceChildren();
    }
  }

  setError(text) {
    this.tooLongShown = false;
    if (this.error.textContent !== text) this.error.textContent = text;
  }

  announce(text) {
    this.status.textContent = text;
  }

  updateCounter() {
    const length = this.input.value.trim().length;
    const over = length > MAX_CHARS;
    this.counter.classList.toggle("over", over);
    this.input.setAttribute("aria-invalid", over ? "true" : "false");
    this.counter.textContent =
      length > MAX_CHARS * 0.9 ? fill(TEXT["notes.counter"], { count: count(length), limit: count(MAX_CHARS) }) : "";
    if (!over && this.tooLongShown) this.setError("");
  }
}

function start(tag) {
  if (document.getElementById(HOST_ID)) return; // the tag was pasted twice
  const lang = pageLanguage(tag);
  TEXT = textsIn(TEXTS, lang);
  const widget = new ChatWidget(readConfig(tag, lang));
  // A small API for a portal's own "Chat with us" links.
  window.ClinicChat = {
    open: () => widget.open(),
    close: () => widget.close(),
    startOver: () => widget.startOver(),
  };
}

// document.currentScript only exists while this file first runs: look it up now.
const tag = findScript();
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => start(tag));
} else {
  start(tag);
}
