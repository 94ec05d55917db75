// Colour maths for WCAG AA: whatever brand colour a clinic passes, the widget
// adjusts it until text on it (and it as text on white) reaches 4.5:1.

export const AA = 4.5;
const DARK_TEXT = "#1b2430";
const LIGHT_TEXT = "#ffffff";

/**
 * @param {string} value "#rgb" or "#rrggbb"
 * @returns {[number, number, number] | null}
 */
export function parseHex(value) {
  const match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
  if (!match) return null;
  let hex = match[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** @param {[number, number, number]} rgb */
export function toHex(rgb) {
  return "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

/** Relative luminance (WCAG 2.x). @param {[number, number, number]} rgb */
export function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Contrast ratio of two hex colours, 1 to 21. */
export function contrast(a, b) {
  const la = luminance(parseHex(a));
  const lb = luminance(parseHex(b));
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * Darken `color` step by step until it reaches `ratio` against `against`.
 * @param {string} color
 * @param {string} against
 * @param {number} [ratio]
 */
export function darkenUntil(color, against, ratio = AA) {
  let rgb = parseHex(color);
  for (let step = 0; step < 100 && contrast(toHex(rgb), against) < ratio; step += 1) {
    rgb = rgb.map((c) => c * 0.94);
  }
  return toHex(rgb);
}

/**
 * Lighten `color` step by step (towards white) until it reaches `ratio` against `against`.
 * @param {string} color
 * @param {string} against
 * @param {number} [ratio]
 */
export function lightenUntil(color, against, ratio = AA) {
  let rgb = parseHex(color);
  for (let step = 0; step < 100 && contrast(toHex(rgb), against) < ratio; step += 1) {
    rgb = rgb.map((c) => c + (255 - c) * 0.06);
  }
  return toHex(rgb);
}

// The dark theme's bot bubble (styles.js), the lightest surface links sit on there.
export const DARK_BUBBLE = "#262b31";

/**
 * The colours the widget paints with, all meeting AA.
 * @param {string} primary the clinic's brand colour
 * @returns {{primary: string, onPrimary: string, link: string, linkDark: string, adjusted: boolean}}
 */
export function themeColors(primary) {
  const base = parseHex(primary) ? toHex(parseHex(primary)) : "#1f5f8b";
  const light = contrast(base, LIGHT_TEXT);
  const dark = contrast(base, DARK_TEXT);
  let fill = base;
  let onPrimary = light >= dark ? LIGHT_TEXT : DARK_TEXT;
  if (Math.max(light, dark) < AA) {
    fill = darkenUntil(base, LIGHT_TEXT);
    onPrimary = LIGHT_TEXT;
  }
  // Links and outlined buttons use the brand colour as text on light surfaces.
  const link = darkenUntil(base, "#eef1f4");
  // ... and as light text on the dark theme's surfaces.
  const linkDark = lightenUntil(base, DARK_BUBBLE);
  return { primary: fill, onPrimary, link, linkDark, adjusted: fill !== base };
}
