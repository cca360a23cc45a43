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

log() { printf '==> [build-initramfs] %s\n' "$*" >&2; }
die() { printf 'ERROR [build-initramfs]: %s\n' "$*" >&2; exit 1; }

case "$CACHE" in
  "$REPO"|"$REPO"/*) die "TYPEVISOR_DEBIAN_CACHE ($CACHE) must be outside the repository" ;;
esac
for tool in apt-get apt-cache dpkg dpkg-deb cpio gzip find strings; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg cpio gzip findutils binutils)"
done

# ---------------------------------------------------------------- download
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  [[ "$(id -u)" == 0 ]] || die "the i386 architecture is not enabled: run 'dpkg --add-architecture i386 && apt-get update' as root"
  log "enabling the i386 architecture in dpkg"
  dpkg --add-architecture i386
  SKIP_APT_UPDATE=0
fi
if [[ "${SKIP_APT_UPDATE:-0}" != 1 ]] && ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
  log "apt-get update (no i386 package index yet)"
  # A mirror mid-sync makes update exit non-zero although the indexes we need are fine.
  apt-get update -q >&2 || log "warning: apt-get update reported errors; continuing with the indexes it has"
fi

KPKG="${DEBIAN_KERNEL_PKG:-$(apt-cache depends linux-image-686:i386 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)}"
[[ -n "$KPKG" ]] || die "cannot resolve linux-image-686:i386 to a kernel package (is the i386 index there? apt-get update)"
KPKG="${KPKG%:i386}:i386"
BPKG="busybox-static:i386"

mkdir -p "$CACHE/debs"
fetch() { # package -> path of its .deb in the cache, downloaded once per version
  local pkg="$1" ver name deb
  ver="$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')"
  [[ -n "$ver" && "$ver" != "(none)" ]] || die "no candidate version of $pkg in the apt indexes"
  name="${pkg%:*}"
  deb="$(find "$CACHE/debs" -maxdepth 1 -name "${name}_*.deb" | while read -r f; do
    [[ "$(dpkg-deb -f "$f" Version)" == "$ver" ]] && echo "$f"; done | head -n1)"
  if [[ -z "$deb" ]]; then
    log "downloading $pkg $ver"
    # _apt cannot write to a root-owned cache directory; apt then downloads as root (a warning only).
    (cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed (is deb.debian.org reachable?)"
    deb="$(find "$CACHE/debs" -maxdepth 1 -name "${name}_*.deb" | while read -r f; do
      [[ "$(dpkg-deb -f "$f" Version)" == "$ver" ]] && echo "$f"; done | head -n1)"
    [[ -n "$deb" ]] || die "apt-get download $pkg did not leave a .deb in $CACHE/debs"
  else
    log "cached: $(basename "$deb")"
  fi
  echo "$deb"
}
KDEB="$(fetch "$KPKG")"
BDEB="$(fetch "$BPKG")"

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
    *.xz) xz -dc "$KMODS/$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
    *.zst) zstd -qdc "$KMODS/$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
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
