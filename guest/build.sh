#!/usr/bin/env bash
# Build the typevisor default guest: an i386 Linux kernel (bzImage) and a
# busybox initramfs, both from Debian bookworm packages.
#
#   bash guest/build.sh
#
# Outputs (committed to the repository):
#   guest/images/bzImage             the kernel
#   guest/images/initramfs.cpio.gz   the initramfs (busybox + guest/init)
#   guest/images/VERSIONS.txt        package versions that went into them
#   guest/kernel.config.full         the resolved kernel .config
#
# Environment:
#   TYPEVISOR_BUILD_DIR  scratch directory, outside the repository
#                        (default /tmp/typevisor-guest-build)
#   JOBS                 parallel make jobs (default 2)
#   LINUX_SOURCE_PKG     Debian kernel source package (default linux-source-6.1)
#   SKIP_APT=1           do not call apt-get (everything must already be there)
#   SKIP_KERNEL=1        only rebuild the initramfs
#
# The script is idempotent: it re-uses the unpacked source tree and the
# kernel build directory when the source package version has not changed.
set -euo pipefail

GUEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGES_DIR="$GUEST_DIR/images"
BUILD_DIR="${TYPEVISOR_BUILD_DIR:-/tmp/typevisor-guest-build}"
JOBS="${JOBS:-2}"
LINUX_SOURCE_PKG="${LINUX_SOURCE_PKG:-linux-source-6.1}"
BUSYBOX_PKG="busybox-static:i386"
HOST_PKGS=(build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils gzip patch "$LINUX_SOURCE_PKG")

