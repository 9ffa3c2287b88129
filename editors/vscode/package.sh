#!/usr/bin/env bash
# Package the extension as green-lint-<version>.vsix (needs node >= 20 and npm).
# Install it with: code --install-extension green-lint-*.vsix
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund
# No repository field and no LICENSE file in this folder: say so instead of being asked.
npx @vscode/vsce package --allow-missing-repository --skip-license
