#!/usr/bin/env bash
# Build a guest from Debian's stock i386 kernel (linux-image-686) and a busybox
# initramfs that loads the virtio modules, for booting in typevisor.
#
#   bash guest/debian/build-initramfs.sh
#
# Downloads (apt-get download, nothing is installed on the host) into the cache
# directory, never into the repository:
#   $CACHE/vmlinuz                 Debian's kernel, as shipped
#   $CACHE/initramfs.cpio.gz       busybox + guest/debian/init + the virtio modules
#   $CACHE/KERNEL_VERSION          the kernel release (uname -r) used
# and prints the kernel release on its last line of standard output.
#
# Exit status: 0 built; 75 the guest cannot be had on this machine right now (the
# archive is unreachable, a host package or the i386 architecture is missing and
# we are not root to add it, or the cache is not writable), with the reason on the
# last line of standard error ("UNAVAILABLE [build-initramfs]: ..."), which the
# boot test turns into a skip; anything else is a bug in this script or the
# package layout.
#
# Environment:
#   TYPEVISOR_DEBIAN_CACHE  cache directory (default /tmp/typevisor-debian)
#   DEBIAN_KERNEL_PKG       kernel package (default: what linux-image-686:i386 depends on)
#   SKIP_APT_UPDATE=1       do not run apt-get update (the i386 indexes must be there)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${TYPEVISOR_DEBIAN_CACHE:-/tmp/typevisor-debian}"
# The modules /init loads (their dependencies come along through modules.dep).
MODULES=(virtio virtio_ring virtio_mmio virtio_blk virtio_net virtio_console virtio-rng)
# apt gives up on a silent mirror after this many seconds (its default is 120, with retries).
APT_NET=(-o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=1)
EX_UNAVAILABLE=75

log() { printf '==> [build-initramfs] %s\n' "$*" >&2; }
die() { printf 'ERROR [build-initramfs]: %s\n' "$*" >&2; exit 1; }
unavailable() { printf 'UNAVAILABLE [build-initramfs]: %s\n' "$*" >&2; exit "$EX_UNAVAILABLE"; }
is_root() { [[ "$(id -u)" == 0 ]]; }

