#!/bin/sh
# Regenerates packages/cpu-x86/test/system/fixtures/*.txt: each test kernel's output in QEMU, the
# oracle the interpreter is compared with. Needs nasm and qemu-system-i386
# (apt-get install -y nasm qemu-system-x86). Run from anywhere: sh packages/cpu-x86/scripts/systest/regenerate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../../test/system/fixtures"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
mkdir -p "$fixtures"
for src in "$here"/*.asm; do
  name=$(basename "$src" .asm)
  nasm -f bin -I "$here/" -o "$build/$name.bin" "$src"
  # isa-debug-exit makes QEMU exit with status 1 for the value 0 the kernels write: expected.
  timeout 60 qemu-system-i386 -kernel "$build/$name.bin" -m 32 -display none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon "file:$build/$name.txt" || true
  cp "$build/$name.txt" "$fixtures/$name.txt"
  echo "$name: $(wc -l < "$fixtures/$name.txt") lines"
done
