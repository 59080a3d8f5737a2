#!/usr/bin/env bash
# Runs duct's test suite with the Windows build of Deno under Wine 10 (Linux, root).
#
#   bash scripts/test_wine.sh                 # the whole tests/ directory
#   bash scripts/test_wine.sh [--filter=TEXT …] tests/windows_test.ts   # options as --name=value
#   bash scripts/test_wine.sh --exec run -A scratch.ts   # any deno.exe command line
#
# The Wine root comes from scripts/wine_env.sh (built once, then cached). Everything runs in a
# private mount namespace, so nothing stays mounted even if the run is killed. The C test peers in
# tests/peers/ are built here with mingw. Exits with deno's status.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,10s/^# \{0,1\}//p' "$0"
  exit 0
fi

here=$(cd "$(dirname "$0")/.." && pwd)
# deno.exe resolves deno.json's jsr: imports as deno does: from JSR_URL (the local copy in
# ../shared/jsr where jsr.io cannot be reached), else jsr.io.
if [[ -z ${JSR_URL:-} && -f $here/../shared/jsr/activate.sh ]]; then
  source "$here/../shared/jsr/activate.sh"
fi
version=$(tr -d '[:space:]' < "$here/.dvmrc")
say() { printf 'test-wine: %s\n' "$*" >&2; }

root=$(bash "$here/scripts/wine_env.sh")
[[ -x $root/usr/lib/wine/wine64 ]] || { say "no Wine root at '$root'"; exit 1; }

# The C peers: classic Win32 programs using a message-mode duplex pipe and NUL-terminated strings.
for source in "$here"/tests/peers/*.c; do
  [[ -e $source ]] || continue
  exe=${source%.c}.exe
  if [[ ! -f $exe || $source -nt $exe ]]; then
    say "building $(basename "$exe")"
    x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -o "$exe" "$source"
  fi
done

# The repository appears at the same path inside the root, so Z:<path> names it under Wine.
mount_point=$here
mkdir -p "$root$mount_point" "$root/opt/deno-dir" "$root/tmp"
win_path() { printf 'Z:%s' "${1//\//\\}"; }

if [[ ${1:-} == --exec ]]; then
  shift
  args=("$@")
  prime=""
else
  targets=()
  extra=()
  for arg in "$@"; do
    if [[ $arg == -* ]]; then extra+=("$arg"); else targets+=("$(win_path "$mount_point/$arg")"); fi
  done
  ((${#targets[@]})) || targets=("$(win_path "$mount_point/tests")")
  args=(test -A "${extra[@]}" "${targets[@]}")
  # The programs the tests start load jsr: modules a test file alone may not: cached first, so
  # that no child prints Deno's "Download …" lines into the stderr a test checks.
  prime="server.ts client.ts"
fi

limit=${DUCT_WINE_TIMEOUT:-1500}
say "deno.exe ${args[*]}"
started=$(date +%s)
status=0
# The inner shell sees its arguments as "$@": ROOT, MOUNT_POINT, PROJECT, VERSION, PRIME (files to
# cache first, or empty), DENO ARGS...
timeout --kill-after=30 "$limit" unshare --mount --propagation private -- sh -c '
  root=$1 mount_point=$2 project=$3 version=$4
  shift 4
  # A private /tmp per run: it holds the wineserver socket (/tmp/.wine-UID), so this run starts
  # its own wineserver instead of joining one left by another run, whose mount namespace (and so
  # whose view of the repository) is not ours: Wine opens files through the wineserver.
  mount --bind /proc "$root/proc" &&
    mount --bind /dev "$root/dev" &&
    mount -t tmpfs -o mode=1777 duct-wine-tmp "$root/tmp" &&
    mkdir -p "$root$mount_point" &&
    mount --bind "$project" "$root$mount_point" || exit 70
  exec chroot "$root" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 NO_COLOR=1 \
    WINEPREFIX=/opt/wineprefix WINEDEBUG=-all DENO_DIR="Z:\\opt\\deno-dir" \
    DENO_NO_UPDATE_CHECK=1 ${JSR_URL:+"JSR_URL=$JSR_URL"} \
    sh -c "cd \"\$0\" && v=\$1 && p=\$2 && shift 2 && deno=\"/opt/deno-\$v/deno.exe\" &&
      { [ -z \"\$p\" ] || /usr/lib/wine/wine64 \"\$deno\" cache --quiet \$p; } &&
      exec /usr/lib/wine/wine64 \"\$deno\" \"\$@\"" \
    "$mount_point" "$version" "$@"
' sh "$root" "$mount_point" "$here" "$version" "$prime" "${args[@]}" || status=$?
((status == 124)) && say "killed: still running after $limit s (DUCT_WINE_TIMEOUT)"
say "finished with status $status in $(($(date +%s) - started)) s"
exit "$status"
