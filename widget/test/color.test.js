// Whatever colour a clinic passes, what the widget paints meets WCAG AA (4.5:1).
import assert from "node:assert/strict";
import { test } from "node:test";
import { DARK_BUBBLE, contrast, parseHex, themeColors } from "../src/color.js";

test("contrast ratios match WCAG's reference values", () => {
  assert.equal(Math.round(contrast("#000000", "#ffffff") * 10) / 10, 21);
  assert.equal(contrast("#777777", "#777777"), 1);
  assert.ok(Math.abs(contrast("#767676", "#ffffff") - 4.54) < 0.01);
});

test("hex colours parse in short and long form", () => {
  assert.deepEqual(parseHex("#fff"), [255, 255, 255]);
  assert.deepEqual(parseHex("1f5f8b"), [31, 95, 139]);
  assert.equal(parseHex("red"), null);
});

for (const brand of ["#1f5f8b", "#ffd700", "#7fb3d5", "#00a86b", "#ff0000", "#ffffff", "#000000", "nonsense"]) {
  test(`theme from ${brand} meets AA`, () => {
    const colors = themeColors(brand);
    assert.ok(contrast(colors.primary, colors.onPrimary) >= 4.5, "text on the brand colour");
    assert.ok(contrast(colors.link, "#ffffff") >= 4.5, "links and reply buttons on white");
    assert.ok(contrast(colors.link, "#eef1f4") >= 4.5, "links in bot bubbles");
    assert.ok(contrast(colors.linkDark, DARK_BUBBLE) >= 4.5, "links in bot bubbles, dark theme");
    assert.ok(contrast(colors.linkDark, "#16191d") >= 4.5, "reply buttons on the dark surface");
  });
}

test("a dark enough brand colour is kept as it is", () => {
  assert.equal(themeColors("#1f5f8b").primary, "#1f5f8b");
  assert.equal(themeColors("#1f5f8b").adjusted, false);
});
