#!/bin/sh
# Runs the Deno version pinned in .dvmrc, installing it from npm into .tools/ on first use, so a
# machine with only Node/npm can run every task: `./scripts/deno.sh task server`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$top/.dvmrc")
deno="$top/.tools/node_modules/.bin/deno"
if [ ! -x "$deno" ] || [ "$("$deno" --version 2>/dev/null | head -n 1 | cut -d' ' -f2)" != "$version" ]; then
  echo "installing Deno $version from npm into .tools/ (first run only)" >&2
  npm install --silent --no-audit --no-fund --prefix "$top/.tools" "deno@$version" >&2
fi
exec "$deno" "$@"
