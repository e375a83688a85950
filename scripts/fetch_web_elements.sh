#!/usr/bin/env bash
# Fetch Nylas's <nylas-scheduling> web component (npm @nylas/web-elements, MIT) into a git-ignored
# cache for the browser tests and the emulator's booking page:
#   .cache/web-elements/<version>/nylas-scheduling.es.js   (the self-contained CDN bundle)
# `npm pack` only downloads the tarball (a plain `npm install` fails on unpublished dependency
# versions).  Idempotent; prints the directory.  Usage: scripts/fetch_web_elements.sh [version]
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-2.6.0}"
DEST=".cache/web-elements/${VERSION}"
FILE="nylas-scheduling.es.js"
if [ -s "${DEST}/${FILE}" ]; then
  echo "${DEST}"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is required to fetch @nylas/web-elements" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT
(cd "${TMP}" && npm pack --silent "@nylas/web-elements@${VERSION}" >/dev/null)
tar -xzf "${TMP}"/nylas-web-elements-*.tgz -C "${TMP}" \
  "package/dist/cdn/nylas-scheduling/${FILE}" package/LICENSE package/package.json
mkdir -p "${DEST}"
cp "${TMP}/package/dist/cdn/nylas-scheduling/${FILE}" "${TMP}/package/LICENSE" \
  "${TMP}/package/package.json" "${DEST}/"
echo "${DEST}"
