// Bundles the widget and socket.io-client into one file the chat server serves
// at /widget/widget.js, so a clinic's page needs nothing from a CDN.
import { build } from "esbuild";

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
});