log() { printf '==> [guest/build.sh] %s\n' "$*"; }
die() { printf 'ERROR [guest/build.sh]: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "ERROR [guest/build.sh]: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit "$rc"' ERR

# ---------------------------------------------------------------- sanity
case "$BUILD_DIR" in
  "$GUEST_DIR"|"$GUEST_DIR"/*) die "TYPEVISOR_BUILD_DIR ($BUILD_DIR) must be outside the repository" ;;
esac
[[ "$(uname -m)" == x86_64 || "$(uname -m)" == i686 ]] || die "this script expects an x86 host (got $(uname -m))"

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=(sudo); else SUDO=(false); fi
fi

# apt-get that waits (up to 10 minutes) for another process holding the dpkg lock.
apt_retry() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# ---------------------------------------------------------------- packages
APT_UPDATED=0
apt_update_once() {
  [[ $APT_UPDATED == 1 ]] && return 0
  log "apt-get update"
  # A partially synced mirror makes apt-get update exit non-zero although the
  # indexes we need are usable; only warn here, the install step will fail
  # clearly if a package really cannot be found.
  apt_retry update || log "warning: apt-get update reported errors; continuing with the indexes it has"
  APT_UPDATED=1
}

if [[ "${SKIP_APT:-0}" != 1 ]]; then
  [[ ${SUDO[0]:-} == false ]] && die "not root and no sudo: install ${HOST_PKGS[*]} by hand and rerun with SKIP_APT=1"
  missing=()
  for p in "${HOST_PKGS[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if ((${#missing[@]})); then
    apt_update_once
    log "installing host packages: ${missing[*]}"
    apt_retry install -y --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  else
    log "host packages already installed: ${HOST_PKGS[*]}"
  fi
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    log "enabling the i386 architecture in dpkg (for $BUSYBOX_PKG)"
    "${SUDO[@]}" dpkg --add-architecture i386
    APT_UPDATED=0
  fi
  if ! apt-cache show "$BUSYBOX_PKG" >/dev/null 2>&1; then apt_update_once; fi
fi

for p in "${HOST_PKGS[@]}"; do pkg_installed "$p" || die "package $p is not installed"; done
for t in make gcc bc flex bison cpio gzip patch dpkg-deb; do command -v "$t" >/dev/null || die "missing tool: $t"; done

mkdir -p "$BUILD_DIR" "$IMAGES_DIR"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
log "scratch directory: $BUILD_DIR"

# ---------------------------------------------------------------- busybox
BB_VER="$(apt-cache policy "$BUSYBOX_PKG" 2>/dev/null | awk '/Candidate:/ {print $2}')"
[[ -n "$BB_VER" && "$BB_VER" != "(none)" ]] || die "apt does not know $BUSYBOX_PKG (run: dpkg --add-architecture i386 && apt-get update)"
DEB_DIR="$BUILD_DIR/debs"
mkdir -p "$DEB_DIR"
BB_DEB="$(ls "$DEB_DIR"/busybox-static_*"${BB_VER#*:}"_i386.deb 2>/dev/null | head -n1 || true)"
if [[ -z "$BB_DEB" ]]; then
  log "downloading $BUSYBOX_PKG $BB_VER"
  (cd "$DEB_DIR" && apt-get -o APT::Sandbox::User=root download "$BUSYBOX_PKG=$BB_VER") || die "apt-get download $BUSYBOX_PKG failed"
  BB_DEB="$(ls "$DEB_DIR"/busybox-static_*"${BB_VER#*:}"_i386.deb 2>/dev/null | head -n1 || true)"
  [[ -n "$BB_DEB" ]] || die "apt-get download did not produce a busybox-static .deb in $DEB_DIR"
fi
log "using $(basename "$BB_DEB")"
rm -rf "$BUILD_DIR/busybox-deb"
dpkg-deb -x "$BB_DEB" "$BUILD_DIR/busybox-deb"
BB_BIN="$BUILD_DIR/busybox-deb/bin/busybox"
[[ -x "$BB_BIN" ]] || die "no bin/busybox in $BB_DEB"
file_out="$(od -An -tx1 -N5 "$BB_BIN" | tr -d ' \n')"
[[ "$file_out" == 7f454c4601 ]] || die "$BB_BIN is not a 32-bit ELF file"

# ---------------------------------------------------------------- kernel source
KSRC_TARBALL="$(dpkg -L "$LINUX_SOURCE_PKG" | grep -E '^/usr/src/linux-source-[0-9.]+\.tar\.xz$' | head -n1 || true)"
[[ -n "$KSRC_TARBALL" && -f "$KSRC_TARBALL" ]] || die "no kernel source tarball found in package $LINUX_SOURCE_PKG"
KSRC_VER="$(dpkg-query -W -f='${Version}' "$LINUX_SOURCE_PKG")"
KSRC="$BUILD_DIR/$(basename "$KSRC_TARBALL" .tar.xz)"
KOBJ="$BUILD_DIR/kernel-obj"
# The stamp names the source package version and the patches applied to it;
# when either changes, the tree is unpacked afresh.
shopt -s nullglob
PATCHES=("$GUEST_DIR"/patches/*.patch)
shopt -u nullglob
SRC_STAMP="$LINUX_SOURCE_PKG $KSRC_VER patches:$(cat "${PATCHES[@]}" /dev/null | sha256sum | cut -c1-16)"
if [[ "$(cat "$KSRC/.typevisor-source-stamp" 2>/dev/null || true)" != "$SRC_STAMP" ]]; then
  log "unpacking $KSRC_TARBALL ($LINUX_SOURCE_PKG $KSRC_VER) into $BUILD_DIR"
  rm -rf "$KSRC" "$KOBJ"
  tar -C "$BUILD_DIR" -xf "$KSRC_TARBALL"
  [[ -f "$KSRC/Makefile" ]] || die "unexpected layout of $KSRC_TARBALL (no $KSRC/Makefile)"
  for p in "${PATCHES[@]}"; do
    log "applying guest/patches/$(basename "$p")"
    patch -d "$KSRC" -p1 --forward --batch --quiet < "$p" || die "patch $(basename "$p") does not apply to $LINUX_SOURCE_PKG $KSRC_VER"
  done
  echo "$SRC_STAMP" > "$KSRC/.typevisor-source-stamp"
else
  log "kernel source already unpacked and patched: $KSRC ($SRC_STAMP)"
fi
# A previous in-tree configuration would make out-of-tree (O=) builds refuse to run.
if [[ -f "$KSRC/.config" ]]; then make -s -C "$KSRC" ARCH=i386 mrproper; fi
KVERSION="$(make -s -C "$KSRC" kernelversion)"

# Reproducible-ish build metadata (shows up in uname -v and /proc/version).
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(stat -c %Y "$KSRC_TARBALL")}"
export SOURCE_DATE_EPOCH
export KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH")"
export KBUILD_BUILD_USER=typevisor KBUILD_BUILD_HOST=typevisor KBUILD_BUILD_VERSION=1
KMAKE=(make -C "$KSRC" O="$KOBJ" ARCH=i386)

# ---------------------------------------------------------------- kernel
if [[ "${SKIP_KERNEL:-0}" != 1 ]]; then
  mkdir -p "$KOBJ"
  log "configuring Linux $KVERSION: tinyconfig + guest/kernel.config"
  "${KMAKE[@]}" -s tinyconfig >"$BUILD_DIR/tinyconfig.log" 2>&1 || { cat "$BUILD_DIR/tinyconfig.log" >&2; die "make tinyconfig failed"; }
  (cd "$KOBJ" && "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOBJ" .config "$GUEST_DIR/kernel.config") >"$BUILD_DIR/merge_config.log" 2>&1 \
    || { cat "$BUILD_DIR/merge_config.log" >&2; die "merge_config.sh failed"; }
  "${KMAKE[@]}" -s olddefconfig

  log "checking that every option of guest/kernel.config survived Kconfig"
  bad=0
  while IFS= read -r line; do
    if [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      sym="${BASH_REMATCH[1]}"
      if grep -q "^$sym=" "$KOBJ/.config"; then
        printf '  wanted %s off, got: %s\n' "$sym" "$(grep "^$sym=" "$KOBJ/.config")" >&2; bad=1
      fi
    elif [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
      sym="${BASH_REMATCH[1]}"
      if ! grep -qxF "$line" "$KOBJ/.config"; then
        printf '  wanted %s, got: %s\n' "$line" "$(grep -E "^$sym=|^# $sym is not set" "$KOBJ/.config" || echo '(absent)')" >&2; bad=1
      fi
    fi
  done < "$GUEST_DIR/kernel.config"
  ((bad == 0)) || die "kernel configuration does not match guest/kernel.config (see above); fix the fragment's dependencies"

  log "building bzImage with make -j$JOBS (this takes a while; log: $BUILD_DIR/kernel-build.log)"
  if ! "${KMAKE[@]}" -j"$JOBS" bzImage >"$BUILD_DIR/kernel-build.log" 2>&1; then
    tail -n 40 "$BUILD_DIR/kernel-build.log" >&2
    die "kernel build failed; full log in $BUILD_DIR/kernel-build.log"
  fi
  install -m 0644 "$KOBJ/arch/x86/boot/bzImage" "$IMAGES_DIR/bzImage"
  # The resolved configuration, verbatim: `cp guest/kernel.config.full .config &&
  # make ARCH=i386 olddefconfig` reproduces it exactly.
  install -m 0644 "$KOBJ/.config" "$GUEST_DIR/kernel.config.full"
  log "wrote $IMAGES_DIR/bzImage ($(stat -c %s "$IMAGES_DIR/bzImage") bytes)"
else
  log "SKIP_KERNEL=1: keeping the existing $IMAGES_DIR/bzImage"
fi

# ---------------------------------------------------------------- initramfs
# gen_init_cpio (from the kernel tree) writes device nodes and ownership
# without needing root, and gives a byte-for-byte reproducible archive.
GEN_CPIO="$BUILD_DIR/gen_init_cpio"
if [[ ! -x "$GEN_CPIO" || "$KSRC/usr/gen_init_cpio.c" -nt "$GEN_CPIO" ]]; then
  log "compiling gen_init_cpio"
  gcc -O2 -o "$GEN_CPIO" "$KSRC/usr/gen_init_cpio.c"
fi
[[ -f "$GUEST_DIR/init" ]] || die "missing $GUEST_DIR/init"
# gen_init_cpio stores the mtime of regular files; stage copies with a fixed
# mtime so that the archive only changes when its contents do.
STAGE="$BUILD_DIR/initramfs-files"
rm -rf "$STAGE" && mkdir -p "$STAGE"
install -m 0755 "$BB_BIN" "$STAGE/busybox"
install -m 0755 "$GUEST_DIR/init" "$STAGE/init"
printf 'typevisor default guest\nlinux %s (Debian %s %s)\nbusybox-static:i386 %s\n' \
  "$KVERSION" "$LINUX_SOURCE_PKG" "$KSRC_VER" "$BB_VER" > "$STAGE/typevisor-release"
touch -d "@$SOURCE_DATE_EPOCH" "$STAGE"/*
LIST="$BUILD_DIR/initramfs.list"
{
  echo "dir /dev 0755 0 0"
  echo "nod /dev/console 0600 0 0 c 5 1"
  echo "nod /dev/null 0666 0 0 c 1 3"
  echo "nod /dev/ttyS0 0600 0 0 c 4 64"
  for d in /bin /sbin /usr /usr/bin /usr/sbin /proc /sys /tmp /run /root /etc /mnt; do
    echo "dir $d 0755 0 0"
  done
  echo "file /bin/busybox $STAGE/busybox 0755 0 0"
  echo "slink /bin/sh busybox 0777 0 0"
  echo "file /init $STAGE/init 0755 0 0"
  echo "file /etc/typevisor-release $STAGE/typevisor-release 0644 0 0"
} > "$LIST"
log "building the initramfs"
"$GEN_CPIO" -t "$SOURCE_DATE_EPOCH" "$LIST" > "$BUILD_DIR/initramfs.cpio"
gzip -9 -n -c "$BUILD_DIR/initramfs.cpio" > "$IMAGES_DIR/initramfs.cpio.gz"
log "wrote $IMAGES_DIR/initramfs.cpio.gz ($(stat -c %s "$IMAGES_DIR/initramfs.cpio.gz") bytes)"

# ---------------------------------------------------------------- versions
{
  echo "# typevisor default guest: what guest/build.sh built these images from."
  echo "linux               $KVERSION"
  echo "$LINUX_SOURCE_PKG    $KSRC_VER"
  echo "busybox-static:i386 $BB_VER"
  echo "gcc                 $(dpkg-query -W -f='${Version}' gcc 2>/dev/null || echo unknown) ($(gcc -dumpfullversion))"
  echo "binutils            $(dpkg-query -W -f='${Version}' binutils 2>/dev/null || echo unknown)"
  echo "kernel config       tinyconfig + guest/kernel.config (resolved: guest/kernel.config.full)"
  for p in "${PATCHES[@]}"; do echo "kernel patch        guest/patches/$(basename "$p")"; done
  echo "build timestamp     $KBUILD_BUILD_TIMESTAMP"
  echo "sha256              $(cd "$IMAGES_DIR" && sha256sum bzImage | cut -d' ' -f1)  bzImage"
  echo "sha256              $(cd "$IMAGES_DIR" && sha256sum initramfs.cpio.gz | cut -d' ' -f1)  initramfs.cpio.gz"
} > "$IMAGES_DIR/VERSIONS.txt"
cat "$IMAGES_DIR/VERSIONS.txt"
log "done"
