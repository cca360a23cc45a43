#!/usr/bin/env bash
# Installs what the benchmark suite needs on Debian 12, then builds the scripts:
#   qemu-system-i386 (TCG) and SeaBIOS for the QEMU and v86 platforms (apt),
#   the v86 npm package (bench/package.json devDependency, via the workspace install).
# The suite itself (bench/dist/run.mjs) installs nothing; it only checks and explains.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y qemu-system-x86 seabios
cd "$ROOT"
npx pnpm@12.4.2 install
node bench/build.mjs
echo "ready: node --expose-gc bench/dist/run.mjs --platforms typevisor,v86,qemu,native --runs 3 --out report.json"
