#!/usr/bin/env bash
# Builds (or reuses) a Debian trixie chroot with Wine 10 and the Windows deno.exe at the .dvmrc
# version, and initialises its Wine prefix. Debian 12's Wine 8 cannot run Deno 2.x (it lacks
# bcryptprimitives.dll and MEM_RESERVE_PLACEHOLDER in VirtualAlloc2), hence trixie's Wine 10.
# Prints the root's path on stdout, progress lines on stderr. Root only.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,5s/^# \{0,1\}//p' "$0"
  exit 0
fi

here=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$here/.dvmrc")
cache=${DUCT_WINE_CACHE:-/var/cache/duct-wine}
root="$cache/trixie"
say() { printf 'wine-env: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  say "needs root (debootstrap, chroot, mount namespaces)"
  exit 1
fi

need_host=()
command -v debootstrap >/dev/null || need_host+=(debootstrap)
command -v x86_64-w64-mingw32-gcc >/dev/null || need_host+=(gcc-mingw-w64-x86-64)
command -v unshare >/dev/null || need_host+=(util-linux)
if ((${#need_host[@]})); then
  say "installing host packages: ${need_host[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_host[@]}" >&2
fi

# One builder at a time: parallel runs (or two checkouts) share the cache, and a second builder
# would delete the first one's half-built root.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [[ ! -x $root/usr/lib/wine/wine64 ]]; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [[ -z $mirror ]]; then
    mirror=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  fi
  [[ -n $mirror ]] || { say "no Debian mirror found in the apt configuration"; exit 1; }
  rm -rf "$root.tmp"
  say "debootstrap trixie from $mirror (first run only, a few minutes)"
  debootstrap --variant=minbase trixie "$root.tmp" "$mirror" >&2
  say "installing wine64 in the chroot"
  chroot "$root.tmp" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine64' >&2
  mv "$root.tmp" "$root"
fi

if [[ ! -f $root/opt/deno-$version/deno.exe ]]; then
  say "fetching @deno/win32-x64@$version"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@deno/win32-x64@$version" >/dev/null && tar -xzf ./*.tgz)
  mkdir -p "$root/opt/deno-$version"
  mv "$tmp/package/deno.exe" "$root/opt/deno-$version/deno.exe"
  rm -rf "$tmp"
fi
# Create the Wine prefix once, here, rather than racing in the first parallel test runs. Like the
# test runs, it happens in a private mount namespace so nothing stays mounted.
if [[ ! -f $root/opt/wineprefix/system.reg ]]; then
  say "initialising the Wine prefix"
  unshare --mount --propagation private -- sh -c '
    mount --bind /proc "$1/proc" && mount --bind /dev "$1/dev" || exit 70
    chroot "$1" env -i HOME=/root PATH=/usr/bin:/bin WINEPREFIX=/opt/wineprefix WINEDEBUG=-all \
      sh -c "/usr/lib/wine/wine64 wineboot --init && /usr/lib/wine/wineserver -w"
  ' sh "$root" >/dev/null 2>&1 || { say "cannot initialise the Wine prefix"; exit 1; }
fi
flock -u 9
echo "$root"
