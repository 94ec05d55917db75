// What the widget turns bot text into: only text, safe links and bold, never HTML.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fill, safeHref, tokenize } from "../src/text.js";

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
