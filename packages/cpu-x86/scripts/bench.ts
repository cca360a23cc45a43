/**
 * Guest MIPS of the interpreter on its workloads. Node-only (uses nasm through child_process).
 *
 * Run from the repo root:
 *   npx esbuild packages/cpu-x86/scripts/bench.ts --bundle --platform=node --format=esm \
 *     --alias:@typevisor/mmu=./packages/mmu/src/index.ts --outfile=/tmp/cpu-bench.mjs && node /tmp/cpu-bench.mjs
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu, CPU_HOST_AREA_BYTES } from '../src/index.js';

function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'));
  writeFileSync(join(dir, 'a.asm'), `bits 32\norg 0x1000\n${source}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')]);
  return new Uint8Array(readFileSync(join(dir, 'a.bin')));
}

/** Page directory at 0x100000 identity-mapping 0-16 MiB with 4 KiB pages (tables at 0x101000..). */
function enablePaging(memory: PhysicalMemory, cpu: Cpu): void {
  for (let t = 0; t < 4; t++) {
    memory.writePhys32(0x100000 + t * 4, (0x101000 + t * 0x1000) | 7);
    for (let i = 0; i < 1024; i++) memory.writePhys32(0x101000 + t * 0x1000 + i * 4, (((t << 10) | i) << 12) | 7);
  }
  cpu.setRegisters({ cr3: 0x100000 });
  cpu.setRegisters({ cr0: (cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
}

/**
 * Warm code: `blocks` distinct blocks of nine instructions (two memory accesses) that each jump to
 * the next, gone round fewer times than the compile threshold, so they run in the block loop or the
 * warm interpreter, never compiled. A Linux boot's warm code is thousands of such blocks.
 */
function warmCode(blocks: number): string {
  const lines = ['top:', '  mov esi, 0x400000'];
  for (let k = 0; k < blocks; k++) {
    lines.push(`b${k}:`, `  mov eax, [esi + ${k * 4}]`, '  add eax, ebx', `  mov [esi + ${k * 4 + 4}], eax`, '  inc ebx',
      '  lea edx, [eax + ebx * 2]', '  xor edx, eax', '  and edx, 0xff', '  add ecx, edx', `  jmp b${k + 1}`);
  }
  lines.push(`b${blocks}:`, '  jmp top');
  return lines.join('\n');
}

/**
 * Hot code that the run loop dispatches block by block: `blocks` distinct blocks of four
 * instructions (one store) that each end in an indirect jump to the next, so no compiled block
 * follows into another and every block run is one dispatch from the run loop. With 8 blocks this
 * is the dispatch's own cost; with 100 (about the hot set of busybox awk) what it costs when the
 * host cannot predict which block comes next (2026-11-28: 13-15 against 19-31 ns per block).
 */
function dispatchChain(blocks: number): string {
  const lines = ['top:', '  mov esi, 0x400000'];
  for (let k = 0; k < blocks; k++) {
    lines.push(`b${k}:`, `  add eax, ${k}`, '  xor edx, eax', `  mov [esi + ${(k * 4) & 0xfff}], edx`, '  add ecx, edx',
      `  mov edi, b${k + 1}`, '  jmp edi', '  align 16');
  }
  lines.push(`b${blocks}:`, '  jmp top');
  return lines.join('\n');
}

const workloads: Array<{ name: string; paging: boolean; source: string; warm?: boolean; warmup?: number; blockLength?: number }> = [
  {
    name: 'integer loop (add/xor/shift/dec/jnz)',
    paging: false,
    source: `
      mov ecx, 0x7fffffff
    l: add eax, ecx
      xor edx, eax
      shr edx, 3
      lea ebx, [ebx+edx*2]
      dec ecx
      jnz l
      hlt`,
  },
  {
    name: 'memory-heavy loop under paging (1 MiB array, 256 pages)',
    paging: true,
    source: `
    outer:
      mov esi, 0x400000
      mov ecx, 0x40000
    l: mov eax, [esi]
      add eax, ecx
      mov [esi], eax
      add esi, 4
      dec ecx
      jnz l
      jmp outer`,
  },
  {
    name: 'mixed (calls, stack, mul/div, byte ops, rep movsd, branches)',
    paging: true,
    source: `
    top:
      mov ecx, 1000
    l: push ecx
      call crc
      pop ecx
      mov eax, ecx
      xor edx, edx
      mov ebx, 7
      div ebx
      imul eax, edx
      mov esi, 0x300000
      mov edi, 0x310000
      push ecx
      mov ecx, 16
      rep movsd
      pop ecx
      loop l
      jmp top
    crc:
      mov esi, 0x200000
      mov edx, 64
      mov eax, -1
    c1: movzx ebx, byte [esi]
      xor al, bl
      mov ebx, 8
    c2: shr eax, 1
      jnc c3
      xor eax, 0xedb88320
    c3: dec ebx
      jnz c2
      inc esi
      dec edx
      jnz c1
      ret`,
  },
  {
    name: 'NOP loop (one compiled block going round inside one call)',
    paging: false,
    source: `
    l: times 63 nop
      jmp l`,
  },
  // (Warmed up past the compile threshold of every block.)
  { name: 'compiled-block dispatch, 8 blocks', paging: false, source: dispatchChain(8), warmup: 60_000_000, blockLength: 6 },
  { name: 'compiled-block dispatch, 100 blocks', paging: false, source: dispatchChain(100), warmup: 60_000_000, blockLength: 6 },
  { name: 'warm code, 4,000 blocks below the compile threshold: block loop', paging: false, source: warmCode(4000), warm: false },
  { name: 'warm code, 4,000 blocks below the compile threshold: warm interpreter', paging: false, source: warmCode(4000), warm: true },
];

for (const w of workloads) {
  // RAM behind the host area only for the warm interpreter's row (the others run as before it).
  const memory = new PhysicalMemory({ ramSize: 32 << 20, hostAreaBytes: w.warm === true ? CPU_HOST_AREA_BYTES : 0 });
  const cpu = new Cpu({ memory, io: { read: () => 0xff, write: () => undefined }, warmBlocks: w.warm === true });
  memory.ram.set(assemble(w.source), 0x1000);
  cpu.enterFlatProtectedMode(0);
  cpu.setRegisters({ eip: 0x1000, esp: 0x80000 });
  if (w.paging) enablePaging(memory, cpu);
  cpu.run(w.warmup ?? 2_000_000); // warm up the JIT
  const budget = 20_000_000;
  // Process CPU time, not wall time: the build machine is shared, and CPU time is what we spend.
  const start = process.cpuUsage();
  const wall = performance.now();
  const before = cpu.instructionsRetired;
  cpu.run(budget);
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  const wallMs = performance.now() - wall;
  const n = cpu.instructionsRetired - before;
  const perBlock = w.blockLength === undefined ? '' : `, ${((ms * 1e6) / (n / w.blockLength)).toFixed(1)} ns per block`;
  console.log(`${w.name}: ${(n / ms / 1000).toFixed(1)} MIPS (CPU time; ${(n / wallMs / 1000).toFixed(1)} by wall clock${perBlock})`);
}
