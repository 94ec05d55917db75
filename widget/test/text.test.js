// What the widget turns bot text into: only text, safe links and bold, never HTML.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fill, pickLanguage, safeHref, supportedLanguage, textsIn, tokenize } from "../src/text.js";

test("plain text stays one text token, HTML included", () => {
  assert.deepEqual(tokenize('<img src=x onerror="alert(1)"> hi'), [
    { type: "text", text: '<img src=x onerror="alert(1)"> hi' },
  ]);
});

test("bare URLs become links without trailing punctuation", () => {
  assert.deepEqual(tokenize("See https://clinic.example/faq."), [
    { type: "text", text: "See " },
    { type: "link", text: "https://clinic.example/faq", href: "https://clinic.example/faq" },
    { type: "text", text: "." },
  ]);
});

test("markdown links keep their label", () => {
  assert.deepEqual(tokenize("Read [the guide](https://clinic.example/guide) first"), [
    { type: "text", text: "Read " },
    { type: "link", text: "the guide", href: "https://clinic.example/guide" },
    { type: "text", text: " first" },
  ]);
});

test("tel and mailto links are allowed", () => {
  assert.equal(tokenize("[Call us](tel:+15550100199)")[0].href, "tel:+15550100199");
  assert.equal(tokenize("[Email](mailto:care@clinic.example)")[0].href, "mailto:care@clinic.example");
});

test("dangerous schemes never become links", () => {
  for (const text of ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "javascript:alert(1)"]) {
    assert.ok(tokenize(text).every((token) => token.type !== "link"), text);
  }
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("vbscript:msgbox"), null);
  assert.equal(safeHref("not a url"), null);
});

test("bold text becomes a strong token", () => {
  assert.deepEqual(tokenize("Do **not** eat"), [
    { type: "text", text: "Do " },
    { type: "strong", text: "not" },
    { type: "text", text: " eat" },
  ]);
});

test("the widget's texts get their values, and an unknown placeholder stays", () => {
  assert.equal(fill("{count} of {limit} characters", { count: "2,001", limit: "2,000" }), "2,001 of 2,000 characters");
  assert.equal(fill("attempt {attempt}", { attempt: 3 }), "attempt 3");
  assert.equal(fill("{nope} and {constructor}", {}), "{nope} and {constructor}");
});

// The widget speaks the page's language when it has its texts (content/es/widget.yml), else English.
const BUNDLE = {
  en: { "labels.launcher": "Questions? Chat with us", "labels.send": "Send" },
  es: { "labels.launcher": "¿Tiene preguntas? Escríbanos", "labels.send": "Enviar" },
};

test("a page's language code reads as the widget's, region and case aside", () => {
  assert.equal(supportedLanguage(BUNDLE, "es"), "es");
  assert.equal(supportedLanguage(BUNDLE, "es-MX"), "es");
  assert.equal(supportedLanguage(BUNDLE, " ES_us "), "es");
  assert.equal(supportedLanguage(BUNDLE, "EN-GB"), "en");
  for (const value of ["fr", "", null, undefined, "e", "constructor", "__proto__"]) {
    assert.equal(supportedLanguage(BUNDLE, value), null, String(value));
  }
});

test("data-lang wins, then the page's <html lang>, then English", () => {
  assert.equal(pickLanguage(BUNDLE, "es", "en"), "es");
  assert.equal(pickLanguage(BUNDLE, undefined, "es-MX"), "es");
  assert.equal(pickLanguage(BUNDLE, "", "es"), "es");
  assert.equal(pickLanguage(BUNDLE, "fr", "es"), "es", "a language without texts is passed over");
  assert.equal(pickLanguage(BUNDLE, "fr", "de"), "en");
  assert.equal(pickLanguage(BUNDLE), "en");
});

test("the texts of the chosen language, English for one the bundle lacks", () => {
  assert.deepEqual(textsIn(BUNDLE, "es"), BUNDLE.es);
  assert.deepEqual(textsIn(BUNDLE, "en"), BUNDLE.en);
  assert.deepEqual(textsIn(BUNDLE, "fr"), BUNDLE.en);
  assert.deepEqual(textsIn({ en: BUNDLE.en, es: { "labels.send": "Enviar" } }, "es"), {
    "labels.launcher": "Questions? Chat with us",
    "labels.send": "Enviar",
  });
});
