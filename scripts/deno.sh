#!/bin/sh
# Runs the Deno version pinned in .dvmrc, installing it from npm into .tools/ on first use, so a
# machine with only Node/npm can run every task: `./scripts/deno.sh task server`. Resolves jsr:
# imports from ../shared/jsr where that exists (see below), else from jsr.io.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$top/.dvmrc")
deno="$top/.tools/node_modules/.bin/deno"
if [ ! -x "$deno" ] || [ "$("$deno" --version 2>/dev/null | head -n 1 | cut -d' ' -f2)" != "$version" ]; then
  echo "installing Deno $version from npm into .tools/ (first run only)" >&2
  npm install --silent --no-audit --no-fund --prefix "$top/.tools" "deno@$version" >&2
fi
# Where jsr.io cannot be reached (these machines), ../shared/jsr beside the checkout serves a local
# copy of the @std packages: use it unless JSR_URL already says where JSR is.
jsr="$top/../shared/jsr/activate.sh"
if [ -z "${JSR_URL:-}" ] && [ -f "$jsr" ]; then
  JSR_URL=$(bash -c '. "$1" && printf %s "$JSR_URL"' sh "$jsr") && export JSR_URL
fi
exec "$deno" "$@"
