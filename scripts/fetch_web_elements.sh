#!/usr/bin/env bash
# Fetch Nylas's web components (npm @nylas/web-elements, MIT) into a git-ignored cache for the
# browser tests, the emulator's booking page and its Scheduler Editor page:
#   .cache/web-elements/<version>/nylas-scheduling.es.js         (<nylas-scheduling>, CDN bundle)
#   .cache/web-elements/<version>/nylas-scheduler-editor.es.js   (<nylas-scheduler-editor>)
# `npm pack` only downloads the tarball (a plain `npm install` fails on unpublished dependency
# versions).  Idempotent; prints the directory.  Usage: scripts/fetch_web_elements.sh [version]
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-2.6.0}"
DEST=".cache/web-elements/${VERSION}"
FILES=("nylas-scheduling/nylas-scheduling.es.js" "nylas-scheduler-editor/nylas-scheduler-editor.es.js")
missing=0
for f in "${FILES[@]}"; do
  [ -s "${DEST}/$(basename "${f}")" ] || missing=1
done
if [ "${missing}" = 0 ]; then
  echo "${DEST}"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is required to fetch @nylas/web-elements" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT
(cd "${TMP}" && npm pack --silent "@nylas/web-elements@${VERSION}" >/dev/null)
paths=()
for f in "${FILES[@]}"; do paths+=("package/dist/cdn/${f}"); done
tar -xzf "${TMP}"/nylas-web-elements-*.tgz -C "${TMP}" "${paths[@]}" package/LICENSE package/package.json
mkdir -p "${DEST}"
cp "${paths[@]/#/${TMP}/}" "${TMP}/package/LICENSE" "${TMP}/package/package.json" "${DEST}/"
echo "${DEST}"
