import { PhysicalMemory, Paging } from '@typevisor/mmu';
import { describe, expect, it } from 'vitest';
import { CpuStat } from '@typevisor/cpu-x86';
import type { CpuOptions } from '@typevisor/cpu-x86';
import { blockIndex, buildBlock } from '../src/blocks.js';
import { CpuCore, fetchIndex } from '../src/core.js';
import type { CpuMemory, CpuPaging } from '../src/memory-ports.js';
import { asm, flat, type Machine } from './support/harness.js';

/**
 * A block about to be compiled follows near CALLs, forward JMPs and the RETs of those CALLs into
 * their targets (blocks.ts buildBlock), so its compiled code runs caller and callee without going
 * back to the run loop. What it must still get right: code written or remapped under it, a return
 * address the callee changed, and faults inside the callee.
 */

/** A core over 64 KiB of RAM with `code` at 0x1000 (linear = physical), in 32-bit code. */
function core(code: Uint8Array, more: Array<[number, Uint8Array]> = []): CpuCore {
  const memory = new PhysicalMemory({ ramSize: 1 << 16 });
  memory.ram.fill(0xf4);
  memory.ram.set(code, 0x1000);
  for (const [at, bytes] of more) memory.ram.set(bytes, at);
  const c = new CpuCore(memory as unknown as CpuMemory, new Paging(memory) as CpuPaging, { read: () => 0xff, write: () => {} }, null, null);
  c.cs32 = true;
  c.fetchGenKey = 1;
  return c;
}

/** Build the block at 0x1000 (following transfers when `follow`): its instruction count and how many the block loop runs. */
function build(c: CpuCore, follow = true): { count: number; linear: number } {
  const b = blockIndex(0x1000);
  buildBlock(c, b, 0x1000, 0x1000, 1, follow);
  return { count: c.bCount[b]!, linear: c.bLinear[b]! };
}

describe('blocks built for compiling follow transfers', () => {
  it('follow a call into its callee and back when nothing in between branches', () => {
    const code = asm('call f\ninc ebx\nhlt\nf: add eax, 1\nret', 32, 0x1000);
    expect(build(core(code))).toEqual({ count: 5, linear: 1 }); // call, add, ret, inc, hlt
    expect(build(core(code), false)).toEqual({ count: 1, linear: 1 }); // a cold block ends at the call
  });

  it('end at the call when the callee branches on a condition or does not return within the block', () => {
    expect(build(core(asm('call f\ninc ebx\nhlt\nf: test eax, eax\njz g\ng: ret', 32, 0x1000)))).toEqual({ count: 1, linear: 1 });
    expect(build(core(asm('call f\nhlt\nf: jmp f2\nf2: inc eax\njmp f2', 32, 0x1000)))).toEqual({ count: 1, linear: 1 });
  });

  it('follow a forward JMP but not a backward one (a loop)', () => {
    expect(build(core(asm('inc eax\njmp x\nnop\nx: inc ebx\njmp 0x1000', 32, 0x1000)))).toEqual({ count: 4, linear: 2 });
  });

  it('go into another page only where the fetch translation cache knows that page', () => {
    const code = asm('call 0x3000\ninc ebx\nhlt', 32, 0x1000);
    const callee: [number, Uint8Array] = [0x3000, asm('add eax, 1\nret', 32, 0x3000)];
    expect(build(core(code, [callee]))).toEqual({ count: 1, linear: 1 });
    const c = core(code, [callee]);
    const i = fetchIndex(0x3000, c.userKind);
    c.fetchTag[i] = 0x3000 | 1;
    c.fetchFrame[i] = 0x3000;
    expect(build(c)).toEqual({ count: 5, linear: 1 });
  });
});

/** Run `source` with blocks compiled after `threshold` runs, and without compiling: both results. */
function both(source: string, setup: (m: Machine) => void = () => {}, threshold = 5): Array<{ stop: string; regs: unknown; retired: number; exception: unknown }> {
  return [{ compileBlocks: false }, { compileThreshold: threshold }].map((options: Partial<CpuOptions>) => {
    const m = flat(source, options);
    setup(m);
    const stop = m.cpu.run(1_000_000);
    return { stop, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, exception: m.cpu.lastException, compiled: m.cpu.stats[CpuStat.BlocksCompiled] };
  }).map(({ compiled, ...rest }, i) => {
    if (i === 1) expect(compiled).toBeGreaterThan(0);
    return rest;
  });
}

