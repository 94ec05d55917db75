// The widget's stylesheet. It lives in a shadow root, so the clinic's page CSS
// cannot restyle it and it cannot restyle the page.
//
// Text follows the browser's text-size setting: the root size is the keyword
// `medium` (the size the patient chose, whatever the page sets on its <html>), and
// every other size is in em. Pixels are left for borders, offsets and the 44 px
// minimum of touch targets. Colours are custom properties, switched for a dark
// theme when the system asks for one (prefers-color-scheme); the link colours come
// from color.js, which keeps each at WCAG AA on its background.

export const css = `
:host { all: initial; }
.ccw {
  --ccw-text: #1b2430;
  --ccw-muted: #4a5563;
  --ccw-surface: #ffffff;
  --ccw-bot: #eef1f4;
  --ccw-border: #8a94a1;
  --ccw-placeholder: #5b6571;
  --ccw-error: #a4262c;
  --ccw-error-surface: #fdecea;
  --ccw-error-border: #e6a5a8;
  --ccw-notice-text: #3d2e00;
  --ccw-notice-surface: #fff4ce;
  --ccw-notice-border: #b88a00;
  --ccw-link: var(--ccw-link-light, #1f5f8b);
  color-scheme: light;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: medium;
  line-height: 1.45;
  color: var(--ccw-text);
}
@media (prefers-color-scheme: dark) {
  .ccw {
    --ccw-text: #e8ebef;
    --ccw-muted: #b7bfc9;
    --ccw-surface: #16191d;
    --ccw-bot: #262b31;
    --ccw-border: #7d8794;
    --ccw-placeholder: #a9b2bd;
    --ccw-error: #ffaaae;
    --ccw-error-surface: #3b1517;
    --ccw-error-border: #8c3a3e;
    --ccw-notice-text: #ffe7a3;
    --ccw-notice-surface: #362c00;
    --ccw-notice-border: #a88300;
    --ccw-link: var(--ccw-link-dark, #8cc4ea);
    color-scheme: dark;
  }
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
  box-shadow: 0 0 0 2px var(--ccw-surface);
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
  /* Above the launcher, whose height grows with the text. */
  position: fixed; right: 16px; bottom: calc(28px + 3em); z-index: 2147483001;
  display: flex; flex-direction: column;
  width: min(24.5em, calc(100vw - 32px));
  height: min(38.75em, calc(100vh - 60px - 3em));
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
.confirm {
  padding: 0.7em 1em; border-bottom: 1px solid var(--ccw-notice-border);
  background: var(--ccw-notice-surface); color: var(--ccw-notice-text);
}
.confirm[hidden] { display: none; }
.confirm p { margin: 0 0 0.5em; font-weight: 600; }
.confirm-buttons { display: flex; flex-wrap: wrap; gap: 0.5em; }
.confirm button {
  min-height: 44px; padding: 0.4em 0.9em; border-radius: 8px; font-weight: 600;
  border: 2px solid var(--ccw-text); background: var(--ccw-surface); color: var(--ccw-text);
}
.confirm .confirm-yes { background: var(--ccw-text); color: var(--ccw-surface); }
.notice {
  margin: 0; padding: 0.4em 1em; font-size: 0.85em;
  background: var(--ccw-notice-surface); color: var(--ccw-notice-text);
  border-bottom: 1px solid var(--ccw-notice-border);
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
.bot.notice .bubble {
  background: var(--ccw-notice-surface); color: var(--ccw-notice-text); border-color: var(--ccw-notice-border);
}
.bot .bubble a { color: var(--ccw-link); text-decoration: underline; }
.bot.notice .bubble a { color: var(--ccw-notice-text); }
.user .bubble a { color: var(--ccw-on-primary); text-decoration: underline; }
.replies { display: flex; flex-wrap: wrap; gap: 0.4em; margin-top: 0.45em; }
.reply {
  min-height: 44px; padding: 0.4em 0.9em; border-radius: 999px;
  border: 2px solid var(--ccw-link); background: var(--ccw-surface); color: var(--ccw-link);
  font-weight: 600; text-align: left;
}
.reply:hover { background: var(--ccw-link); color: var(--ccw-surface); }
.typing { min-height: 0; padding: 0 1em; color: var(--ccw-muted); font-size: 0.9em; }
.typing:not(:empty) { padding: 0.2em 1em 0.4em; }
.dots { display: inline-flex; gap: 0.25em; vertical-align: middle; margin-right: 0.4em; }
.dots span {
  width: 0.45em; height: 0.45em; border-radius: 50%; background: var(--ccw-muted);
  animation: ccw-blink 1.2s infinite ease-in-out;
}
.dots span:nth-child(2) { animation-delay: 0.2s; }
.dots span:nth-child(3) { animation-delay: 0.4s; }
@keyframes ccw-blink { 0%, 80%, 100% { opacity: 0.25; } 40% { opacity: 1; } }
.error { margin: 0; padding: 0 1em; color: var(--ccw-error); font-size: 0.9em; font-weight: 600; }
.error:not(:empty) {
  padding: 0.4em 1em; background: var(--ccw-error-surface); border-top: 1px solid var(--ccw-error-border);
}
.composer {
  display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.5em;
  padding: 0.6em; border-top: 1px solid var(--ccw-border);
}
.composer textarea {
  flex: 1 1 12em; min-height: 48px; max-height: 9em; resize: none;
  padding: 0.6em 0.7em; border: 2px solid var(--ccw-border); border-radius: 8px;
  font: inherit; font-size: 1em; color: var(--ccw-text); background: var(--ccw-surface);
}
.composer textarea::placeholder { color: var(--ccw-placeholder); opacity: 1; }
.composer textarea[aria-invalid="true"] { border-color: var(--ccw-error); }
.send {
  min-height: 48px; padding: 0.5em 1.1em; border: 2px solid var(--ccw-primary); border-radius: 8px;
  background: var(--ccw-primary); color: var(--ccw-on-primary); font-weight: 700;
}
.counter { flex-basis: 100%; margin: 0; font-size: 0.85em; color: var(--ccw-muted); }
.counter:empty { display: none; }
.counter.over { color: var(--ccw-error); font-weight: 600; }
/* em in a media query is the browser's own text size: larger text goes full screen sooner. */
@media (max-width: 30em), (max-height: 32.5em) {
  .panel {
    inset: auto 0 auto 0; top: var(--ccw-visible-top, 0);
    width: 100%; height: var(--ccw-visible-height, 100%); max-height: 100dvh;
    border-radius: 0; border: 0;
  }
  .ccw.open .launcher { display: none; }
  .msg { max-width: 94%; }
}
@media (prefers-reduced-motion: reduce) {
  .dots span { animation: none; opacity: 0.7; }
}
@media (forced-colors: active) {
  .bubble, .reply, .launcher, .send, .confirm button { border: 1px solid CanvasText; }
}
`;
