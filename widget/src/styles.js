// The widget's stylesheet. It lives in a shadow root, so the clinic's page CSS
// cannot restyle it and it cannot restyle the page. Sizes are in px/em so the
// host page's root font size does not matter; browser zoom still scales them.

export const css = `
:host { all: initial; }
.ccw {
  --ccw-text: #1b2430;
  --ccw-muted: #4a5563;
  --ccw-surface: #ffffff;
  --ccw-bot: #eef1f4;
  --ccw-border: #8a94a1;
  --ccw-error: #a4262c;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px;
  line-height: 1.45;
  color: var(--ccw-text);
}
.ccw *, .ccw *::before, .ccw *::after { box-sizing: border-box; }
.sr {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button { font: inherit; cursor: pointer; }
button:focus-visible, textarea:focus-visible, a:focus-visible, .log:focus-visible {
  outline: 3px solid var(--ccw-text);
  outline-offset: 2px;
  box-shadow: 0 0 0 2px #ffffff;
}
.launcher {
  position: fixed; right: 16px; bottom: 16px; z-index: 2147483000;
  display: inline-flex; align-items: center; gap: 0.5em;
  min-height: 48px; padding: 0.6em 1.1em;
  border: 2px solid var(--ccw-on-primary); border-radius: 999px;
  background: var(--ccw-primary); color: var(--ccw-on-primary);
  font-weight: 600; box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
}
.launcher svg { width: 1.3em; height: 1.3em; flex: none; }
.panel {
  position: fixed; right: 16px; bottom: 80px; z-index: 2147483001;
  display: flex; flex-direction: column;
  width: min(390px, calc(100vw - 32px));
  height: min(620px, calc(100vh - 112px));
  background: var(--ccw-surface); color: var(--ccw-text);
  border: 1px solid var(--ccw-border); border-radius: 12px;
  box-shadow: 0 8px 30px rgba(0, 0, 0, 0.3); overflow: hidden;
}
.panel[hidden] { display: none; }
.head {
  display: flex; align-items: center; gap: 0.5em;
  padding: 0.6em 0.6em 0.6em 1em;
  background: var(--ccw-primary); color: var(--ccw-on-primary);
}
.titles { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 1.05em; font-weight: 700; line-height: 1.25; overflow-wrap: anywhere; }
.subtitle { margin: 0; font-size: 0.85em; }
.head button {
  min-height: 44px; min-width: 44px; padding: 0.3em 0.7em;
  border: 2px solid var(--ccw-on-primary); border-radius: 8px;
  background: transparent; color: var(--ccw-on-primary); font-size: 0.9em; font-weight: 600;
}
.head .close { font-size: 1.3em; line-height: 1; padding: 0.2em 0.5em; }
.notice {
  margin: 0; padding: 0.4em 1em; font-size: 0.85em;
  background: #fff4ce; color: #3d2e00; border-bottom: 1px solid #d9c27a;
}
.log {
  flex: 1; min-height: 0; overflow-y: auto; padding: 1em;
  display: flex; flex-direction: column; gap: 0.5em;
}
.msg { display: flex; flex-direction: column; max-width: 88%; }
.msg.bot { align-self: flex-start; }
.msg.user { align-self: flex-end; align-items: flex-end; }
.bubble {
  padding: 0.55em 0.85em; border-radius: 14px;
  white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid transparent;
}
.bot .bubble { background: var(--ccw-bot); color: var(--ccw-text); border-bottom-left-radius: 4px; }
.user .bubble { background: var(--ccw-primary); color: var(--ccw-on-primary); border-bottom-right-radius: 4px; }
.bot.notice .bubble { background: #fff4ce; color: #3d2e00; border-color: #b88a00; }
.bot .bubble a { color: var(--ccw-link); text-decoration: underline; }
.user .bubble a { color: var(--ccw-on-primary); text-decoration: underline; }
.replies { display: flex; flex-wrap: wrap; gap: 0.4em; margin-top: 0.45em; }
.reply {
  min-height: 44px; padding: 0.4em 0.9em; border-radius: 999px;
  border: 2px solid var(--ccw-link); background: var(--ccw-surface); color: var(--ccw-link);
  font-weight: 600; text-align: left;
}
.reply:hover { background: var(--ccw-link); color: #ffffff; }
.typing { min-height: 0; padding: 0 1em; color: var(--ccw-muted); font-size: 0.9em; }
.typing:not(:empty) { padding: 0.2em 1em 0.4em; }
.dots { display: inline-flex; gap: 4px; vertical-align: middle; margin-right: 0.4em; }
.dots span {
  width: 7px; height: 7px; border-radius: 50%; background: var(--ccw-muted);
  animation: ccw-blink 1.2s infinite ease-in-out;
}
.dots span:nth-child(2) { animation-delay: 0.2s; }
.dots span:nth-child(3) { animation-delay: 0.4s; }
@keyframes ccw-blink { 0%, 80%, 100% { opacity: 0.25; } 40% { opacity: 1; } }
.error { margin: 0; padding: 0 1em; color: var(--ccw-error); font-size: 0.9em; font-weight: 600; }
.error:not(:empty) { padding: 0.4em 1em; background: #fdecea; border-top: 1px solid #e6a5a8; }
.composer {
  display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.5em;
  padding: 0.6em; border-top: 1px solid var(--ccw-border);
}
.composer textarea {
  flex: 1 1 12em; min-height: 48px; max-height: 9em; resize: none;
  padding: 0.6em 0.7em; border: 2px solid var(--ccw-border); border-radius: 8px;
  font: inherit; font-size: 16px; color: var(--ccw-text); background: var(--ccw-surface);
}
.composer textarea::placeholder { color: #5b6571; opacity: 1; }
.composer textarea[aria-invalid="true"] { border-color: var(--ccw-error); }
.send {
  min-height: 48px; padding: 0.5em 1.1em; border: 2px solid var(--ccw-primary); border-radius: 8px;
  background: var(--ccw-primary); color: var(--ccw-on-primary); font-weight: 700;
}
.counter { flex-basis: 100%; margin: 0; font-size: 0.85em; color: var(--ccw-muted); }
.counter:empty { display: none; }
.counter.over { color: var(--ccw-error); font-weight: 600; }
@media (max-width: 480px), (max-height: 520px) {
  .panel {
    inset: 0; width: 100%; height: 100%; max-height: 100dvh;
    border-radius: 0; border: 0;
  }
  .ccw.open .launcher { display: none; }
  .msg { max-width: 94%; }
}
@media (prefers-reduced-motion: reduce) {
  .dots span { animation: none; opacity: 0.7; }
}
@media (forced-colors: active) {
  .bubble, .reply, .launcher, .send { border: 1px solid CanvasText; }
}
`;
