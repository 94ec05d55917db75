#!/usr/bin/env bash
# Build the website widget into widget/dist/ with the npm registry's packages (lock file committed).
set -euo pipefail
cd "$(dirname "$0")/../widget"
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is not installed (it comes with Node.js; apt-get install nodejs npm)" >&2
  exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "==> installing the widget's npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
newest_source=$(find src build.mjs package-lock.json -newer dist/widget.js 2>/dev/null | head -1 || true)
if [ ! -f dist/widget.js ] || [ -n "$newest_source" ]; then
  echo "==> bundling the widget (widget/dist/widget.js)"
  npm run --silent build
fi
