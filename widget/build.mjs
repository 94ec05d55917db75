// Bundles the widget and socket.io-client into one file the chat server serves
// at /widget/widget.js, so a clinic's page needs nothing from a CDN.
//
// The widget's own words come from content/widget.yml and its translations
// (content/es/widget.yml). scripts/build-widget.sh (`make widget`) checks them and
// writes them, every language by its code and the clinic's facts filled in, to
// build/widget/texts.json; they are built in here so the widget can show them in the
// page's language even when the chat server cannot be reached.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const textsFile = fileURLToPath(new URL("../build/widget/texts.json", import.meta.url));
let texts;
try {
  texts = readFileSync(textsFile, "utf8");
} catch {
  console.error(`error: ${textsFile} is missing: build the widget with scripts/build-widget.sh (make widget)`);
  process.exit(1);
}
if (!JSON.parse(texts).en) {
  console.error(`error: ${textsFile} has no English texts ("en"): build the widget with scripts/build-widget.sh`);
  process.exit(1);
}

await build({
  entryPoints: ["src/index.js"],
  outfile: "dist/widget.js",
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  legalComments: "eof",
  sourcemap: false,
  logLevel: "info",
  define: { __WIDGET_TEXTS__: JSON.stringify(JSON.parse(texts)) },
});
