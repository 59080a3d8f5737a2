#!/usr/bin/env bash
# Smoke test of the compiled executables, as a user would run them: --version of both, then a
# server/client exchange over the default socket directory (a named pipe on Windows).
# Usage: bash scripts/smoke_binaries.sh [DIST_DIR] [VERSION]
#   DIST_DIR  where duct-server-TARGET and duct-client-TARGET are (default: dist)
#   VERSION   what --version must print (default: the version in deno.json; a release passes
#             its tag without the v)
# The files tested are those of this machine's target (from uname; Deno is not needed). With
# DUCT_TARGET set (a release's verify job), the machine must be that target.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,9s/^# \{0,1\}//p' "$0"
  exit 0
fi

dist=${1:-dist}
root=$(cd "$(dirname "$0")/.." && pwd)
version=${2:-$(sed -nE 's/^ *"version": *"([^"]+)".*/\1/p' "$root/deno.json")}

host_target() {
  case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) echo x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-gnu ;;
  Darwin-x86_64) echo x86_64-apple-darwin ;;
  Darwin-arm64) echo aarch64-apple-darwin ;;
  MINGW*-x86_64 | MSYS*-x86_64 | CYGWIN*-x86_64) echo x86_64-pc-windows-msvc ;;
  *) echo "smoke: FAIL: duct ships no executable for $(uname -s) $(uname -m)" >&2; exit 1 ;;
  esac
}
target=$(host_target)
if [ -n "${DUCT_TARGET:-}" ] && [ "$DUCT_TARGET" != "$target" ]; then
  echo "smoke: FAIL: this machine runs $target, not DUCT_TARGET=$DUCT_TARGET" >&2
  exit 1
fi
ext=""
case "$target" in *windows*) ext=".exe" ;; esac
server="$dist/duct-server-$target$ext"
client="$dist/duct-client-$target$ext"
log=""

# A failure shows the server's own output: the reason is usually there.
fail() {
  echo "smoke: FAIL ($target): $*" >&2
  if [ -n "$log" ] && [ -f "$log" ]; then
    echo "smoke: --- server log ---" >&2
    cat "$log" >&2
    echo "smoke: --- end of server log ---" >&2
  fi
  exit 1
}
# Windows consoles may end lines with \r; compare text only.
clean() { tr -d '\r'; }

for program in "$server" "$client"; do
  [ -f "$program" ] || fail "$program does not exist"
done
[ "$("$server" --version | clean)" = "duct-server $version" ] || fail "duct-server --version"
[ "$("$client" --version | clean)" = "duct-client $version" ] || fail "duct-client --version"
echo "smoke: both binaries report version $version"

name="smoke-$$-$RANDOM"
log=$(mktemp)
"$server" --name "$name" --json >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT

replies=$("$client" --name "$name" --timeout 15 hello "from the binary" | clean) ||
  fail "the client exited $? (replies: $replies)"
echo "$replies"
[ "$(grep -c '^Message received successfully$' <<<"$replies")" = 2 ] || fail "two acks expected"

# --ping answers for the live server; --list runs (it lists this user's endpoints by plain name).
"$client" --name "$name" --ping --timeout 15 | clean | grep -q "a server answered on $name" ||
  fail "--ping found no server on $name"
"$client" --list >/dev/null || fail "--list exited $?"

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
