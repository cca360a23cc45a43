/**
 * Micro-benchmarks of the MMU hot paths (millions of operations per second). No Node APIs.
 *
 * Run from the repo root:
 *   npx esbuild packages/mmu/scripts/bench.ts --bundle --platform=neutral --format=esm \
 *     --outfile=/tmp/mmu-bench.mjs && node /tmp/mmu-bench.mjs
 */
import { AccessKind, Paging, PhysicalMemory, TLB_FRAME_MASK, guestPhys, tlbAccessBit } from '../src/index.js';

const RAM = 64 << 20;
const memory = new PhysicalMemory({ ramSize: RAM });
memory.addMmio(guestPhys(0xd0000000), 0x200, { read: (offset) => offset, write: () => undefined }, 'dev');
memory.addRom(guestPhys(0xfffe0000), new Uint8Array(0x2000).fill(0x90), 'rom');

// Identity-map the first 64 MiB with 4 KiB pages: directory at 0x1000, tables from 0x2000.
const CR3 = 0x1000;
for (let i = 0; i < RAM >>> 22; i++) {
  const table = 0x2000 + i * 0x1000;
  memory.writePhys32(CR3 + i * 4, table | 0x67);
  for (let j = 0; j < 1024; j++) memory.writePhys32(table + j * 4, ((i << 22) | (j << 12) | 0x67) >>> 0);
}
const paging = new Paging(memory);
paging.setControl(0x80000001, CR3, 0, 0);

function bench(name: string, ops: number, body: () => number): void {
  body(); // warm up
  const start = performance.now();
  const check = body();
  const ms = performance.now() - start;
  const perSecond = (ops / ms) * 1000;
  const rate = perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)} M/s` : `${(perSecond / 1e3).toFixed(1)} K/s`;
  console.log(`${name.padEnd(48)} ${rate.padStart(11)}  (check ${check})`);
}

const N = 20_000_000;
const MASK = (RAM - 4) & ~3;

bench('readPhys32, aligned RAM', N, () => {
  let sum = 0;
  for (let i = 0; i < N; i++) sum = (sum + memory.readPhys32((i * 4) & MASK)) | 0;
  return sum;
});
bench('readPhys32, unaligned RAM (same page)', N, () => {
  let sum = 0;
  for (let i = 0; i < N; i++) sum = (sum + memory.readPhys32(((i * 4) & MASK & ~0xfff) | 0x101)) | 0;
  return sum;
});
bench('writePhys32, RAM', N, () => {
  for (let i = 0; i < N; i++) memory.writePhys32(0x800000 + ((i * 4) & 0xffffc), i);
  return memory.readPhys32(0x800000);
});
bench('readPhys32, MMIO dispatch', N / 10, () => {
  let sum = 0;
  for (let i = 0; i < N / 10; i++) sum = (sum + memory.readPhys32(0xd0000000 + (i & 0x1fc))) | 0;
  return sum;
});
const dmaBlock = new Uint8Array(4096);
const DMA_OPS = N / 20;
bench('writeBytes, 4 KiB DMA into RAM', DMA_OPS, () => {
  for (let i = 0; i < DMA_OPS; i++) memory.writeBytes(guestPhys(0x800000 + ((i & 0xff) << 12)), dmaBlock);
  return memory.readPhys32(0x800000);
});
bench('readBytes, 4 KiB DMA from RAM', DMA_OPS, () => {
  let sum = 0;
  for (let i = 0; i < DMA_OPS; i++) sum = (sum + memory.readBytes(guestPhys(0x800000 + ((i & 0xff) << 12)), dmaBlock)) | 0;
  return sum;
});
bench('readBytes, 16 bytes of ROM (byte path)', DMA_OPS, () => {
  let sum = 0;
  const small = dmaBlock.subarray(0, 16);
  for (let i = 0; i < DMA_OPS; i++) sum = (sum + memory.readBytes(guestPhys(0xfffe0ff8), small)) | 0;
  return sum;
});
bench('translate, TLB hit (read, 64 pages)', N, () => {
  let sum = 0;
  for (let i = 0; i < N; i++) sum = (sum + paging.translate((i & 0x3f) << 12, AccessKind.Read, false)) | 0;
  return sum;
});
bench('inline fast path, TLB hit (write, user)', N, () => {
  const entries = paging.tlbEntries;
  const need = tlbAccessBit(AccessKind.Write, true);
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const linear = ((i & 0x3f) << 12) | 0x10;
    const e = entries[linear >>> 12];
    const phys = (e & need) !== 0 ? ((e & TLB_FRAME_MASK) | (linear & 0xfff)) >>> 0 : paging.translate(linear, AccessKind.Write, true);
    sum = (sum + phys) | 0;
  }
  return sum;
});
bench('translate after INVLPG (full 2-level walk)', N / 10, () => {
  let sum = 0;
  for (let i = 0; i < N / 10; i++) {
    const linear = (i & 0x3fff) << 12;
    paging.invalidatePage(linear);
    sum = (sum + paging.translate(linear, AccessKind.Read, false)) | 0;
  }
  return sum;
});
bench('4096 walks then a CR3 reload (rounds)', 2000, () => {
  let sum = 0;
  for (let r = 0; r < 2000; r++) {
    for (let p = 0; p < 4096; p++) sum = (sum + paging.translate(p << 12, AccessKind.Read, false)) | 0;
    paging.writeCr3(CR3);
  }
  return sum;
});
