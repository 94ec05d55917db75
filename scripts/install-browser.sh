#!/usr/bin/env bash
# Install what the browser tests need: axe-core from npm, and the system Chromium they drive (Debian's `chromium`
# package). Playwright's own browser download cannot be used here, so the tests
# launch /usr/bin/chromium. Idempotent: does nothing when it is already there.
set -euo pipefail

# axe-core, which the console's browser tests inject to check WCAG 2.1 AA (pinned in its package-lock.json).
if [ ! -f tests/browser/axe/node_modules/axe-core/axe.min.js ]; then
    npm ci --prefix tests/browser/axe --no-audit --no-fund --silent
fi

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