/** A loop that calls `target` 200 times and, after the 101st call, points linear page 0x3000 at physical 0x5000. */
function remappingLoop(target: number): string {
  return `
        mov ecx, 200
        xor eax, eax
      l: call 0x${target.toString(16)}
        cmp ecx, 100
        jne s
        mov dword [0x101000 + 3 * 4], 0x5003
        invlpg [0x3000]
      s: dec ecx
        jnz l
        hlt`;
}

/** Paging on, with the first 4 MiB identity-mapped except linear page 3, which maps to physical page `page3`. */
function pageTables(m: Machine, page3: number): void {
  m.memory.writePhys32(0x100000, 0x101003);
  for (let i = 0; i < 1024; i++) m.memory.writePhys32(0x101000 + i * 4, ((i === 3 ? page3 : i) << 12) | 3);
  m.cpu.setRegisters({ cr3: 0x100000 });
  m.cpu.setRegisters({ cr0: (m.cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
}

describe('compiled blocks that followed a call', () => {
  it('run the callee\'s new code after it is written, in its own page', () => {
    // f (0x3000) adds 1 until the loop patches it to add 2 at ECX = 100: 101 * 1 + 99 * 2.
    const [interpreted, compiled] = both(`
        mov ecx, 200
        xor eax, eax
      l: call 0x3000
        cmp ecx, 100
        jne s
        mov byte [0x3002], 2
      s: dec ecx
        jnz l
        hlt`, (m) => m.memory.ram.set(asm('add eax, 1\nret', 32, 0x3000), 0x3000));
    expect(interpreted!.regs).toMatchObject({ eax: 299 });
    expect(compiled).toEqual(interpreted);
  });

  it('run the code a remapped page holds now', () => {
    // Linear 0x3000 maps to physical 0x3000 (add eax, 1) until the loop points it at 0x5000 (add eax, 100).
    const [interpreted, compiled] = both(remappingLoop(0x3000), (m) => {
      m.memory.ram.set(asm('add eax, 1\nret', 32, 0x3000), 0x3000);
      m.memory.ram.set(asm('add eax, 100\nret', 32, 0x3000), 0x5000);
      pageTables(m, 3);
    });
    expect(interpreted!.regs).toMatchObject({ eax: 101 + 99 * 100 });
    expect(compiled).toEqual(interpreted);
  });

  it('run the code a remapped page holds now when it was another linear view of the block\'s own page', () => {
    // Linear 0x3000 starts as a second view of the code's page (physical 0x1000, f at 0x1800), so the
    // callee decoded through it is in the block's own physical page, but not in its linear page.
    const [interpreted, compiled] = both(`${remappingLoop(0x3800)}
        times 0x800 - ($ - $$) nop
        add eax, 1
        ret`, (m) => {
      m.memory.ram.set(asm('add eax, 100\nret', 32, 0x3800), 0x5800);
      pageTables(m, 1);
    });
    expect(interpreted!.regs).toMatchObject({ eax: 101 + 99 * 100 });
    expect(compiled).toEqual(interpreted);
  });

  it('go where the return address says when the callee changed it', () => {
    // Every other call, f moves its return address past the one-byte INC EBX.
    const [interpreted, compiled] = both(`
        mov ecx, 100
        xor ebx, ebx
        xor edx, edx
      l: xor edx, 1
        call f
        inc ebx
        dec ecx
        jnz l
        hlt
      f: add [esp], edx
        ret`, undefined, 1);
    expect(interpreted!.regs).toMatchObject({ ebx: 50 });
    expect(compiled).toEqual(interpreted);
  });

  it('report a fault inside the callee at the callee\'s instruction, with the instructions before it retired', () => {
    // f divides by ECX - 1, which is 0 on the last pass.
    const [interpreted, compiled] = both(`
        mov ecx, 50
      l: call f
        dec ecx
        jnz l
        hlt
      f: lea esi, [ecx - 1]
        mov eax, 100
        xor edx, edx
        div esi
        ret`, undefined, 1);
    expect(interpreted!.stop).toBe('exception');
    expect(interpreted!.exception).toMatchObject({ vector: 0 });
    expect(compiled).toEqual(interpreted);
  });
});
