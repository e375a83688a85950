#!/usr/bin/env bash
# Fetch Nylas's web components (npm @nylas/web-elements, MIT) into the git-ignored cache the
# browser tests, the emulator's booking page and its Scheduler Editor page use:
#   .cache/web-elements/<version>/nylas-scheduling.es.js         (<nylas-scheduling>)
#   .cache/web-elements/<version>/nylas-scheduler-editor.es.js   (<nylas-scheduler-editor>)
# A thin wrapper of `python -m scheduler_async fetch-web-elements` (no npm needed; the tarball's
# sha512 is checked against the registry's). Idempotent; prints the directory.
# Usage: scripts/fetch_web_elements.sh [version] [more options of the command]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "${PY}" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
args=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  args+=(--version "$1" --dest ".cache/web-elements/$1")
  shift
fi
exec env PYTHONPATH="${PWD}${PYTHONPATH:+:${PYTHONPATH}}" "${PY}" -m scheduler_async fetch-web-elements "${args[@]}" "$@"
