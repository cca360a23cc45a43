import { describe, expect, it } from 'vitest';
import { CPU_HOST_AREA_BYTES, CpuConfigurationError, CpuStat, InstructionClass } from '@typevisor/cpu-x86';
import type { CpuOptions } from '@typevisor/cpu-x86';
import { guestPhys } from '@typevisor/mmu';
import { asm, flat } from './support/harness.js';
import { pmMachine, record } from './support/pm-program.js';

const LOOP = `
  mov ecx, 3000
  mov esi, 0x5000
l: mov eax, [esi]
  add eax, ecx
  xor edx, eax
  push edx
  pop ebx
  mov [esi + 4], ebx
  shl edx, 3
  dec ecx
  jnz l
  hlt`;

function runLoop(options: Partial<CpuOptions>): { regs: ReturnType<ReturnType<typeof flat>['cpu']['getRegisters']>; retired: number; compiled: number; stored: number } {
  const m = flat(LOOP, options);
  expect(m.cpu.run(1_000_000)).toBe('halt');
  return { regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, compiled: m.cpu.stats[CpuStat.BlocksCompiled], stored: m.memory.readPhys32(0x5004) };
}

/**
 * Places each routine (`code` and a RET, assembled for `at`) at its address; `loaded` (default
 * `at`) is a physical address it is loaded at instead, for a page mapped there.
 */
function placeRoutines(m: ReturnType<typeof flat>, routines: Array<[at: number, code: string, loaded?: number]>): void {
  for (const [at, code, loaded] of routines) m.memory.ram.set(asm(`${code}\nret`, 32, at), loaded ?? at);
}
/**
 * IRETD to `label` at CPL 3 with DS/ES 0x23 and ESP 0x90000: like pm-program's to_ring3, but with
 * the stack away from the test program's pages (to_ring3's ESP 0x8800 shares one, and a write there
 * is a write to decoded code, which empties the jump caches).
 */
function toRing3(label: string): string[] {
  return ['mov bx, 0x23', 'mov ds, bx', 'mov es, bx', 'push dword 0x23', 'push dword 0x90000', 'push dword 0x202', 'push dword 0x1b', `push dword ${label}`, 'iretd'];
}
/** Indirect calls of the routines at `addresses`, in turn: blocks do not follow them (blocks.ts). */
function indirectCalls(addresses: number[]): string {
  return addresses.map((a) => `mov edx, 0x${a.toString(16)}\ncall edx`).join('\n');
}

/** A loop that, when ECX reaches 5, runs `patch` from inside its block to turn `add eax, 1` (83 C0 01, label p) into `add eax, 2`. */
function patchingLoop(patch: string): string {
  return `
      mov ecx, 10
      xor eax, eax
    l: cmp ecx, 5
      jne p
      ${patch}
    p: add eax, 1
      nop
      dec ecx
      jnz l
      hlt`;
}

