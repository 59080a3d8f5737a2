#!/usr/bin/env bash
# Smoke test of the compiled executables, as a user would run them: --version of both, then a
# server/client exchange over the default socket directory (a named pipe on Windows).
# Usage: bash scripts/smoke_binaries.sh [DIST_DIR]   (default: dist; needs deno for the target name)
set -euo pipefail

dist=${1:-dist}
target=$(deno eval --quiet 'console.log(Deno.build.target)')
version=$(deno eval --quiet 'console.log(JSON.parse(Deno.readTextFileSync("deno.json")).version)')
ext=""
case "$target" in *windows*) ext=".exe" ;; esac
server="$dist/duct-server-$target$ext"
client="$dist/duct-client-$target$ext"

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
# Windows consoles may end lines with \r; compare text only.
clean() { tr -d '\r'; }

[ "$("$server" --version | clean)" = "duct-server $version" ] || fail "duct-server --version"
[ "$("$client" --version | clean)" = "duct-client $version" ] || fail "duct-client --version"
echo "smoke: both binaries report version $version"

name="smoke-$$-$RANDOM"
log=$(mktemp)
"$server" --name "$name" --json >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT

replies=$("$client" --name "$name" --timeout 15 hello "from the binary" | clean)
echo "$replies"
[ "$(grep -c '^server: Message received successfully$' <<<"$replies")" = 2 ] || fail "two acks expected"

# No server on a fresh name: the client must give up with status 2.
status=0
"$client" --name "$name-absent" --timeout 0.2 never 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "client without a server exited $status, not 2"

kill "$server_pid"
status=0
wait "$server_pid" || status=$?
trap - EXIT
clean <"$log"
grep -q '"text":"hello"' "$log" || fail "the server did not print the message"
case "$target" in
*windows*) ;; # TerminateProcess: no graceful exit to check.
*) [ "$status" = 0 ] || fail "server exited $status after SIGTERM, not 0" ;;
esac
rm -f "$log"
echo "smoke: ok ($target)"