case "$CACHE" in
  "$REPO"|"$REPO"/*) die "TYPEVISOR_DEBIAN_CACHE ($CACHE) must be outside the repository" ;;
esac

# ---------------------------------------------------------------- host tools
# Makes sure each tool is there (tool:package pairs); as root, installs the packages of missing ones.
require_tools() {
  local pair missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  ((${#missing[@]} == 0)) && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  command -v apt-get >/dev/null || unavailable "this is not a Debian-like host (no apt-get)"
  is_root || unavailable "missing host packages: ${missing[*]} (as root: apt-get install -y ${missing[*]})"
  log "installing host packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_NET[@]}" "${missing[@]}" >&2 \
    || { apt-get update -q "${APT_NET[@]}" >&2 || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_NET[@]}" "${missing[@]}" >&2; } \
    || unavailable "could not install the host packages ${missing[*]} (is the Debian archive reachable?)"
}
require_tools apt-get:apt apt-cache:apt dpkg:dpkg dpkg-deb:dpkg cpio:cpio gzip:gzip find:findutils \
  strings:binutils flock:util-linux

{ mkdir -p "$CACHE/debs" && [[ -w "$CACHE" && -w "$CACHE/debs" ]]; } 2>/dev/null \
  || unavailable "the cache directory $CACHE is not writable by $(id -un) (point TYPEVISOR_DEBIAN_CACHE at a directory of yours)"
# One build at a time per cache (two test runs at once would extract into the same tree).
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------- download
UPDATED=0
apt_update() {
  is_root || unavailable "the i386 package index is missing or stale and only root can run apt-get update"
  log "apt-get update"
  # A mirror mid-sync makes update exit non-zero although the indexes we need are fine.
  apt-get update -q "${APT_NET[@]}" >&2 || log "warning: apt-get update reported errors; continuing with the indexes it has"
  UPDATED=1
}

if ! dpkg --print-foreign-architectures | grep -qx i386; then
  is_root || unavailable "the i386 architecture is not enabled in dpkg (as root: dpkg --add-architecture i386 && apt-get update)"
  log "enabling the i386 architecture in dpkg"
  dpkg --add-architecture i386
  apt_update
elif [[ "${SKIP_APT_UPDATE:-0}" != 1 ]] && ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
  apt_update
fi

# package -> its candidate version in the apt indexes, or nothing
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -vx '(none)' || true; }
# package version -> the cached .deb of that version, or nothing
cached_deb() {
  local name="${1%:*}" f
  find "$CACHE/debs" -maxdepth 1 -name "${name}_*.deb" | while read -r f; do
    [[ "$(dpkg-deb -f "$f" Version)" == "$2" ]] && echo "$f"; done | head -n1
}
# Resolves the kernel package and downloads both .debs (once per version). Sets KDEB and BDEB;
# returns 1 when the index has no answer or a download fails (a stale index names versions the
# archive has dropped; an unreachable archive fails too).
resolve_and_fetch() {
  local pkg ver deb output
  KPKG="${DEBIAN_KERNEL_PKG:-$(apt-cache depends linux-image-686:i386 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)}"
  if [[ -z "$KPKG" ]]; then FAILURE="the apt indexes have no linux-image-686:i386"; return 1; fi
  KPKG="${KPKG%:i386}:i386"
  for pkg in "$KPKG" busybox-static:i386; do
    ver="$(candidate "$pkg")"
    if [[ -z "$ver" ]]; then FAILURE="the apt indexes have no candidate version of $pkg"; return 1; fi
    deb="$(cached_deb "$pkg" "$ver")"
    if [[ -z "$deb" ]]; then
      log "downloading $pkg $ver"
      # _apt cannot write to a root-owned cache directory; apt then downloads as root (a warning only).
      if ! output="$(cd "$CACHE/debs" && apt-get download -q "${APT_NET[@]}" "$pkg=$ver" 2>&1)"; then
        printf '%s\n' "$output" >&2
        FAILURE="apt-get download $pkg=$ver failed: $(grep '^E:' <<<"$output" | tail -n1 || true)"; return 1
      fi
      printf '%s\n' "$output" >&2
      deb="$(cached_deb "$pkg" "$ver")"
      [[ -n "$deb" ]] || die "apt-get download $pkg did not leave a .deb of version $ver in $CACHE/debs"
    else
      log "cached: $(basename "$deb")"
    fi
    if [[ "$pkg" == "$KPKG" ]]; then KDEB="$deb"; else BDEB="$deb"; fi
  done
}
FAILURE=""
if ! resolve_and_fetch; then
  # Once more with fresh indexes, unless they are fresh already or must not be touched.
  if [[ "$UPDATED" == 1 || "${SKIP_APT_UPDATE:-0}" == 1 ]] || ! is_root; then unavailable "$FAILURE"; fi
  log "$FAILURE; refreshing the indexes and trying again"
  apt_update
  resolve_and_fetch || unavailable "$FAILURE"
fi

# ---------------------------------------------------------------- extract
EXTRACT="$CACHE/extract"
rm -rf "$EXTRACT" && mkdir -p "$EXTRACT"
dpkg-deb -x "$KDEB" "$EXTRACT"
dpkg-deb -x "$BDEB" "$EXTRACT"
KVER="$(ls "$EXTRACT/lib/modules")"
[[ "$(wc -w <<<"$KVER")" == 1 ]] || die "expected one kernel release under lib/modules, got: $KVER"
[[ -f "$EXTRACT/boot/vmlinuz-$KVER" ]] || die "the kernel package has no boot/vmlinuz-$KVER"
[[ -x "$EXTRACT/bin/busybox" ]] || die "busybox-static has no bin/busybox"
KMODS="$EXTRACT/lib/modules/$KVER"

# ---------------------------------------------------------------- initramfs tree
ROOT="$CACHE/root"
rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,lib/modules/"$KVER"}
cp "$EXTRACT/bin/busybox" "$ROOT/bin/busybox"
install -m 0755 "$HERE/init" "$ROOT/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
echo 'root:x:0:' >"$ROOT/etc/group"

# Module name -> its path below lib/modules/$KVER (names use _ and - interchangeably).
module_path() {
  local name="$1" found
  found="$(cd "$KMODS" && find kernel \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" -o -name "$name.ko.gz" \
    -o -name "${name//_/-}.ko" -o -name "${name//_/-}.ko.xz" -o -name "${name//-/_}.ko" -o -name "${name//-/_}.ko.xz" \) | head -n1)"
  [[ -n "$found" ]] || die "module $name is not in $KVER"
  echo "$found"
}

# Copy a module uncompressed (busybox insmod reads plain ELF only), recurse into
# the modules its .modinfo "depends=" names, and write its modules.dep line.
declare -A COPIED=()
DEPLINES=()
add_module() {
  local src="$1" dst deps dep dpath line
  dst="${src%.xz}"; dst="${dst%.zst}"; dst="${dst%.gz}"
  [[ -n "${COPIED[$dst]:-}" ]] && return 0
  COPIED[$dst]=1
  mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$dst")"
  case "$src" in
    *.xz) require_tools xz:xz-utils; xz -dc "$KMODS/$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
    *.zst) require_tools zstd:zstd; zstd -qdc "$KMODS/$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
    *.gz) gzip -dc "$KMODS/$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
    *) cp "$KMODS/$src" "$ROOT/lib/modules/$KVER/$dst" ;;
  esac
  deps="$(strings -a "$ROOT/lib/modules/$KVER/$dst" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')"
  line="$dst:"
  for dep in $deps; do
    dpath="$(module_path "$dep")"
    add_module "$dpath"
    dpath="${dpath%.xz}"; dpath="${dpath%.zst}"; dpath="${dpath%.gz}"
    line="$line $dpath"
  done
  DEPLINES+=("$line")
}
LOAD=()
for m in "${MODULES[@]}"; do
  p="$(module_path "$m")"
  add_module "$p"
  p="${p%.xz}"; p="${p%.zst}"; p="${p%.gz}"
  LOAD+=("$p")
done
printf '%s\n' "${DEPLINES[@]}" >"$ROOT/lib/modules/$KVER/modules.dep"
printf '%s\n' "${LOAD[@]}" >"$ROOT/lib/modules/$KVER/modules.load"
log "modules: ${!COPIED[*]}"

# ---------------------------------------------------------------- outputs
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$CACHE/initramfs.cpio.gz.tmp"
mv "$CACHE/initramfs.cpio.gz.tmp" "$CACHE/initramfs.cpio.gz"
cp "$EXTRACT/boot/vmlinuz-$KVER" "$CACHE/vmlinuz"
echo "$KVER" >"$CACHE/KERNEL_VERSION"
log "kernel $KPKG ($(dpkg-deb -f "$KDEB" Version)) -> $CACHE/vmlinuz"
log "initramfs -> $CACHE/initramfs.cpio.gz ($(stat -c %s "$CACHE/initramfs.cpio.gz") bytes)"
echo "$KVER"