describe('compiled blocks', () => {
  it('compute exactly what the block loop computes, and compile only hot blocks', () => {
    const interpreted = runLoop({ compileBlocks: false });
    const eager = runLoop({ compileThreshold: 1 });
    const hot = runLoop({ compileThreshold: 1000 });
    expect(interpreted.compiled).toBe(0);
    expect(eager.compiled).toBeGreaterThanOrEqual(2);
    expect(hot.compiled).toBe(1); // only the loop body ran 1000 times
    for (const run of [eager, hot]) {
      expect(run.regs).toEqual(interpreted.regs);
      expect(run.retired).toBe(interpreted.retired);
      expect(run.stored).toBe(interpreted.stored);
    }
    expect(interpreted.retired).toBe(2 + 3000 * 9 + 1);
  });

  it('run a one-block loop inside the compiled function but never past the budget', () => {
    const reference = runLoop({ compileBlocks: false });
    const m = flat(LOOP, { compileThreshold: 1 });
    let stop = 'budget', runs = 0;
    while (stop === 'budget') {
      const before = m.cpu.instructionsRetired;
      stop = m.cpu.run(777);
      if (stop === 'budget') expect(m.cpu.instructionsRetired - before).toBe(777);
      runs++;
    }
    expect(stop).toBe('halt');
    expect(runs).toBe(Math.ceil(reference.retired / 777));
    expect(m.cpu.getRegisters()).toEqual(reference.regs);
    expect(m.cpu.instructionsRetired).toBe(reference.retired);
  });

  it('compute one-block loops with memory operands (the written-out RAM fast path) as the block loop does', () => {
    const source = `
      mov esi, 0x5000
      mov ecx, 500
    l: mov eax, [esi + ecx*4]
      imul ebx, [esi + ecx*4 + 4]
      mul dword [esi + 8]
      cmp [esi + ecx*4], edx
      cmovae edi, [esi + 12]
      test [esi + ecx*4 + 8], eax
      setb dl
      add ebx, [esi + ecx*4]
      adc [esi + ecx*4 + 4], ebx
      mov [esi + ecx*4], edi
      dec ecx
      jnz l
      hlt`;
    const run = (options: Partial<CpuOptions>) => {
      const m = flat(source, options);
      for (let i = 0; i < 0x900; i += 4) m.memory.writePhys32(0x5000 + i, Math.imul(i + 1, 0x9e3779b9));
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, ram: Array.from(m.memory.ram.subarray(0x5000, 0x5900)) };
    };
    const interpreted = run({ compileBlocks: false });
    expect(run({ compileThreshold: 1 })).toEqual(interpreted);
    expect(run({ compileThreshold: 100 })).toEqual(interpreted);
  });

  it('decide Jcc, SETcc, CMOVcc and the ADC/SBB carry right after a flag-setting instruction as the lazy flags do', () => {
    // The compiler evaluates a condition straight from the operands of the CMP/SUB/ADD/TEST/ADC/
    // SBB/INC/DEC/shift (dword or byte) just before it (block-compiler.ts `condition`); each group below is one such pair
    // in the same block, over operand pairs that sit on every carry, sign and overflow edge.
    const ops = ['cmp edx, ebx', 'sub edx, ebx', 'add edx, ebx', 'and edx, ebx', 'or edx, ebx', 'xor edx, ebx', 'test edx, ebx',
      'adc edx, ebx', 'sbb edx, ebx', 'inc edx', 'dec edx', 'cmp edx, 0x7fffffff', 'add edx, -1',
      // Shifts by a constant, and INC/DEC keeping a carry the compiler knows from the instruction before.
      'shl edx, 1', 'shl edx, 7', 'shr edx, 1', 'shr edx, 9', 'sar edx, 1', 'sar edx, 31',
      'cmp edx, ebx\n dec edx', 'shr edx, 1\n inc edx', 'add edx, ebx\n inc edx\n dec edx',
      // Rotates replace CF and OF only: the other flags come from the instruction before.
      'rol edx, 1', 'ror edx, 7', 'xor edx, ebx\n ror edx, 1', 'sub edx, ebx\n rol edx, 9\n ror edx, 3', 'inc edx\n rol edx, 1',
      // Multiplies leave CF = OF = overflow in a local until something needs the flags.
      'imul edx, ebx', 'imul edx, [esi + ecx*8 + 4]', 'add edx, ebx\n imul edx, ebx', 'imul edx, ebx\n imul edx, edx',
      'imul edx, ebx\n inc edx', 'imul edx, ebx\n rol edx, 1',
      // Byte operations: their flags wait in locals too, with byte operands and the unmasked result.
      'cmp dl, bl', 'sub dl, bl', 'add dl, bl', 'and dl, bl', 'or dl, bl', 'xor dl, bl', 'test dl, bl', 'add dh, bl',
      'cmp dl, 0x80', 'add dl, 0xff', 'sub dh, 1', 'test dl, 0x81', 'test al, 0x80', 'cmp al, 0x7f',
      'cmp byte [esi + ecx*8], 0x80', 'test byte [esi + ecx*8 + 4], 0x41', 'cmp dl, bl\n inc edx'];
    const cc = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    let out = 0, body = '';
    for (const op of ops) {
      for (const c of cc) {
        body += `mov edx, eax\n ${op}\n set${c} dl\n mov [edi + ${out++}], dl\n`;
        body += `mov edx, eax\n ${op}\n mov ebp, 0\n cmov${c} ebp, ecx\n mov [edi + ${out++}], ebp\n`;
        body += `mov edx, eax\n ${op}\n j${c} .t${out}\n mov byte [edi + ${out}], 1\n.t${out}: nop\n`;
        out++;
      }
      // The carry of the operation feeding an ADC and an SBB (the carry-in comes from it).
      body += `mov edx, eax\n ${op}\n adc edx, ebx\n mov [edi + ${out}], edx\n`;
      body += `mov edx, eax\n ${op}\n sbb edx, ebx\n mov [edi + ${out + 4}], edx\n`;
      out += 8;
    }
    const source = `
      mov esi, 0x40000
      mov edi, 0x50000
      mov ecx, 0
    l: mov eax, [esi + ecx*8]
      mov ebx, [esi + ecx*8 + 4]
      stc
      ${body.replaceAll('\n', '\n      ')}
      add edi, ${out}
      inc ecx
      cmp ecx, 64
      jne l
      hlt`;
    const edges = [0, 1, 2, -1, -2, 0x7fffffff, 0x7ffffffe, -0x80000000, -0x7fffffff, 0x80, 0xff, 0x100, 0x12345678, -0x12345678, 0x7f, 0x807f];
    const run = (options: Partial<CpuOptions>) => {
      const m = flat(source, options);
      for (let i = 0; i < 64; i++) {
        const a = i < edges.length * 4 ? edges[i % edges.length]! : Math.imul(i, 0x9e3779b9);
        const b = i < edges.length * 4 ? edges[(i * 5 + (i >> 2)) % edges.length]! : Math.imul(i + 7, 0x85ebca6b);
        m.memory.writePhys32(0x40000 + i * 8, a);
        m.memory.writePhys32(0x40004 + i * 8, b);
      }
      expect(m.cpu.run(10_000_000)).toBe('halt');
      return { regs: m.cpu.getRegisters(), ram: Array.from(m.memory.ram.subarray(0x50000, 0x50000 + 64 * out)) };
    };
    const interpreted = run({ compileBlocks: false });
    expect(interpreted.ram.some((v) => v !== 0)).toBe(true);
    const compiled = run({ compileThreshold: 1 });
    expect(compiled.regs).toEqual(interpreted.regs);
    // First difference, readable: which group and operand pair.
    const diff = compiled.ram.findIndex((v, i) => v !== interpreted.ram[i]);
    expect(diff === -1 ? 'same' : `byte ${diff % out} of pair ${Math.floor(diff / out)}`).toBe('same');
  });

  it('stop at a store into their own code and run the rewritten instruction', () => {
    // When ECX reaches 5 the loop patches the immediate of `add eax, 1` (83 C0 01 at label p) to 2
    // from inside the compiled block; the ADD right after the store must already be the new one.
    const m = flat(patchingLoop('mov byte [p + 2], 2'), { compileThreshold: 1 });
    expect(m.cpu.run(10_000)).toBe('halt');
    // ECX 10..6 add 1; ECX 5..1 add 2.
    expect(m.cpu.getRegisters().eax).toBe(5 * 1 + 5 * 2);
  });

  it('give a read-modify-write of their own code or of MMIO to the handler (code invalidated, device written)', () => {
    // `add dword [p], 0x10000` turns `add eax, 1` (83 C0 01 90) into `add eax, 2` from inside the
    // block: a code page is not on the in-place fast path, so the handler writes it and the block ends.
    const m = flat(patchingLoop('add dword [p], 0x10000\n      or dword [0xfee00000], 3'), { compileThreshold: 1 });
    const device: number[] = [];
    m.memory.addMmio(guestPhys(0xfee00000), 0x1000, { read: () => 0x40, write: (_offset, _size, value) => { device.push(value); } }, 'rmw-device');
    expect(m.cpu.run(10_000)).toBe('halt');
    expect(m.cpu.getRegisters().eax).toBe(5 * 1 + 5 * 2);
    expect(device).toEqual([0x43]); // read 0x40 from the device, OR 3, written back to the device
  });

  it('keep the flags of an instruction whose flags a later one overwrites when something in between faults', () => {
    // CMP's flags are dead before the SUB in straight-line code, but LEA with a register operand
    // (8D C3) raises #UD in between: the fault must see CMP's flags (5 - 6: CF = 1, ZF = 0), not
    // those of the DEC before it (ZF = 1).
    for (const threshold of [1, 2]) {
      const m = flat(`
        mov ecx, 2
      l: mov eax, 5
        cmp eax, 5
        mov edx, eax
        dec ecx
        jz bad
        cmp eax, 5
        sub ebx, ebx
        jmp l
      bad:
        cmp eax, 6
        mov edx, eax
        db 0x8d, 0xc3
        sub ebx, ecx
        hlt`, { compileThreshold: threshold });
      expect(m.cpu.run(1000)).toBe('exception');
      expect(m.cpu.lastException?.vector).toBe(6);
      expect(m.cpu.getRegisters().eflags & 0x41).toBe(0x01);
    }
  });

  it('get their compiled function back when their block is rebuilt from unchanged code, and not after a code write', () => {
    // Routines at 0x20000, 0x30010 and 0x40060 share a block-cache set ((phys ^ phys >>> 12) &
    // 0xffff = 0x20, two ways), so calling them in turn rebuilds two of them on every call. The
    // calls are indirect, so that blocks do not follow them into the routines (blocks.ts).
    const m = flat(`
      mov ecx, 100
    l: ${indirectCalls([0x20000, 0x30010, 0x40060])}
      dec ecx
      jnz l
      mov byte [0x20002], 2
      ${indirectCalls([0x20000])}
      hlt`, { compileThreshold: 1 });
    placeRoutines(m, [[0x20000, 'add eax, 1'], [0x30010, 'add ebx, 1'], [0x40060, 'add esi, 1']]);
    expect(m.cpu.run(100_000)).toBe('halt');
    // 100 calls of each plus one call of the patched `add eax, 2`.
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 102, ebx: 100, esi: 100 });
    expect(m.cpu.stats[CpuStat.BlocksBuilt]).toBeGreaterThan(200);
    // Main's blocks (6 or 7), the three routines once each, and the patched routine: not one
    // compile per rebuild.
    expect(m.cpu.stats[CpuStat.BlocksCompiled]).toBeLessThan(15);
  });

  it('compile two hot blocks whose addresses share a block-cache index (two-way sets), and keep both built', () => {
    // f1 at 0x2000 and f2 at 0x12010 both index entry 0x2002 ((p ^ p >>> 12) & 0xffff). With one
    // way they evicted each other on every call, so neither ever counted up to the threshold.
    // Indirect calls: blocks do not follow them into the callees (blocks.ts).
    const m = flat(`
        mov ecx, 3000
      top: mov edx, f1
        call edx
        mov edx, f2
        call edx
        dec ecx
        jnz top
        hlt
        times 0x1000 - ($ - $$) nop
      f1: add eax, 1
        ret
        times 0x11010 - ($ - $$) nop
      f2: add ebx, 2
        ret`, { compileThreshold: 1000 });
    m.cpu.setRegisters({ esp: 0x40000 });
    expect(m.cpu.run(1_000_000)).toBe('halt');
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 3000, ebx: 6000, ecx: 0 });
    // The three blocks of the loop and both callees.
    expect(m.cpu.stats[CpuStat.BlocksCompiled]).toBe(5);
    // Each of them built once, and once more to be compiled (blocks.ts buildBlock: `follow`), and the HLT.
    expect(m.cpu.stats[CpuStat.BlocksBuilt]).toBeLessThanOrEqual(11);
  });

  describe('found again through the run loop\'s jump cache (by linear address)', () => {
    it('with their own function after their block-cache entry went to another block', () => {
      // W (0x20000) and X (0x30010) share block-cache set 0x20/0x21, X lands in entry 0x21, and Y
      // (0x40061, set 0x21 too) is built into that entry while X stays in the jump cache (X's
      // jump-cache index is 0x20, Y's 0x21): the next call of X runs X, not Y's function.
      const m = flat(`
          mov ecx, 100
        l: ${indirectCalls([0x20000, 0x30010, 0x40061, 0x30010])}
          dec ecx
          jnz l
          hlt`, { compileThreshold: 1 });
      placeRoutines(m, [[0x20000, 'add eax, 1'], [0x30010, 'add ebx, 1'], [0x40061, 'add esi, 1']]);
      expect(m.cpu.run(100_000)).toBe('halt');
      expect(m.cpu.getRegisters()).toMatchObject({ eax: 100, ebx: 200, esi: 100 });
    });

    it('not after the decoded-slot pool started over', () => {
      // The routine's XADD is a handler call with its decoded slot. Then 327,680 `mov eax, ebx`
      // (5,120 blocks, each run once, so none is compiled or enters the jump cache) overflow the pool
      // of 262,144 slots and reuse that slot before the last call.
      const source = `
          mov esp, 0x90000
          mov esi, 1
          mov edx, 2
          mov ecx, 20
        l: mov ebx, 0x20000
          call ebx
          dec ecx
          jnz l
          mov ebx, 0x100000
          call ebx
          mov ebx, 0x20000
          call ebx
          hlt`;
      const run = (options: Partial<CpuOptions>) => {
        const m = flat(source, options);
        placeRoutines(m, [[0x20000, 'xadd esi, edx']]);
        for (let a = 0x100000; a < 0x1a0000; a += 2) m.memory.ram.set([0x89, 0xd8], a);
        m.memory.ram[0x1a0000] = 0xc3;
        expect(m.cpu.run(1_000_000)).toBe('halt');
        return m.cpu.getRegisters();
      };
      expect(run({ compileThreshold: 16 })).toEqual(run({ compileBlocks: false }));
    });

    // In the next three, the instruction that changes what a linear address runs (code write, INVLPG,
    // CS load) is followed by a block that was built before, so no block is built in between.
    it('not after another block wrote their code', () => {
      // The routine's `add eax, 1` becomes `add eax, 2` once ECX reaches 8, then `add eax, 3` at 5.
      const m = flat(`
          mov esp, 0x90000
          mov ecx, 10
          jmp l
        patch: inc byte [0x20002]
        l: mov edx, 0x20000
          call edx
          dec ecx
          cmp ecx, 8
          je patch
          cmp ecx, 5
          je patch
          test ecx, ecx
          jnz l
          hlt`, { compileThreshold: 1 });
      placeRoutines(m, [[0x20000, 'add eax, 1']]);
      expect(m.cpu.run(100_000)).toBe('halt');
      expect(m.cpu.getRegisters().eax).toBe(2 * 1 + 3 * 2 + 5 * 3);
    });

    it('not after their page was mapped elsewhere (INVLPG)', () => {
      // Linear 0x300000 maps to 0x300000 and 0x301000 in turn, each holding its own routine.
      const m = pmMachine([
        'mov esp, 0x90000', 'call setup_paging', 'mov ecx, 10', 'xor esi, esi', 'jmp l',
        'flip: xor dword [0x21000 + 0x300*4], 0x1000', 'invlpg [0x300000]',
        'l: mov edx, 0x300000', 'call edx',
        'dec ecx', 'jnz flip', 'hlt',
      ].join('\n'), {}, { compileThreshold: 1 });
      placeRoutines(m, [[0x300000, 'add esi, 1'], [0x300000, 'add esi, 100', 0x301000]]);
      expect(m.cpu.run(100_000)).toBe('halt');
      expect(m.cpu.getRegisters().esi).toBe(5 * 1 + 5 * 100);
    });

    // Both tiers: compiled blocks (the run loop's jump cache) and warm blocks (the dispatcher's).
    const tiers: Array<[string, Partial<CpuOptions>, number]> = [
      ['compiled', { compileThreshold: 1 }, 0],
      ['warm', { warmThreshold: 1, compileThreshold: 65535 }, CPU_HOST_AREA_BYTES],
    ];

    it.each(tiers)('%s: not after their page was mapped elsewhere, with INVLPGs of other pages in between', (_, options, hostArea) => {
      // The INVLPG of the routine's page must drop what the jump caches hold for it, also when
      // INVLPGs of other pages, which need not, come in between. EDI counts the passes.
      const m = pmMachine([
        'mov esp, 0x90000', 'call setup_paging', 'mov ecx, 40', 'xor esi, esi', 'xor edi, edi', 'jmp l',
        'flip: test ecx, 7', 'jnz other', 'xor dword [0x21000 + 0x300*4], 0x1000', 'invlpg [0x300000]', 'jmp l',
        'other: invlpg [0x200000]', 'invlpg [0x201000]',
        // A direct CALL, which the warm dispatcher follows from the block before without the run loop.
        'l: inc edi', 'call (0x300000 - 0x7c00 + $$)',
        'dec ecx', 'jnz flip', 'hlt',
      ].join('\n'), {}, options, hostArea);
      placeRoutines(m, [[0x300000, 'add esi, 1'], [0x300000, 'add esi, 100', 0x301000]]);
      expect(m.cpu.run(100_000)).toBe('halt');
      // The mapping flips before the passes with ECX 32, 24, 16 and 8: eight passes of each routine
      // in turn, three times the first (ADD 1), twice the second (ADD 100).
      expect(m.cpu.getRegisters()).toMatchObject({ esi: 3 * 8 * 1 + 2 * 8 * 100, edi: 40 });
      if (hostArea !== 0) expect(m.cpu.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(0);
    });

    it.each(tiers)('%s: kept across system calls that reload the same CS and INVLPG a data page, emptied by an INVLPG of their page', (_, options, hostArea) => {
      // Ring 3 calls the routine at 0x300000 through EDX and then INT 0x81 on each pass; the
      // kernel's handler runs INVLPG of `page`, reloads its own CS with a far JMP and IRETs. What a
      // linear address runs changes only when `page` is the routine's: the jump caches are emptied
      // (CpuStat.FetchEpochs) on every pass then, and never on a pass for the data page.
      const run = (page: number, passes: number) => {
        const m = pmMachine([
          // The kernel's stack away from the pages of this code too.
          'call setup_paging', `mov ecx, ${passes}`, 'xor esi, esi', 'mov dword [0x604], 0x98000',
          ...toRing3('user'),
          'user: mov edx, 0x300000', 'call edx', 'int 0x81', 'dec ecx', 'jnz user', 'int 0x80',
        ].join('\n'), { int81: `invlpg [0x${page.toString(16)}]\njmp 0x08:A(same_cs)\nsame_cs: iretd` }, options, hostArea);
        placeRoutines(m, [[0x300000, 'add esi, 1']]);
        expect(m.cpu.run(1_000_000)).toBe('halt');
        expect(record(m).vector).toBe(0x80);
        expect(m.cpu.getRegisters().esi).toBe(passes);
        if (hostArea !== 0) expect(m.cpu.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(0);
        return m.cpu.stats[CpuStat.FetchEpochs]!;
      };
      expect(run(0x200000, 400)).toBe(run(0x200000, 200));
      expect(run(0x300000, 400) - run(0x300000, 200)).toBeGreaterThanOrEqual(200);
    });

    it.each(tiers)('%s: not when CS becomes 16-bit with the same base and limit', (_, options, hostArea) => {
      // 40 (INC EAX in 32-bit code, INC AX in 16-bit code), then RET: run 3,000 times from the flat
      // 32-bit CS, then once from CS 0x50 (base 0, limit 4 GiB - 1, 16-bit), returning to a HLT.
      const m = pmMachine([
        'mov dword [A(gdt) + 0x50], 0x0000ffff', 'mov dword [A(gdt) + 0x54], 0x008f9b00',
        'mov esp, 0x90000', 'mov ecx, 3000',
        'l: mov eax, 0xffff', 'call (0xf000 - 0x7c00 + $$)', 'dec ecx', 'jnz l',
        'mov ebx, eax', 'mov eax, 0xffff', 'push dword A(done)', 'jmp dword 0x50:0xf000',
        'done: hlt',
      ].join('\n'), {}, options, hostArea);
      placeRoutines(m, [[0xf000, 'inc eax']]);
      expect(m.cpu.run(100_000)).toBe('halt');
      // 32-bit: 0xffff + 1; 16-bit: AX wraps to 0 and the upper half stays 0.
      expect(m.cpu.getRegisters()).toMatchObject({ ebx: 0x10000, eax: 0, cs: 0x50 });
      if (hostArea !== 0) expect(m.cpu.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(0);
    });

    it('not past a new CS limit: the instruction that crosses it raises #GP', () => {
      // The routine at 0xfff0 (three 3-byte ADDs and a RET) is compiled under the flat CS 0x08; then
      // CS becomes 0x50 (base 0, limit 0xfff7) and the third ADD (0xfff6-0xfff8) crosses the limit.
      const m = pmMachine([
        'mov dword [A(gdt) + 0x50], 0x0000fff7', 'mov dword [A(gdt) + 0x54], 0x00409b00',
        'mov esp, 0x90000', 'mov ecx, 5', 'xor esi, esi',
        'l: mov edx, 0xfff0', 'call edx', 'dec ecx', 'jnz l',
        'jmp dword 0x50:A(l)',
      ].join('\n'), {}, { compileThreshold: 1 });
      placeRoutines(m, [[0xfff0, 'add esi, 1\nadd esi, 1\nadd esi, 1']]);
      expect(m.cpu.run(100_000)).toBe('halt');
      expect(record(m)).toMatchObject({ vector: 13, error: 0, eip: 0xfff6, cs: 0x50 });
      expect(m.cpu.getRegisters().esi).toBe(5 * 3 + 2);
    });

    it('raise #GP(0) at a branch beyond a CS limit below 4 GiB, and leave a followed call whose run crosses it', () => {
      // Under CS 0x50 (base 0, limit 0xffff) a loop of 300 passes calls the routine at 0xfff8 (two
      // 3-byte ADDs, then a 6-byte one that crosses the limit: the CALL is followed into a run past
      // it, so the block leaves there and the run loop raises the #GP at 0xfffe) on the pass
      // `callAt`, and on the pass `jumpAt` a JE to 0x20000 (#GP(0) at the JE).
      const run = (callAt: number, jumpAt: number, options: Partial<CpuOptions>) => {
        const m = pmMachine([
          'mov dword [A(gdt) + 0x50], 0x0000ffff', 'mov dword [A(gdt) + 0x54], 0x00409b00',
          'mov esp, 0x90000', 'xor esi, esi', 'jmp dword 0x50:A(go)',
          'go: mov ecx, 300',
          `l: cmp ecx, ${callAt}`, 'jne skip', 'call (0xfff8 - 0x7c00 + $$)',
          `skip: cmp ecx, ${jumpAt}`, 'je (0x20000 - 0x7c00 + $$)', 'add esi, ecx', 'dec ecx', 'jnz l', 'hlt',
        ].join('\n'), {}, options);
        placeRoutines(m, [[0xfff8, 'add esi, 1\nadd esi, 1\nadd esi, 0x12345678']]);
        expect(m.cpu.run(1_000_000)).toBe('halt');
        return { rec: record(m), regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired };
      };
      for (const [callAt, jumpAt, eip] of [[7, 0, 0xfffe], [-1, 5, -1]] as const) {
        const interpreted = run(callAt, jumpAt, { compileBlocks: false });
        expect(interpreted.rec).toMatchObject({ vector: 13, error: 0, cs: 0x50 });
        if (eip >= 0) expect(interpreted.rec.eip).toBe(eip);
        expect(run(callAt, jumpAt, { compileThreshold: 1 })).toEqual(interpreted);
        expect(run(callAt, jumpAt, { compileThreshold: 50 })).toEqual(interpreted);
      }
    });

    it('not from ring 3 into a supervisor page compiled at ring 0: #PF', () => {
      const m = pmMachine([
        'mov esp, 0x90000', 'call setup_paging', 'and dword [0x21000 + 0x300*4], ~4', 'invlpg [0x300000]',
        // Nothing between the loop and the ring-3 call may write to a page of this code (which would
        // empty the jump caches): the ring-3 descriptors are marked accessed beforehand, and the
        // ring-3 stack is away from this code (toRing3).
        'or byte [A(gdt) + 0x1d], 1', 'or byte [A(gdt) + 0x25], 1',
        'mov ecx, 5', 'xor esi, esi',
        'l: mov edx, 0x300000', 'call edx', 'dec ecx', 'jnz l',
        ...toRing3('user'),
        'user: mov edx, 0x300000', 'call edx', 'hlt',
      ].join('\n'), {}, { compileThreshold: 1 });
      placeRoutines(m, [[0x300000, 'add esi, 1']]);
      expect(m.cpu.run(100_000)).toBe('halt');
      // Present, user-mode read (the fetch) of a supervisor page.
      expect(record(m)).toMatchObject({ vector: 14, error: 5, cr2: 0x300000, eip: 0x300000, cs: 0x1b });
      expect(m.cpu.getRegisters().esi).toBe(5);
    });
  });

  describe('following a Jcc that the block loop saw taken nearly always', () => {
    // JNE is taken on all but one pass (ECX = 7): compiled, the block goes on at its target (a run
    // with a store, a DIV that faults when ECX reaches `zeroAt`, and the back edge) and leaves the
    // block only when it is not taken.
    const loop = (zeroAt: number): string => `
        mov esp, 0x90000
        mov ecx, 3000
        xor eax, eax
        xor ebx, ebx
      l: inc eax
        cmp ecx, 7
        jne ahead
        add ebx, 100
        jmp cont
        times 40 nop
      ahead: add ebx, 1
        mov [0x5000 + ebx*4], eax
        mov esi, ecx
        sub esi, ${zeroAt}
        push eax
        mov eax, 1000
        xor edx, edx
        div esi
        pop eax
      cont: dec ecx
        jnz l
        hlt`;
    const run = (zeroAt: number, options: Partial<CpuOptions>) => {
      const m = flat(loop(zeroAt), options);
      const stop = m.cpu.run(1_000_000);
      return { stop, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, stored: m.memory.readPhys32(0x5000 + 4 * 1500), compiled: m.cpu.stats[CpuStat.BlocksCompiled] };
    };

    it('leave the block where the branch is not taken and compute what the block loop computes', () => {
      const interpreted = run(-1, { compileBlocks: false });
      expect(interpreted.stop).toBe('halt');
      for (const threshold of [100, 1000]) {
        const compiled = run(-1, { compileThreshold: threshold });
        expect(compiled.compiled).toBeGreaterThan(0);
        expect({ ...compiled, compiled: 0 }).toEqual({ ...interpreted, compiled: 0 });
      }
    });

    it('fault in the run at the target with that instruction\'s EIP and the count of those before it', () => {
      const interpreted = run(20, { compileBlocks: false });
      expect(interpreted.stop).toBe('exception');
      const compiled = run(20, { compileThreshold: 100 });
      expect(compiled.compiled).toBeGreaterThan(0);
      expect({ ...compiled, compiled: 0 }).toEqual({ ...interpreted, compiled: 0 });
    });

    it('get their compiled function back, following the same branches, after the pool started over', () => {
      // The loop runs, 327,680 single-run \`mov eax, ebx\` overflow the decoded-slot pool, and the loop
      // runs again: its blocks are rebuilt (following the same Jcc) and take their kept functions.
      const source = `
          mov esp, 0x90000
          xor ebx, ebx
          mov edi, 2
        outer: mov ecx, 3000
        l: cmp ecx, 7
          jne ahead
          add ebx, 100
          jmp cont
          times 40 nop
        ahead: add ebx, 1
        cont: dec ecx
          jnz l
          push ebx
          mov edx, 0x100000
          call edx
          pop ebx
          dec edi
          jnz outer
          hlt`;
      const sled = (options: Partial<CpuOptions>) => {
        const m = flat(source, options);
        for (let a = 0x100000; a < 0x1a0000; a += 2) m.memory.ram.set([0x89, 0xd8], a);
        m.memory.ram[0x1a0000] = 0xc3;
        expect(m.cpu.run(2_000_000)).toBe('halt');
        return m;
      };
      const interpreted = sled({ compileBlocks: false });
      const compiled = sled({ compileThreshold: 100 });
      expect(compiled.cpu.getRegisters()).toEqual(interpreted.cpu.getRegisters());
      expect(compiled.cpu.getRegisters().ebx).toBe(2 * (2999 + 100));
      // The loop's two hot blocks, compiled once each: rebuilt after the restart with the same Jcc
      // followed, they are the code their kept functions were compiled from (the sled's blocks run
      // once and never compile).
      expect(compiled.cpu.stats[CpuStat.BlocksCompiled]).toBe(2);
    });
  });

  it('restart a faulting instruction in the middle of a compiled block with the count of those before it', () => {
    // Loop twice through a block whose 4th instruction divides by EDX, which is 0 on the second run.
    const m = flat(`
      mov ebx, 2
    l: mov eax, 100
      xor edx, edx
      mov ecx, ebx
      div ecx
      dec ebx
      jnz l
      hlt`, { compileThreshold: 1 });
    m.cpu.countInstructionMix = true;
    expect(m.cpu.run(1000)).toBe('halt');
    // No fault: 1 + 2 * 6 + 1 instructions. Now make the divisor 0 and rerun the loop block.
    expect(m.cpu.instructionsRetired).toBe(14);
    m.cpu.setRegisters({ eip: 0x1000 + asm('mov ebx, 2', 32, 0x1000).length, ebx: 0 });
    expect(m.cpu.run(1000)).toBe('exception');
    expect(m.cpu.lastException?.vector).toBe(0); // #DE
    const regs = m.cpu.getRegisters();
    expect(regs.eip).toBe(0x1000 + asm('mov ebx, 2\nl: mov eax, 100\nxor edx, edx\nmov ecx, ebx', 32, 0x1000).length);
    expect(m.cpu.instructionsRetired).toBe(14 + 3);
    const mix = Array.from(m.cpu.instructionMix).reduce((a, b) => a + b, 0);
    expect(mix).toBe(m.cpu.instructionsRetired);
    expect(m.cpu.instructionMix[InstructionClass.System]).toBe(1); // the HLT of the first run
  });

  it('fault in an inline memory access with the EIP of that instruction and the ones before it retired', () => {
    const m = flat(`
      mov ecx, 3
    l: mov eax, [0x2000]
      add eax, 1
      mov [0x2000], eax
      dec ecx
      jnz l
      xor ax, ax
      mov fs, ax
      mov ebx, 7
    f: mov edx, [fs:0x100]
      hlt`, { compileThreshold: 1 });
    m.memory.writePhys32(0x2000, 40);
    expect(m.cpu.run(1000)).toBe('exception');
    expect(m.cpu.lastException).toMatchObject({ vector: 13, errorCode: 0 }); // a null FS
    const source = 'mov ecx, 3\nl: mov eax, [0x2000]\nadd eax, 1\nmov [0x2000], eax\ndec ecx\njnz l\nxor ax, ax\nmov fs, ax\nmov ebx, 7';
    expect(m.cpu.getRegisters()).toMatchObject({ eip: 0x1000 + asm(source, 32, 0x1000).length, ebx: 7, edx: 0x619 }); // EDX keeps its reset value: the load did not complete
    expect(m.cpu.instructionsRetired).toBe(1 + 3 * 5 + 3);
    expect(m.memory.readPhys32(0x2000)).toBe(43);
    expect(m.cpu.stats[CpuStat.BlocksCompiled]).toBeGreaterThanOrEqual(2);
  });

  it('take #PF with CR2 and the faulting EIP from an inline load under paging, and honour read-only pages', () => {
    // Identity paging; the loop stores to 0x300000 + 4*i for i = 0..; page 0x302 is not present,
    // page 0x301 is read-only (a supervisor write with CR0.WP = 0 still succeeds there).
    const main = [
      'call setup_paging',
      'mov dword [0x21000 + 0x302*4], 0',
      'and dword [0x21000 + 0x301*4], ~2',
      'mov eax, cr3', 'mov cr3, eax',
      'mov edi, 0x300000', 'mov ecx, 0x1000',
      'l: mov eax, [edi]', 'add eax, ecx', 'mov [edi], eax', 'add edi, 4', 'dec ecx', 'jnz l',
      'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      m.memory.writePhys32(0x300000, 5);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { rec: record(m), regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, words: [0x300000, 0x300ffc, 0x301000, 0x301ffc].map((a) => m.memory.readPhys32(a)) };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.rec.vector).toBe(14);
    expect(interpreted.rec.cr2).toBe(0x302000);
    expect(interpreted.rec.error).toBe(0); // the load of the not-present page faults first (read, CPL 0)
    expect(compiled).toEqual(interpreted);
  });

  it('run LODS and SCAS (no REP) as the handlers do: strcmp both ways, dword forms, a segment override, and a #PF part-way', () => {
    // Each of 200 passes compares two 100-byte strings with LODSB/SCASB (as Linux's strcmp does),
    // after flipping a bit of the second at EBX (past the terminator from EBX = 100 on), then runs
    // LODSD/SCASD down from the top of the pages with DF set and LODSB through FS (based at 0x1000). The last loop
    // reads into the not-present page 0x302000: #PF at the LODSB with ESI not advanced.
    const main = [
      'call setup_paging', 'mov dword [0x21000 + 0x302*4], 0', 'mov eax, cr3', 'mov cr3, eax',
      // FS: a flat data segment based at 0x1000.
      'mov dword [A(gdt) + 0x50], 0x1000ffff', 'mov dword [A(gdt) + 0x54], 0x00cf9200', 'mov ax, 0x50', 'mov fs, ax',
      'mov ebx, 200', 'xor edx, edx', 'xor ebp, ebp',
      'outer: xor byte [0x301000 + ebx], 1', 'mov esi, 0x300000', 'mov edi, 0x301000',
      's: lodsb', 'scasb', 'jne diff', 'test al, al', 'jnz s', 'xor eax, eax', 'jmp done',
      'diff: sbb eax, eax', 'or al, 1',
      'done: add edx, eax', 'lea edx, [edx + esi*2]', 'add edx, edi', 'xor byte [0x301000 + ebx], 1',
      'std', 'mov esi, 0x300ff0', 'mov edi, 0x301ff0', 'mov ecx, 16',
      'b: lodsd', 'scasd', 'setb ah', 'seto al', 'add ebp, eax', 'dec ecx', 'jnz b',
      'cld', 'mov ecx, 8',
      'f: fs lodsb', 'add ebp, eax', 'dec ecx', 'jnz f',
      'dec ebx', 'jnz outer',
      'mov esi, 0x301ff0',
      'p: lodsb', 'add edx, eax', 'jmp p',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      for (let i = 0; i < 100; i++) {
        const v = ((i * 37) & 0x7f) | 1;
        m.memory.ram[0x300000 + i] = v;
        m.memory.ram[0x301000 + i] = v;
      }
      for (let i = 0xf00; i < 0x1000; i++) {
        m.memory.ram[0x300000 + i] = (i * 13) & 0xff;
        m.memory.ram[0x301000 + i] = (i * 11) & 0xff;
      }
      expect(m.cpu.run(2_000_000)).toBe('halt');
      return { rec: record(m), regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired };
    };
    const interpreted = run({ compileBlocks: false });
    expect(interpreted.rec).toMatchObject({ vector: 14, cr2: 0x302000, error: 0 });
    expect(interpreted.regs.esi).toBe(0x302000);
    expect(run({ compileThreshold: 1 })).toEqual(interpreted);
    expect(run({ compileThreshold: 100 })).toEqual(interpreted);
  });

  it('take stack-frame accesses through the page they remember only while it is the same page, and only for their own kind of access', () => {
    // Identity paging with CR0.WP: EBP walks up through 0x300000-0x302fff in steps of 6 bytes, so
    // the loads and stores around it cross pages and come unaligned at the ends; page 0x301 is
    // read-only, so the first store into it faults after loads from it went through.
    const main = [
      'call setup_paging',
      'and dword [0x21000 + 0x301*4], ~2',
      'mov eax, cr0', 'or eax, 0x10000', 'mov cr0, eax',
      'mov eax, cr3', 'mov cr3, eax',
      'mov ebp, 0x300000', 'mov ecx, 0x800',
      'l: mov eax, [ebp]', 'mov edx, [ebp + 8]', 'add eax, edx', 'mov [ebp + 4], eax', 'mov [ebp - 4], ecx', 'add ebp, 6', 'dec ecx', 'jnz l',
      'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      for (let a = 0x300000; a < 0x303000; a += 4) m.memory.writePhys32(a, a * 7);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      const words: number[] = [];
      for (let a = 0x2ffffc; a < 0x303000; a += 4) words.push(m.memory.readPhys32(a));
      return { rec: record(m), regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, words };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.rec.vector).toBe(14);
    expect(interpreted.rec.error).toBe(3); // a write to a present page, at CPL 0
    expect(compiled).toEqual(interpreted);
  });

  it('check the stack segment\'s limit on stack-frame accesses to a page they remember', () => {
    // SS (GDT slot 0x50): base 0x300000, byte-granular limit 0x17ff. EBP walks up from 4 in steps of
    // 6; [EBP + 8] passes the limit in the middle of the page the accesses before it went to.
    const main = [
      'mov dword [A(gdt) + 0x50], 0x000017ff', 'mov dword [A(gdt) + 0x54], 0x00409230',
      'mov ax, 0x50', 'mov ss, ax', 'mov esp, 0x1000', // the #SS handler's frame goes there
      'mov ebp, 4', 'mov ecx, 0x800',
      'l: mov eax, [ebp]', 'mov edx, [ebp + 8]', 'add eax, edx', 'mov [ebp + 4], eax', 'add ebp, 6', 'dec ecx', 'jnz l',
      'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      // The exception handlers record through SS, so the record is at SS.base + 0x500.
      const rec = [0x500, 0x504, 0x50c].map((a) => m.memory.readPhys32(0x300000 + a));
      return { rec, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, stored: m.memory.readPhys32(0x3017f0) };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.rec.slice(0, 2)).toEqual([12, 0]); // #SS(0)
    expect(compiled).toEqual(interpreted);
  });

  it('use a data segment\'s new base and limit after a segment load in the middle of a compiled block', () => {
    // GDT slot 0x50: a flat data segment based at 0x10000. Each pass of the one-block loop reads
    // [ES:0x2000] through the flat ES, then through 0x50 (0x12000), then writes through 0x50.
    const main = [
      'mov dword [A(gdt) + 0x50], 0x0000ffff', 'mov dword [A(gdt) + 0x54], 0x00cf9201',
      'mov dword [0x2000], 5', 'mov dword [0x12000], 9', 'xor ebx, ebx', 'mov ecx, 200',
      'l: mov ax, 0x10', 'mov es, ax', 'mov eax, [es:0x2000]', 'mov dx, 0x50', 'mov es, dx', 'add eax, [es:0x2000]',
      'add ebx, eax', 'mov [es:0x2004], ebx', 'dec ecx', 'jnz l', 'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, stored: [m.memory.readPhys32(0x2004), m.memory.readPhys32(0x12004)], compiled: m.cpu.stats[CpuStat.BlocksCompiled] };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.regs.ebx).toBe(200 * 14);
    expect(interpreted.stored).toEqual([0, 200 * 14]);
    expect(compiled.compiled).toBeGreaterThan(0);
    expect({ ...compiled, compiled: 0 }).toEqual({ ...interpreted, compiled: 0 });
  });

  it('keep registers in locals without losing what a handler that faults part-way did to them', () => {
    // Each pass writes AL and AH (byte registers of the EAX local) and EDX, then a REP MOVSD of 0x50
    // dwords (a handler call) moves EDI on by 0x140 bytes; page 0x303 is not present, so one pass's
    // copy faults part-way through with ECX, ESI and EDI showing its progress.
    const main = [
      'call setup_paging',
      'mov dword [0x21000 + 0x303*4], 0',
      'mov eax, cr3', 'mov cr3, eax',
      'mov edi, 0x300000', 'xor edx, edx', 'mov ebx, 0x50',
      'l: mov al, dl', 'mov ah, 7', 'add edx, 3', 'mov esi, 0x200000', 'mov ecx, ebx', 'rep movsd', 'bswap edx', 'bswap edx', 'jmp l',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      for (let a = 0x200000; a < 0x200140; a += 4) m.memory.writePhys32(a, a ^ 0x5a5a5a5a);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { rec: record(m), regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, last: m.memory.readPhys32(0x302ffc) };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.rec).toMatchObject({ vector: 14, cr2: 0x303000 });
    expect(interpreted.regs.ecx).toBeGreaterThan(0);
    expect(interpreted.regs.ecx).toBeLessThan(0x50);
    expect(compiled).toEqual(interpreted);
  });

  it('take frame slots ([EBP + disp]) to the dword EBP and the translation now give, after EBP moves (inline or in a handler) and after an INVLPG', () => {
    // Page 0x300 maps to 0x300000 or 0x301000 in turn: each pass reads [EBP + 8], flips the page
    // table entry, INVLPGs it and reads [EBP + 8] again; then moves EBP up by 16, reads, stores and
    // moves it back, with inline code and then with XCHG (a handler call). Each physical page holds
    // its own values.
    const main = [
      'call setup_paging',
      'mov ebp, 0x300100', 'mov ecx, 300', 'xor ebx, ebx',
      'l: mov eax, [ebp + 8]', 'add ebx, eax',
      'xor dword [0x21000 + 0x300*4], 0x1000', 'invlpg [ebp]',
      'mov eax, [ebp + 8]', 'add ebx, eax',
      'mov esi, ebp', 'add esi, 16', 'mov ebp, esi', 'add ebx, [ebp + 8]', 'mov [ebp + 8], ebx', 'sub ebp, 16',
      'lea esi, [ebp + 16]', 'xchg ebp, esi', 'add ebx, [ebp + 8]', 'xchg ebp, esi', 'add ebx, [ebp + 8]',
      'dec ecx', 'jnz l', 'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      m.memory.writePhys32(0x300108, 1); m.memory.writePhys32(0x301108, 100);
      m.memory.writePhys32(0x300118, 10000); m.memory.writePhys32(0x301118, 1000000);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, stored: [m.memory.readPhys32(0x300118), m.memory.readPhys32(0x301118)], compiled: m.cpu.stats[CpuStat.BlocksCompiled] };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.regs.ebx).not.toBe(0);
    expect(compiled.compiled).toBeGreaterThan(0);
    expect({ ...compiled, compiled: 0 }).toEqual({ ...interpreted, compiled: 0 });
  });

  it('take accesses compiled for a flat segment through the segment\'s base once it is not flat, also to a page a flat access remembered', () => {
    // GDT slot 0x50: a data segment based at 0x10000, marked accessed (so loading it writes nothing
    // into the GDT, which shares its page with the code: no block is rebuilt). The one-block loop is
    // compiled while ES is flat; on the second outer pass ES has the base, and [ES:ESP + 4] is in
    // the page [ESP] (flat SS) just went to.
    const main = [
      'mov dword [A(gdt) + 0x50], 0x0000ffff', 'mov dword [A(gdt) + 0x54], 0x00cf9301',
      'mov esp, 0x3000', 'xor ebx, ebx', 'mov ecx, 2',
      'outer: mov edx, 100',
      'l: mov eax, [esp]', 'add ebx, [es:esp + 4]', 'add ebx, eax', 'dec edx', 'jnz l',
      'mov ax, 0x50', 'mov es, ax', 'dec ecx', 'jnz outer', 'hlt',
    ].join('\n');
    const run = (options: Parameters<typeof pmMachine>[2]) => {
      const m = pmMachine(main, {}, options);
      m.memory.writePhys32(0x3004, 1); m.memory.writePhys32(0x13004, 1000);
      expect(m.cpu.run(1_000_000)).toBe('halt');
      return { regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, compiled: m.cpu.stats[CpuStat.BlocksCompiled] };
    };
    const interpreted = run({ compileBlocks: false });
    const compiled = run({ compileThreshold: 1 });
    expect(interpreted.regs.ebx).toBe(100 * 1 + 100 * 1000);
    expect(compiled.compiled).toBeGreaterThan(0);
    expect({ ...compiled, compiled: 0 }).toEqual({ ...interpreted, compiled: 0 });
  });

  it('run the instructions a forward Jcc skips inside the block, nested, with flags, counts and faults as the block loop has them', () => {
    // One-block loop with a skip, a skip nested in it, flags deferred across each join, and a
    // carry read after one; then a block whose skipped instructions fault on the last pass.
    const loop = `
      mov ecx, 300
      mov esi, 0x40000
      xor ebx, ebx
    l: mov eax, [esi + ecx*4]
      test eax, 1
      jz .even
      add ebx, eax
      cmp eax, 100
      jb .small
      xor ebx, 0x55
      shl ebx, 1
    .small:
      inc ebx
    .even:
      sub ebx, 3
      jc .borrow
      rol ebx, 1
    .borrow:
      adc ebx, 0
      dec ecx
      jnz l
      hlt`;
    const faulting = `
      mov ecx, 5
    l: cmp ecx, 1
      jne .skip
      xor ax, ax
      mov fs, ax
      mov edx, [fs:0x100]
    .skip:
      add ebx, ecx
      dec ecx
      jnz l
      hlt`;
    const run = (source: string, options: Partial<CpuOptions>) => {
      const m = flat(source, options);
      for (let i = 0; i <= 300; i++) m.memory.writePhys32(0x40000 + i * 4, Math.imul(i + 1, 0x9e3779b9) >>> 23);
      const stop = m.cpu.run(1_000_000);
      return { stop, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, exception: m.cpu.lastException?.vector ?? null };
    };
    for (const source of [loop, faulting]) {
      const interpreted = run(source, { compileBlocks: false });
      const compiled = run(source, { compileThreshold: 1 });
      expect(compiled).toEqual(interpreted);
    }
    expect(run(loop, {}).stop).toBe('halt');
    const fault = run(faulting, { compileThreshold: 1 });
    expect(fault).toMatchObject({ stop: 'exception', exception: 13, retired: 1 + 4 * 5 + 4 });
    expect(fault.regs.eip).toBe(0x1000 + asm('mov ecx, 5\nl: cmp ecx, 1\njne .skip\nxor ax, ax\nmov fs, ax\n.skip:', 32, 0x1000).length);
  });

  it('give a fault after an INC whose carry comes from before the block the INC\'s flags with that carry', () => {
    // The INC starts its block (entered through JMP EBP), so its CF is CpuCore's; the XOR after the
    // load replaces all its flags, so only a fault in the load sees them: the last pass enters with
    // CF = 1 and ECX = 0x7fffffff (OF, SF, AF, PF set by the INC) and a null FS.
    const source = `
      mov edx, 5
      mov ebp, m
    l: inc ecx
      mov eax, [fs:0x2000]
      xor esi, esi
      jmp ebp
    m: dec edx
      jnz l
      xor ax, ax
      mov fs, ax
      mov ecx, 0x7fffffff
      stc
      jmp l`;
    const run = (options: Partial<CpuOptions>) => {
      const m = flat(source, options);
      const stop = m.cpu.run(10_000);
      return { stop, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, exception: m.cpu.lastException?.vector ?? null };
    };
    const interpreted = run({ compileBlocks: false });
    expect(interpreted).toMatchObject({ stop: 'exception', exception: 13 });
    expect(interpreted.regs.eflags & 0x8d5).toBe(0x895); // OF SF AF PF CF; not ZF
    for (const threshold of [1, 2, 4]) expect(run({ compileThreshold: threshold })).toEqual(interpreted);
  });

  /** A loop of six passes running `body` first, whose fifth pass makes FS null (so a load through FS in `body` faults on the sixth). */
  const fsNulledBeforeLastPass = (body: string): string => `
      mov ecx, 6
      xor ax, ax
    l: ${body}
      cmp ecx, 2
      jne .keep
      mov fs, ax
    .keep:
      sub ecx, 1
      ja l
      hlt`;

  it('keep flags deferred round a loop\'s back edge and across the join after a forward Jcc for what reads them, faults and budget stops', () => {
    // Each loop's last flag-setting instruction before its back edge leaves its flags deferred; the
    // next pass reads them before anything replaces them (SETcc, ADC/SBB carry-in, INC keeping CF,
    // a Jcc, RCL), or faults first (a load through FS made null on the pass before), and run()
    // stops anywhere in the passes. The same for flags that two paths joining after a forward Jcc
    // left deferred (of the same kind or not). ADC and SBB, whose kind depends on the carry-in,
    // leave theirs deferred too: read by a Jcc, SETcc, INC keeping CF, a carry-in, PUSHF (a handler),
    // the back edge, and a fault after them.
    const loops = [`
      mov ecx, 40
      mov edi, 0x7ffffffe
    l: add eax, 0x40000000
      adc ebx, edi
      jo .overflow
      sbb edx, ecx
      setc bl
    .overflow:
      inc esi
      adc esi, 0
      sbb edi, 0
      pushf
      pop ebp
      adc edx, ebp
      dec ecx
      jnz l
      hlt`, `
      mov ecx, 60
      mov eax, 0xffffff00
    l: add eax, 0x10
      sbb ebx, ecx
      adc edx, 0
      js .negative
      add esi, 1
    .negative:
      dec ecx
      jnz l
      hlt`, fsNulledBeforeLastPass(`
      add eax, 0x60000000
      adc ebx, ecx
      mov edx, [fs:0x100]
      sbb esi, edx`), `
      mov ecx, 40
    l: setc bl
      setz bh
      seto dl
      adc eax, ebx
      inc esi
      add esi, eax
      dec ecx
      jnz l
      hlt`, `
      mov ecx, 40
      mov edi, 0x7ffffff0
    l: sbb eax, edi
      jl .less
      add ebx, 3
    .less:
      inc edi
      cmp edi, 0x80000010
      jne l
      hlt`, `
      mov ecx, 30
      mov eax, 0x80000001
    l: rcl eax, 1
      setc bl
      add edx, ebx
      shl eax, 1
      jnz l
      hlt`, fsNulledBeforeLastPass(`
      mov edx, [fs:0x100]
      imul edx, ecx
      inc ebx`), `
      mov ecx, 50
    l: cmp ecx, 25
      jb .low
      sub edx, ecx
    .low:
      setc bl
      seto bh
      adc eax, ebx
      cmp eax, edx
      ja .high
      add eax, 7
    .high:
      test ecx, 1
      jz .even
      and edi, ecx
    .even:
      jnz .odd
      inc edi
    .odd:
      dec ecx
      jnz l
      hlt`, ...[3, 0].map((low) => fsNulledBeforeLastPass(`
      cmp ecx, ${low}
      jae .big
      sub ebx, ecx
    .big:
      mov edx, [fs:0x100]`))];
    for (const source of loops) {
      for (const step of [1, 3, 7, 1_000]) {
        const lockstep = (options: Partial<CpuOptions>) => {
          const m = flat(source, options);
          const trace: unknown[] = [];
          for (let stop = 'budget'; stop === 'budget' && trace.length < 2_000;) {
            stop = m.cpu.run(step);
            trace.push([stop, m.cpu.getRegisters(), m.cpu.instructionsRetired, m.cpu.lastException?.vector ?? null]);
          }
          return trace;
        };
        const interpreted = lockstep({ compileBlocks: false });
        expect(interpreted.at(-1)).toEqual(expect.arrayContaining([expect.stringMatching(/halt|exception/)]));
        for (const threshold of [1, 3]) expect(lockstep({ compileThreshold: threshold })).toEqual(interpreted);
      }
    }
  });

  it('reject a compile threshold outside 1-65535', () => {
    expect(() => flat('hlt', { compileThreshold: 0 })).toThrow(CpuConfigurationError);
    expect(() => flat('hlt', { compileThreshold: 70000 })).toThrow(/compileThreshold/);
  });
});
