// Turns a bot message into safe pieces: plain text, links and bold text.
// The widget builds DOM nodes from these pieces with textContent, so nothing the
// server sends is ever parsed as HTML. Also picks the language of the widget's own texts
// (the page's) and fills them.

const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:"]);

// [label](url) | bare http(s) URL | **bold**
const PATTERN =
  /\[([^\]\n]{1,200})\]\(([^()\s]{1,2000})\)|(https?:\/\/[^\s<>"']+)|\*\*([^*\n]{1,500})\*\*/g;
const TRAILING_PUNCTUATION = /[.,;:!?)\]]+$/;

/**
 * The URL if it is safe to put in an href (http, https, mailto, tel), else null.
 * `javascript:` and `data:` links from a compromised response never become links.
 * @param {string} url
 * @returns {string | null}
 */
export function safeHref(url) {
  try {
    const parsed = new URL(url);
    return SAFE_SCHEMES.has(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/**
 * @typedef {{type: "text", text: string} | {type: "strong", text: string} |
 *           {type: "link", text: string, href: string}} Token
 */

/**
 * Split text into tokens; adjacent plain text is merged.
 * @param {string} text
 * @returns {Token[]}
 */
export function tokenize(text) {
  /** @type {Token[]} */
  const tokens = [];
  const pushText = (value) => {
    if (!value) return;
    const last = tokens[tokens.length - 1];
    if (last && last.type === "text") last.text += value;
    else tokens.push({ type: "text", text: value });
  };
  let position = 0;
  for (const match of String(text).matchAll(PATTERN)) {
    pushText(text.slice(position, match.index));
    position = match.index + match[0].length;
    const [whole, label, target, bare, bold] = match;
    if (label !== undefined) {
      const href = safeHref(target);
      if (href) tokens.push({ type: "link", text: label, href });
      else pushText(whole);
    } else if (bare !== undefined) {
      const trailing = (bare.match(TRAILING_PUNCTUATION) || [""])[0];
      const url = bare.slice(0, bare.length - trailing.length);
      const href = safeHref(url);
      if (href) tokens.push({ type: "link", text: url, href });
      else pushText(url);
      pushText(trailing);
    } else {
      tokens.push({ type: "strong", text: bold });
    }
  }
  pushText(String(text).slice(position));
  return tokens;
}

/**
 * One of the widget's texts (content/widget.yml) with its `{name}` placeholders filled.
 * A placeholder without a value stays as written, so a typo shows instead of vanishing.
 * @param {string} text
 * @param {Record<string, string | number>} values
 * @returns {string}
 */
export function fill(text, values) {
  return String(text).replace(/\{([a-z_]+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole
  );
}

/**
 * The language code a page asks for ("es-MX" and "ES" read "es"), if the widget has texts in it.
 * @param {Record<string, unknown>} bundle the texts of every language, by code (`{en: {...}, es: {...}}`)
 * @param {unknown} value a `lang` as a page writes it
 * @returns {string | null}
 */
export function supportedLanguage(bundle, value) {
  const code = String(value || "").trim().toLowerCase().replace(/_/g, "-").split("-")[0];
  return code && Object.prototype.hasOwnProperty.call(bundle, code) ? code : null;
}

/**
 * The language the widget speaks: the first of `requested` it has texts in (the script tag's
 * data-lang, then the page's <html lang>), else English, the clinic's own content.
 * @param {Record<string, unknown>} bundle
 * @param {...unknown} requested
 * @returns {string}
 */
export function pickLanguage(bundle, ...requested) {
  for (const value of requested) {
    const code = supportedLanguage(bundle, value);
    if (code) return code;
  }
  return "en";
}

/**
 * The widget's texts in `language`, each text English where a language lacks it.
 * The server checks every translation has every text, so the fallback only guards a stale build.
 * @param {Record<string, Record<string, string>>} bundle
 * @param {string} language
 * @returns {Record<string, string>}
 */
export function textsIn(bundle, language) {
  return { ...(bundle.en || {}), ...(bundle[language] || {}) };
}
