import { describe, expect, it } from 'vitest';
import { guestPhys, PhysicalMemory } from '@typevisor/mmu';
import { Cpu, CPU_HOST_AREA_BYTES, CpuConfigurationError, CpuStat, type CpuOptions } from '@typevisor/cpu-x86';
import { asm, RecordingIo, TestInterrupts } from './support/harness.js';

/**
 * Warm blocks (src/wasm/warm-blocks.ts) run as WebAssembly over the same state: every program here
 * runs with them and without (the block loop), stopping run() every 1, 3, 7 and 1,000 instructions,
 * and the two traces (stop reason, registers with EFLAGS, retired count, exception, the x87 state)
 * and the memory they wrote must be the same.
 */
function warmMachine(source: string, options: Partial<CpuOptions>, setup?: (memory: PhysicalMemory) => void) {
  const memory = new PhysicalMemory({ ramSize: 4 << 20, hostAreaBytes: CPU_HOST_AREA_BYTES });
  const cpu = new Cpu({ memory, io: new RecordingIo(), interrupts: new TestInterrupts(), stopOnException: true, compileThreshold: 65535, ...options });
  memory.ram.set(asm(source, 32, 0x1000), 0x1000);
  setup?.(memory);
  cpu.enterFlatProtectedMode(0);
  cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
  return { cpu, memory };
}

/** Blocks the last traced run made warm, and translated into WebAssembly. */
let warmed = 0, translated = 0;
/** Blocks translated over the whole file (the tests of translations below check that some were), and blocks they took into their regions. */
let translatedInAll = 0, regionMembersInAll = 0;

function trace(source: string, step: number, options: Partial<CpuOptions>, setup?: (memory: PhysicalMemory) => void): unknown[] {
  const { cpu, memory } = warmMachine(source, options, setup);
  const out: unknown[] = [];
  for (let stop = 'budget'; stop === 'budget' && out.length < 5_000;) {
    stop = cpu.run(step);
    out.push([stop, cpu.getRegisters(), cpu.instructionsRetired, cpu.lastException?.vector ?? null, cpu.saveState().fpu]);
  }
  out.push(Array.from(memory.ram.subarray(0x5000, 0x7000)));
  warmed = cpu.stats[CpuStat.BlocksWarmed]!;
  translated = cpu.stats[CpuStat.BlocksTranslated]!;
  translatedInAll += translated;
  regionMembersInAll += cpu.stats[CpuStat.RegionMembers]!;
  return out;
}

/** The same program with warm blocks (warm after 1 and 3 runs) and without, at every step size. */
function expectSameAsBlockLoop(source: string, setup?: (memory: PhysicalMemory) => void): void {
  for (const step of [1, 3, 7, 1_000]) {
    const reference = trace(source, step, { warmBlocks: false }, setup);
    expect(reference.at(-2)).toEqual(expect.arrayContaining([expect.stringMatching(/halt|exception/)]));
    expect(warmed).toBe(0);
    for (const warmThreshold of [1, 3]) {
      expect(trace(source, step, { warmBlocks: true, warmThreshold }, setup)).toEqual(reference);
      // (A block runs, and is counted, only when the whole of it fits in what is left of the step.)
      if (step === 1_000) expect(warmed).toBeGreaterThan(0);
    }
    // Hot blocks translated into WebAssembly (src/wasm/hot-blocks.ts), from their first and their third run.
    for (const compileThreshold of [1, 3]) {
      expect(trace(source, step, { warmBlocks: true, warmThreshold: 1, compileThreshold, wasmHotBlocks: true }, setup)).toEqual(reference);
    }
  }
}

/** Page tables at 0x100000 that map the first 4 MiB to itself, but for page `page`, whose entry is `entry`. */
function identityPagingBut(memory: PhysicalMemory, page: number, entry: number): void {
  const view = new DataView(memory.ram.buffer, memory.ram.byteOffset);
  view.setUint32(0x100000, 0x101000 | 3, true);
  for (let p = 0; p < 1024; p++) view.setUint32(0x101000 + p * 4, p === page ? entry : (p << 12) | 3, true);
}
/** Turns paging on with the page directory at 0x100000 (identityPagingBut). */
const PAGING_ON = `
      mov eax, 0x100000
      mov cr3, eax
      mov eax, cr0
      or eax, 0x80000000
      mov cr0, eax`;

const COUNTED = (body: string, passes = 40): string => `
      mov ecx, ${passes}
      mov esi, 0x5000
      mov edi, 0x7ffffff0
    l: ${body}
      dec ecx
      jnz l
      hlt`;

/** A loop whose result depends on the constant `k` in its body. */
const COMPUTE = (k: number): string => `
      mov ecx, 50
      xor eax, eax
    l: add eax, ${k}
      lea ebx, [eax * 2 + ${k}]
      xor edx, ebx
      dec ecx
      jnz l
      hlt`;

describe('warm blocks', () => {
  it('compute what the block loop computes: moves, LEA, stack, byte registers', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, [esi + ecx * 4]
      lea edx, [eax + ecx * 8 + 0x1234]
      mov [esi + ecx * 4 + 0x100], edx
      mov dword [esi + 0x800], 0x12345678
      push edx
      push ecx
      pop ebx
      pop eax
      mov ah, cl
      mov [esi + ecx], ah
      mov bl, [esi + ecx + 1]
      mov byte [esi + 0x900], 0x5a
      mov dh, 0x7f
      movzx edx, dh
      movsx ebx, byte [esi + ecx]
      movzx eax, word [esi + 0x802]
      movsx eax, ax
      mov eax, [0x5010]
      mov [0x5020], eax
      mov al, [0x5011]
      mov [0x5031], al`));
  });

  it('compute what the block loop computes: ALU flags read by Jcc, SETcc, CMOVcc, INC/DEC and what comes after the block', () => {
    expectSameAsBlockLoop(COUNTED(`
      add eax, edi
      seto bl
      setc bh
      cmp eax, ecx
      cmovl edx, eax
      setbe [esi + ecx]
      sub edx, 0x1000
      jp .p
      xor edx, ecx
    .p:
      inc edi
      jo .o
      and eax, 0xff00ff
    .o:
      or [esi + 8], eax
      test eax, edx
      jz .z
      sub [esi + 12], ecx
    .z:
      cmp dword [esi + 12], 5
      jge .g
      add eax, [esi + 4]
    .g:
      test byte [esi + ecx], 3
      jnz .n
      xor al, 0x81
    .n:
      add al, bl
      cmp bh, 0x10
      jb .b
      sub cl, 0
    .b:
      test al, 0x40
      sete dl
      and byte [esi + 0x20], 0xf7
      cmp byte [esi + 0x21], 0x80
      ja .a
      or bl, [esi + 0x22]
    .a:
      test [esi + 0x23], bh
      dec edi
      cmp edi, eax
      inc edx
      jc .c
      add eax, edi
      dec ebx
      setc dl
      sub edx, ecx
      inc ebx
      adc edx, 0
    .c:`));
  });

  it('compute what the block loop computes: ADC and SBB in every form, their carry in from an ALU result, the caller or a handler', () => {
    // Multi-precision adds and subtracts (carries out of one into the next), with the flags they
    // leave read by Jcc, SETcc and the next ADC/SBB; the first ADC of the block after .c takes its
    // carry from the block before it (the caller), the one after STC/CMC from a handler.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x9e3779b9
      add [esi], eax
      adc [esi + 4], edx
      adc edx, 0
      sbb [esi + 8], eax
      sbb ebx, [esi + 4]
      adc ebx, [esi]
      seto dl
      sbb eax, 0x7fffffff
      setc dh
      adc eax, ecx
      js .s
      sbb dword [esi + 12], 3
    .s:
      add al, 0xc0
      adc al, 0x70
      sbb bl, al
      adc byte [esi + 16], bl
      sbb bh, [esi + 17]
      adc al, 1
      setp bl
      sbb dword [esi + 20], -1
      cmp eax, ebx
      jmp .c
    .c:
      adc edi, 0x10
      sbb edi, ecx
      jbe .be
      stc
      adc eax, edi
      cmc
      sbb eax, 1
    .be:
      jl .l
      adc edx, edi
    .l:`));
  });

  it('compute what the block loop computes: ALU r/m8, r8 on registers and memory', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x9e3779b9
      add [esi + 24], al
      sub cl, ah
      add cl, ah
      xor [esi + 25], ah
      or [esi + 26], dl
      and [esi + 27], ch
      cmp [esi + 24], bh
      setb dh
      sub [esi + 28], al
      jz .z
      adc [esi + 29], cl
    .z:
      test [esi + 25], al
      sete bl`));
  });

  it('compute what the block loop computes: SHLD and SHRD by constants and by CL (0 included), and the flags they leave', () => {
    // 16-bit and memory forms go to the handler.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x9e3779b9
      mov ebx, eax
      shld eax, edx, 7
      setc dl
      seto dh
      shrd ebx, eax, 31
      jnc .c
      add edi, ebx
    .c:
      push ecx
      and ecx, 7
      shld edi, ebx, cl
      sets bl
      shrd eax, edi, cl
      pop ecx
      jp .p
      xor edi, eax
    .p:
      cmp eax, ebx
      push ecx
      mov ecx, 32
      shrd ebx, eax, cl
      pop ecx
      jae .a
      shld ax, bx, 3
      shrd [esi + 8], eax, 5
    .a:`));
  });

  it('compute what the block loop computes: DIV of a register and of memory, and #DE for a divisor of 0 or a quotient past 32 bits', () => {
    // The flags of the ADD before each DIV are read after it (DIV leaves them as they were).
    const divide = (divisor: string, high: string): string => COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x9e3779b9
      mov [esi + 4], ecx
      mov edx, ${high}
      add edi, eax
      div dword [esi + 4]
      setc bl
      add ebx, eax
      mov eax, edi
      mov edx, ${high}
      mov ebp, ${divisor}
      add edi, 0x7fffffff
      div ebp
      seto bh
      jnc .c
      add edi, edx
    .c:
      xor edi, eax`, 20);
    expectSameAsBlockLoop(divide('0x12345', '7'));
    expectSameAsBlockLoop(divide('ecx', '0'));
    // (After some passes, so that the blocks are warm by then.) EDX reaches the divisor: #DE.
    expectSameAsBlockLoop(divide('ecx', '10'));
    // The divisor reaches 0: #DE.
    expectSameAsBlockLoop(divide('ecx\n      sub ebp, 5', '0'));
  });

  it('compute what the block loop computes: CMPXCHG of a register and of memory, equal and not, with LOCK', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      and eax, 3
      mov ebx, 2
      cmpxchg ebx, edi
      setz dl
      mov [esi + 4], ecx
      mov eax, ecx
      test ecx, 1
      jz .e
      dec eax
    .e:
      lock cmpxchg [esi + 4], edx
      jne .n
      add edi, [esi + 4]
    .n:
      sbb edi, eax
      cmpxchg eax, ebx
      cmpxchg [esi + 8], ax`));
  });

  it('compute what the block loop computes: MUL of a register and of memory, and the flags it leaves', () => {
    // Products with and without a high half (CF and OF), their low half's SF/ZF/PF read by SETcc and
    // Jcc, and a 16-bit MUL, which goes to its handler.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x01000193
      mov [esi + 4], eax
      mov ebx, ecx
      mul ebx
      setc bl
      seto bh
      add edi, edx
      mov eax, ecx
      mul dword [esi + 4]
      sets dl
      jc .c
      add edi, 3
    .c:
      mov eax, 0x10000
      mul ecx
      setz bl
      setp bh
      jno .n
      xor edi, eax
    .n:
      mov eax, ecx
      mul ax
      adc edi, edx`));
  });

  it('hand the flags over both ways around the handlers they call', () => {
    expectSameAsBlockLoop(COUNTED(`
      add eax, edi
      bt edi, 5
      jc .bt
      inc esi
    .bt:
      adc eax, ebx
      setc dh
      cmc
      cmovc edx, ebx
      rcl ebx, 1
      inc ebx
      sbb ebx, ecx
      jno .no
      xor esi, ecx
    .no:
      add edi, 0x01234567`));
  });

  it('compute what the block loop computes: shifts by constants and flags after them', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, edi
      shl eax, 1
      jc .c
      shr edx, 31
    .c:
      sar eax, 5
      seto bl
      shr eax, 3
      jo .o
      shl ebx, 7
    .o:
      setp bh
      add edi, 0x11111111`));
  });

  it('compute what the block loop computes: 16-bit shifts by constants (which translated hot blocks run themselves) and the flags after them', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, edi
      mov edx, edi
      ror edx, 13
      shr dx, 5
      setc bl
      seto bh
      sub eax, edx
      shl ax, 3
      jc .c
      sar dx, 1
      setp bl
    .c:
      mov [esi + ecx * 2 + 0x200], ax
      sar ax, 15
      sets bh
      shl dx, 15
      setz bh
      adc ebx, eax
      mov [esi + ecx * 4 + 0x400], ebx
      add edi, 0x9e3779b9`));
  });

  it('compute what the block loop computes: TEST r16, r16 (which translated hot blocks run themselves) and the flags after it', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, edi
      mov edx, edi
      ror edx, 11
      test dx, ax
      setz bl
      sets bh
      setp dh
      test ax, ax
      jns .p
      add ebx, 0x300
    .p:
      mov [esi + ecx * 4 + 0x200], ebx
      and eax, 0xffff8000
      test ax, ax
      cmovz ebx, edx
      mov [esi + ecx * 4 + 0x400], ebx
      test cx, dx
      setnz al
      mov [esi + ecx * 4 + 0x600], eax
      add edi, 0x9e3779b9`));
  });

  it('compute what the block loop computes: x87 loads and stores of doubles (which translated hot blocks run themselves) in their plain and other cases, across flags', () => {
    // Doubles at 0x5000: 1.5, -0, a denormal, +inf, a NaN, 2^1023 and 3, then an unnormal extended
    // (no integer bit); the loop loads them, stores them and the results of arithmetic (1/3 needs
    // rounding) to 0x5800 + 64 * pass, with compares and flags kept across the x87 instructions, a
    // full stack (FLD with eight values loaded: invalid operation, masked), C1 left set by FXAM (the
    // sign) and cleared by the loads and stores, and FNSTSW AX.
    const doubles = [[0, 0x3ff80000], [0, 0x80000000], [1, 0], [0, 0x7ff00000], [0, 0x7ff80001], [0, 0x7fe00000], [0, 0x40080000]];
    expectSameAsBlockLoop(COUNTED(`
      mov edx, ecx
      shl edx, 6
      mov ebx, ecx
      and ebx, 7
      cmp ebx, 3
      fld qword [esi + ebx * 8]
      fld qword [esi + 48]
      fdivr st0, st1
      fst qword [esi + edx + 0x800]
      fstp st0
      fstp qword [esi + edx + 0x808]
      setb al
      fld qword [esi + 8]
      fld1
      fadd qword [esi]
      fst st1
      fstp qword [esi + edx + 0x810]
      fstp qword [esi + edx + 0x818]
      fnstsw ax
      mov [esi + edx + 0x820], eax
      jae .s
      fld qword [esi + 16]
      fld qword [esi + 24]
      fld qword [esi + 32]
      fld qword [esi + 40]
      fld qword [esi]
      fld qword [esi + 8]
      fld qword [esi + 16]
      fld qword [esi + 24]
      fld qword [esi]
      fnstsw ax
      mov [esi + edx + 0x824], eax
      fstp qword [esi + edx + 0x828]
      fstp qword [esi + edx + 0x830]
      fninit
      fld tword [esi + 56]
      fstp qword [esi + edx + 0x83c]
    .s:
      fnstsw ax
      mov [esi + edx + 0x838], eax
      fld qword [esi + 8]
      fxam
      fstp qword [esi + edx + 0x840]
      fnstsw ax
      mov [esi + edx + 0x844], eax
      fld qword [esi + 8]
      fxam
      fld qword [esi]
      fnstsw ax
      mov [esi + edx + 0x848], eax
      fchs
      fxam
      fstp st1
      fnstsw ax
      mov [esi + edx + 0x84c], eax
      fstp st0
      adc edi, 0x9e3779b9`, 24), (memory) => {
      doubles.forEach(([lo, hi], k) => { memory.write32(guestPhys(0x5000 + k * 8), lo!); memory.write32(guestPhys(0x5004 + k * 8), hi!); });
      memory.write32(guestPhys(0x5038), 0); memory.write32(guestPhys(0x503c), 0x40000000); memory.write16(guestPhys(0x5040), 0x3fff);
    });
  });

  it('compute what the block loop computes: x87 arithmetic, compares and stack moves on doubles (which translated hot blocks run themselves when exact), at every rounding and precision', () => {
    // Doubles at 0x5000: 1.5, 3, -2.25, 0.5, 2^500 (outside the translations' range), -0, 1/3, 7,
    // a NaN, 10; singles at 0x5100: 2.5, -0.75, a denormal, 3; dwords at 0x5180: 5, -7, 0,
    // 2^31 - 1; words at 0x51a0: -3, 1,000, 0, -32,768; control words at 0x51c0: nearest at 64
    // bits, down, 24 bits, 53 bits. Each pass takes other values and another control word: most
    // results are exact (the translation's), some need rounding (1/3, 2^31 - 1 at 24 bits), and
    // 2^500, the denormal and the NaN are always the handler's; the compares see less, equal and
    // greater, an empty register (underflow) and a NaN; FXCH an empty register; every eighth pass
    // fills the stack, so that the pushes overflow.
    const doubles = [1.5, 3, -2.25, 0.5, 2 ** 500, -0, 1 / 3, 7, NaN, 10];
    const singles = [2.5, -0.75, 1e-40, 3];
    expectSameAsBlockLoop(COUNTED(`
      mov edx, ecx
      shl edx, 7
      mov ebx, ecx
      and ebx, 7
      mov eax, ecx
      shr eax, 2
      and eax, 3
      fldcw [esi + 0x1c0 + eax * 2]
      mov eax, ecx
      and eax, 3
      fld qword [esi + ebx * 8]
      fadd qword [esi + ebx * 8 + 8]
      fmul qword [esi + 8]
      fsub dword [esi + 0x100 + eax * 4]
      fsubr qword [esi + 16]
      fmul dword [esi + 0x10c]
      fstp qword [esi + edx + 0x800]
      fld qword [esi + ebx * 8]
      fild dword [esi + 0x180 + eax * 4]
      fadd st0, st1
      fmul st0, st1
      fsub st1, st0
      fsubr st1, st0
      fadd st1, st0
      fmul st1, st0
      fst qword [esi + edx + 0x808]
      fxch st1
      fst qword [esi + edx + 0x810]
      fsubp st1, st0
      fild word [esi + 0x1a0 + eax * 2]
      faddp st1, st0
      fld st0
      fmulp st1, st0
      fild word [esi + 0x1a2]
      fsubrp st1, st0
      fstp qword [esi + edx + 0x818]
      fld qword [esi + ebx * 8]
      fld qword [esi + ebx * 8 + 8]
      fucom st1
      fnstsw ax
      mov [esi + edx + 0x820], ax
      fcom qword [esi + 16]
      fnstsw ax
      mov [esi + edx + 0x822], ax
      fcom dword [esi + 0x100 + eax * 4]
      fnstsw ax
      mov [esi + edx + 0x824], ax
      fcom st1
      fnstsw ax
      mov [esi + edx + 0x826], ax
      ftst
      fnstsw ax
      mov [esi + edx + 0x828], ax
      fucomp st1
      fnstsw ax
      mov [esi + edx + 0x82a], ax
      fld qword [esi + ebx * 8 + 16]
      fcomp st1
      fld st0
      fucompp
      fnstsw ax
      mov [esi + edx + 0x82c], ax
      fld qword [esi + ebx * 8 + 8]
      fld qword [esi + 8]
      fcompp
      fnstsw ax
      mov [esi + edx + 0x82e], ax
      fcomp dword [esi + 0x100]
      fnstsw ax
      mov [esi + edx + 0x830], ax
      fld qword [esi + ebx * 8]
      fxch st3
      fst dword [esi + edx + 0x86c]
      fnstsw ax
      mov [esi + edx + 0x874], ax
      fstp st0
      ffree st2
      fld st4
      fstp dword [esi + edx + 0x870]
      fld1
      fldz
      fld qword [esi + ebx * 8]
      fxch st2
      fchs
      fst qword [esi + edx + 0x834]
      fxch st1
      fabs
      fst qword [esi + edx + 0x83c]
      fld st2
      fstp qword [esi + edx + 0x844]
      fstp st0
      fstp st0
      fstp st0
      fld qword [esi + 8]
      fsub qword [esi + 8]
      fstp qword [esi + edx + 0x84c]
      fld qword [esi + 48]
      fmul qword [esi + 8]
      fld qword [esi + 48]
      fadd qword [esi + ebx * 8 + 8]
      fstp tword [esi + edx + 0x854]
      fstp tword [esi + edx + 0x85e]
      test ecx, 7
      jnz .k
      fld1
      fld st0
      fld st0
      fld st0
      fld st0
      fld st0
      fld st0
      fild dword [esi + 0x180]
      fld st1
      fld1
      fldz
      fild word [esi + 0x1a0]
      fxch st7
      fnstsw ax
      mov [esi + edx + 0x868], ax
      fninit
    .k:
      adc edi, 0x9e3779b9`, 40), (memory) => {
      const view = new DataView(memory.ram.buffer, memory.ram.byteOffset);
      doubles.forEach((v, k) => view.setFloat64(0x5000 + k * 8, v, true));
      singles.forEach((v, k) => view.setFloat32(0x5100 + k * 4, v, true));
      [5, -7, 0, 0x7fffffff].forEach((v, k) => view.setInt32(0x5180 + k * 4, v, true));
      [-3, 1000, 0, -32768].forEach((v, k) => view.setInt16(0x51a0 + k * 2, v, true));
      [0x37f, 0x77f, 0x07f, 0x27f].forEach((v, k) => view.setUint16(0x51c0 + k * 2, v, true));
    });
  });

  it('compute what the block loop computes: REP STOSB and REP STOSD (which translated hot blocks run themselves within a page), backwards after STD, across pages, with ECX 0', () => {
    // Per pass: a STOSB of 0-47 bytes at an offset that crosses a page every few passes, a STOSD of
    // a repeated byte (memset) and of a dword whose bytes differ, a STOSW, a STOSB with a 16-bit
    // address (the handler's), and every fourth pass the same with DF set by STD in the block
    // (the translation must see it change within the region) and cleared again by CLD.
    expectSameAsBlockLoop(COUNTED(`
      mov ebx, ecx
      and ebx, 3
      jnz .f
      std
    .f:
      mov edi, ecx
      imul edi, edi, 181
      and edi, 0x1fff
      add edi, 0x5000
      mov eax, ecx
      mov edx, ecx
      and ecx, 47
      rep stosb
      mov ecx, edx
      and ecx, 7
      mov edi, 0x6ff0
      sub edi, ebx
      mov eax, 0x5a5a5a5a
      rep stosd
      mov ecx, edx
      and ecx, 3
      mov eax, edx
      imul eax, eax, 0x01020304
      rep stosd
      mov ecx, 2
      rep stosw
      mov ecx, 1
      mov di, 0x6f00
      a16 rep stosb
      cld
      mov ecx, edx
      mov [esi + ecx * 4 + 0x1f00], edi`, 64));
  });

  it('translated into WebAssembly, fill backwards after DF was set outside WebAssembly and not across a page whose mapping is elsewhere', () => {
    // Paging maps linear page 0x6000 to physical 0x5000: a fill that crosses into it from 0x5fxx
    // lands there (the handler's), not at physical 0x6000. After the first 2,000 instructions,
    // setRegisters sets DF between two runs: the translation that fills must go backwards from then on.
    const source = `${PAGING_ON}
      ${COUNTED(`
      mov edi, ecx
      shl edi, 3
      and edi, 0xff
      add edi, 0x5f00
      mov eax, ecx
      mov edx, ecx
      and ecx, 31
      rep stosb
      mov [esi + edx * 4 + 0x1400], ecx
      mov ecx, edx
      mov [esi + ecx * 4 + 0x1c00], edi`, 300)}`;
    const run = (options: Partial<CpuOptions>): unknown[] => {
      const { cpu, memory } = warmMachine(source, options, (m) => identityPagingBut(m, 6, 0x5000 | 3));
      cpu.run(2_000);
      cpu.setRegisters({ eflags: cpu.getRegisters().eflags | 0x400 });
      const stop = cpu.run(100_000);
      return [stop, cpu.getRegisters(), Array.from(memory.ram.subarray(0x5000, 0x7000))];
    };
    const reference = run({ warmBlocks: false });
    expect(reference[0]).toBe('halt');
    expect(run({ warmBlocks: true, warmThreshold: 1, compileThreshold: 1, wasmHotBlocks: true })).toEqual(reference);
  });

  it('compute what the block loop computes: SAHF (which translated hot blocks run themselves) after every kind of flag state, its flags read in the block, after a handler and in the next block', () => {
    // AH takes every pattern of the five flags it sets (and the bits SAHF ignores); OF stays what
    // the ADD, the SHL, the IMUL or the handler (a 16-bit ADC) before it left, then the flags go to
    // Jcc, SETcc, ADC, PUSHF, and across a JMP to a block that reads them before setting any.
    // Stopping after every instruction, the run loop also comes to the JMP after SHL as a block of
    // its own, and translating it builds it again with the instructions at .s that it follows: the
    // run loop must then not call the translation with a budget of one (it did, with the count of
    // the block before the rebuild, and ran 15 instructions).
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x01010101
      mov edx, ecx
      and edx, 3
      mov ebx, 0x7ffffff0
      add ebx, ecx
      cmp edx, 1
      jb .s
      je .m
      cmp edx, 2
      je .w
      shl ebx, 1
      jmp .s
    .m:
      imul ebx, ebx
      jmp .s
    .w:
      adc bx, cx
    .s:
      mov ah, al
      sahf
      seto dl
      setbe dh
      mov [esi + ecx * 8 + 0x100], edx
      sahf
      jp .p
      adc ebx, ecx
    .p:
      pushf
      pop edx
      mov [esi + ecx * 8 + 0x104], edx
      shl ah, 1
      sahf
      jmp .n
    .n:
      sets al
      setl ah
      adc eax, 0
      mov [esi + ecx * 4 + 0x800], eax`, 100));
  });

  it('translated into WebAssembly, leave x87 instructions to their handlers while CR0.TS is set (#NM) and while an unmasked exception is pending (#MF)', () => {
    const doubles = (memory: PhysicalMemory): void => {
      memory.write32(guestPhys(0x5000), 0); memory.write32(guestPhys(0x5004), 0x3ff80000); memory.write32(guestPhys(0x500c), 0x3ff00000);
      memory.write16(guestPhys(0x5100), 0x37b); // ZE unmasked
    };
    // CR0.TS set at the end of a pass: the next pass's FLD raises #NM.
    expectSameAsBlockLoop(COUNTED(`
      fld qword [esi]
      fstp qword [esi + ecx * 8 + 0x800]
      fnstsw ax
      mov [esi + ecx * 4 + 0x900], eax
      cmp ecx, 15
      jne .t
      mov eax, cr0
      or eax, 8
      mov cr0, eax
    .t:
      add edi, 3`), doubles);
    // A division by zero with ZE unmasked: pending from then on (CR0.NE = 0: FERR#, and on).
    expectSameAsBlockLoop(COUNTED(`
      fld qword [esi]
      fstp qword [esi + ecx * 8 + 0x800]
      cmp ecx, 30
      jne .m
      fldz
      fldcw [esi + 0x100]
      fld qword [esi + 8]
      fdiv st0, st1
    .m:
      fnstsw ax
      mov [esi + ecx * 4 + 0x900], eax
      add edi, 3`), doubles);
  });

  it('go on inside WebAssembly into blocks that read the flags the block before left: SUB, byte ADD, INC, SHL and IMUL states', () => {
    // Each JMP ends a block; the next one starts with flag readers, and the dispatcher hands it the
    // flags that the exit record's lazy state describes (CMP's CF differs from "below or equal"
    // only when equal: ECX & 3 runs through 2).
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      and eax, 3
      cmp eax, 2
      jmp .a
    .a:
      setb bl
      seto bh
      mov dl, al
      add dl, 0xfe
      jmp .b
    .b:
      setc al
      setz ah
      sets dh
      setp bl
      mov [esi + ecx * 8 + 0x100], eax
      mov [esi + ecx * 8 + 0x104], ebx
      inc edx
      jmp .c
    .c:
      adc ebx, edx
      setbe al
      shl ebx, 1
      jmp .d
    .d:
      setc ah
      seto bl
      imul edx, edx, 3
      jmp .e
    .e:
      setc bh
      jo .f
      inc eax
    .f:
      mov [esi + ecx * 8 + 0x200], eax
      mov [esi + ecx * 8 + 0x204], ebx`));
  });

  it('translated into WebAssembly, go round a one-block loop that reads the flags its last pass left (CF into INC, ADC, SBB and a Jcc)', () => {
    // The loop's first instructions read CF before anything in it sets flags: from the second pass on,
    // the translation's internal loop hands them over as the pass's EFLAGS.
    translatedInAll = 0;
    expectSameAsBlockLoop(COUNTED(`
      inc eax
      adc ebx, 0
      sbb edx, eax
      jc .c
      xor edx, 0x5555
    .c:
      mov [esi + ecx * 4], edx
      add edi, ebx
      shl edi, 3
      ror eax, 1`, 200));
    expect(translatedInAll).toBeGreaterThan(0);
  });

  it('compute what the block loop computes: shifts by a CL of 0 after every kind of flag state (all six flags as they were), read in the block, by PUSHFD and by the next block', () => {
    // CL is 0 every fourth pass, after ADD (CF, AF, OF vary), SUB, INC (CF kept), a logic
    // operation, a rotate (CF and OF set outright over a CMP) and a handler (CLD);
    // translated, a count of 0 takes EFLAGS from the handler and the others compute all six.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      and eax, 3
      mov edx, ecx
      imul edx, edx, 0x9e3779b1
      push ecx
      mov ecx, eax
      add edx, 0x7ffffff9
      shl edx, cl
      pushfd
      pop ebx
      mov [esi + eax * 8], ebx
      sub edx, 0x12345688
      sar edx, cl
      jc .c
      xor edi, edx
    .c:
      inc edx
      shr edx, cl
      setc bl
      seto bh
      setp al
      and edx, 0x7ff0
      shl edx, cl
      sets ah
      cmp edx, edi
      rol edi, 3
      sar edi, cl
      jmp .n
    .n:
      adc ebx, 0
      setz dl
      cld
      shl edi, cl
      pushfd
      pop edx
      pop ecx
      mov [esi + ecx * 4 + 0x100], edx
      mov [esi + ecx * 4 + 0x300], ebx`, 48));
  });

  it('compute what the block loop computes: rotates, shifts by CL and IMUL, and the flags they set outright', () => {
    // CL runs through 0 (nothing changes, flags included), 1 and past 31 (masked); ROL/ROR set CF
    // and OF over the lazy state of the CMP before them, IMUL sets them over its LOGIC flags.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, edi
      cmp eax, ecx
      rol eax, 7
      jb .b
      ror edx, 1
    .b:
      setz bl
      seto bh
      mov ecx, ecx
      push ecx
      and ecx, 0x23
      shl eax, cl
      setc dl
      ror ebx, cl
      sbb edx, eax
      sar edx, cl
      pop ecx
      imul eax, edi
      jo .o
      imul edx, [esi + ecx * 4], 0x10001
      setc dh
    .o:
      imul ebx, edx, -3
      adc eax, ebx
      imul edi, [esi]
      seto al
      add edi, 0x10203041
      mov [esi + ecx * 4], edi`, 48));
    // The flags they set outright leave the block with it: the next block reads them.
    expectSameAsBlockLoop(COUNTED(`
      mov eax, ecx
      imul eax, eax, 0x9e3779b1
      cmp eax, edi
      rol eax, 9
      seto bl
      ror eax, 5
      jmp .n
    .n:
      seto bh
      mov [esi + ecx * 4 + 0x400], ebx
      sets bl
      setc bh
      cmp eax, ecx
      imul edx, eax, 0x10001
      jmp .m
    .m:
      seto dl
      setnc dh
      add edi, ecx
      mov [esi + ecx * 4], ebx
      mov [esi + ecx * 4 + 0x200], edx`, 48));
  });

  it('compute what the block loop computes: 16-bit moves, INC/DEC/NOT/NEG of memory, PUSH of memory and immediates, LEAVE, BSWAP, TEST with an immediate', () => {
    expectSameAsBlockLoop(COUNTED(`
      mov eax, [esi + ecx * 4]
      imul edx, ecx, 0x9e3779b1
      xor eax, edx
      mov ebx, edx
      mov bx, ax
      mov [esi + ecx * 2 + 0x300], bx
      mov dx, [esi + ecx * 2 + 0x302]
      mov [esi + ecx * 4 + 0x900], edx
      add eax, 0xfffffff0
      inc dword [esi + 0x500]
      setc bl
      dec dword [esi + ecx * 4 + 0x100]
      setz bh
      adc eax, ebx
      not dword [esi + 0x504]
      neg edx
      setc dl
      neg dword [esi + ecx * 4]
      seto dh
      mov [esi + ecx * 4 + 0xa00], edx
      not ebx
      push dword [esi + 0x500]
      push 0x12345678
      push ebp
      mov ebp, esp
      push eax
      leave
      pop edx
      pop ebx
      add esp, 4
      bswap eax
      test eax, 0x80000001
      setnz bl
      test dword [esi + 0x504], 0x10000
      setz bh
      mov [esi + ecx * 4 + 0x600], ebx
      mov [esi + ecx * 4 + 0x700], eax
      mov [esi + ecx * 4 + 0x800], edx`, 24));
  });

  it('compute what the block loop computes: calls, returns and jumps', () => {
    expectSameAsBlockLoop(`
      mov ecx, 30
    l: call f
      add eax, ecx
      jmp .j
      nop
    .j:
      dec ecx
      jnz l
      hlt
    f: push ebx
      mov ebx, ecx
      shl ebx, 2
      add edx, ebx
      pop ebx
      ret`);
  });

  it('call the handlers of instructions the interpreter does not run, and leave every access that is not plain RAM to the block loop', () => {
    // 16-bit operands and a string instruction go to their handlers; a page crossing, a
    // store into the block's own page (decoded code), an access past RAM and a fault each stop a
    // warm block before it.
    expectSameAsBlockLoop(COUNTED(`
      add eax, ecx
      mov ax, cx
      adc ebx, eax
      sub ebx, 3
      mov edx, [0x5ffe]
      mov [0x5ffd], edx
      movsb
      sbb edx, 1
      mov eax, [0x7ffffe]`, 8));
    expectSameAsBlockLoop(COUNTED(`
      add eax, ecx
      cmp ecx, 12
      jne .ok
      mov eax, [0x40000000]
      mov [0x1800], ecx
    .ok:
      mov [esi], eax`, 16));
  });

  it('translated into WebAssembly, under paging: leave TLB misses to the block loop and stop before an access to a page that is not present (#PF)', () => {
    // Identity-mapped 4 MiB with the page at 0x230000 not present. The loop reads and writes a new
    // page every pass (a TLB miss each) and faults on the 48th.
    expectSameAsBlockLoop(`
      ${PAGING_ON}
      mov ecx, 60
      mov esi, 0x200010
      xor ebx, ebx
    l: mov eax, [esi]
      add ebx, eax
      mov [esi + 8], ebx
      add esi, 0x1000
      dec ecx
      jnz l
      hlt`, (memory) => identityPagingBut(memory, 0x230, 0));
  });

  it('translated into WebAssembly with paging off (RAM without the TLB), go through the TLB once paging is on', () => {
    // Halfway the loop turns paging on with linear 0x200000 mapped to physical 0x300000: the loop
    // block's translation, made with paging off, must not read physical 0x200000 any more.
    const remapped = (memory: PhysicalMemory): void => {
      identityPagingBut(memory, 0x200, 0x300000 | 3);
      const view = new DataView(memory.ram.buffer, memory.ram.byteOffset);
      view.setUint32(0x200000, 5, true);
      view.setUint32(0x300000, 7, true);
    };
    expectSameAsBlockLoop(`
      mov ecx, 80
      mov esi, 0x200000
      xor ebx, ebx
    l: mov eax, [esi]
      add ebx, eax
      mov [esi + 4], ebx
      dec ecx
      cmp ecx, 40
      je enable
    back:
      test ecx, ecx
      jnz l
      mov [0x5000], ebx
      hlt
    enable:
      ${PAGING_ON}
      jmp back
      `, remapped);
  });

  it('take a segment with a base, and leave one with checks to the block loop', () => {
    const gdt = (memory: PhysicalMemory): void => {
      // Entry 4 (selector 0x20): data, base 0x1000, limit 4 GiB; entry 5 (0x28): data, base 0, limit 0xfff.
      const at = 0x3000;
      memory.ram.set([0, 0, 0, 0, 0, 0, 0, 0], at);
      memory.ram.set([0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0], at + 8);
      memory.ram.set([0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0], at + 16);
      memory.ram.set([0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0], at + 24);
      memory.ram.set([0xff, 0xff, 0x00, 0x10, 0, 0x93, 0xcf, 0], at + 32);
      memory.ram.set([0xff, 0x0f, 0, 0, 0, 0x93, 0x40, 0], at + 40);
      memory.ram.set([0x2f, 0, 0x00, 0x30, 0, 0], 0x3100);
    };
    expectSameAsBlockLoop(`
      lgdt [0x3100]
      mov ax, 0x20
      mov fs, ax
      mov ax, 0x28
      mov gs, ax
      mov ecx, 20
    l: mov eax, [fs:0x4000 + ecx * 4]
      add [fs:0x4100], eax
      mov ebx, [gs:0x10]
      cmp ecx, 3
      jne .k
      mov edx, [gs:0x1000]
    .k:
      dec ecx
      jnz l
      hlt`, gdt);
  });

  /**
   * COMPUTE(3) ran on `cpu`: rewrite it as COMPUTE(5) behind the CPU (same addresses, other
   * constants, no notification), reset the CPU and run it again; it must compute what a fresh CPU does.
   */
  const rerunRewrittenBehind = (cpu: Cpu, memory: PhysicalMemory): void => {
    memory.ram.set(asm(COMPUTE(5), 32, 0x1000), 0x1000);
    cpu.reset();
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
    expect(cpu.run(100_000)).toBe('halt');
    const reference = warmMachine(COMPUTE(5), { warmBlocks: false });
    expect(reference.cpu.run(100_000)).toBe('halt');
    expect(cpu.getRegisters()).toEqual(reference.cpu.getRegisters());
  };

  it('forget their records when RAM was rewritten behind the CPU and it is reset', () => {
    const { cpu, memory } = warmMachine(COMPUTE(3), { warmBlocks: true, warmThreshold: 2 });
    expect(cpu.run(100_000)).toBe('halt');
    expect(cpu.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(0);
    rerunRewrittenBehind(cpu, memory);
  });

  it('translated into WebAssembly, are not taken back after the decoded-slot pool started over', () => {
    // The loop's XADD is a handler call its translation names by slot. Between the two passes of the
    // loop, 327,680 single-run \`mov eax, ebx\` overflow the pool of 262,144 slots and reuse that
    // slot: the loop's block, built again, must not get the translation that calls the slot's old handler.
    const program = `
      mov esi, 1
      mov edx, 2
      mov edi, 2
    outer: mov ecx, 50
    l: xadd esi, edx
      add eax, esi
      dec ecx
      jnz l
      mov ebx, 0x100000
      call ebx
      dec edi
      jnz outer
      hlt`;
    const sled = (memory: PhysicalMemory): void => {
      for (let a = 0x100000; a < 0x1a0000; a += 2) memory.ram.set([0x89, 0xd8], a);
      memory.ram[0x1a0000] = 0xc3;
    };
    const run = (options: Partial<CpuOptions>) => {
      // (In steps, so that the run loop counts the loop block's runs in both passes.)
      const { cpu } = warmMachine(program, options, sled);
      let stop = 'budget';
      while (stop === 'budget') stop = cpu.run(7);
      expect(stop).toBe('halt');
      return cpu;
    };
    const translatedRun = run({ warmBlocks: true, warmThreshold: 1, compileThreshold: 3, wasmHotBlocks: true });
    expect(translatedRun.stats[CpuStat.BlocksTranslated]).toBeGreaterThanOrEqual(2);
    expect(translatedRun.getRegisters()).toEqual(run({ warmBlocks: false }).getRegisters());
  });

  it('translated into WebAssembly, forget their translations when RAM was rewritten behind the CPU and it is reset', () => {
    // (Run in steps, so that the run loop counts the loop block's runs and translates it.)
    const { cpu, memory } = warmMachine(COMPUTE(3), { warmBlocks: true, warmThreshold: 1, compileThreshold: 3, wasmHotBlocks: true });
    let stop = 'budget';
    while (stop === 'budget') stop = cpu.run(7);
    expect(stop).toBe('halt');
    expect(cpu.stats[CpuStat.BlocksTranslated]).toBeGreaterThan(0);
    rerunRewrittenBehind(cpu, memory);
  });

  it('run code the guest rewrites: a warm block patches an immediate of its own', () => {
    // The store into the block's own page stops the warm block before it; the block loop makes it,
    // the block is decoded again, and its new records carry the new immediate.
    expectSameAsBlockLoop(`
      mov ecx, 40
      xor eax, eax
    l:
    p: add eax, 0x11111111
      xor ebx, eax
      mov [p + 1], ecx
      dec ecx
      jnz l
      mov [0x5000], eax
      mov [0x5004], ebx
      hlt`);
  });

  /** A loop over blocks of its page and a function in the next page (`f`, at 0x2800), written after `body`. */
  const REGION = (body: string, passes: number, f: string): string => `
      mov ecx, ${passes}
      mov esi, 0x5000
      xor eax, eax
      xor ebx, ebx
      mov edi, 0x12345
    l:
${body}
      dec ecx
      jnz l
      hlt
    table: dd t0, t1, t2, t3
      times 0x1800 - ($ - $$) nop
    f:
${f}`;

  it('translated into WebAssembly, go from block to block of a region: flags across blocks, a function in another page, BT, a jump table', () => {
    // Translated from the first run, each block's region holds the blocks of the loop translated
    // before it: the last block's holds all of them, so the loop goes round inside it, into the
    // function in the next page and (by the RET) out to the dispatcher. The flags a block leaves
    // are read by the next (ADC after the CMP/SUB, JC after BT) and by the run loop when a step ends
    // between them.
    regionMembersInAll = 0;
    expectSameAsBlockLoop(REGION(`
      add eax, ecx
      cmp eax, 0x4000
      jb .small
      sub eax, 0x3ff0
    .small:
      adc ebx, 0
      call f
      bt edi, 3
      jc .bit
      xor edi, ecx
    .bit:
      bt dword [esi + 4], 5
      setc dl
      mov [esi + ecx * 4], edx
      mov edx, ecx
      and edx, 3
      jmp [table + edx * 4]
    t0: inc edi
      jmp join
    t1: add edi, 3
      jmp join
    t2: rol edi, 1
      jmp join
    t3: sub edi, ebx
    join:
      mov [esi + 0x800], edi
      mov edx, eax
      jmp back
    back: sbb edx, edi
      mov [esi + 0x804], edx`, 150, `
      add [esi + 4], eax
      cmp ebx, 100
      jae .big
      inc dword [esi + 8]
      ret
    .big:
      lea ebx, [ebx - 50]
      stc
      jmp back`));
    expect(regionMembersInAll).toBeGreaterThan(0);
  });

  it('translated into WebAssembly, leave a region at its block in another page once that page was rewritten', () => {
    // The loop patches the immediate of the function's ADD halfway (a code write: a new fetch
    // epoch), so a region made before must not go on into its old translation of the function.
    regionMembersInAll = 0;
    expectSameAsBlockLoop(REGION(`
      add eax, ecx
      call f
      cmp ecx, 60
      jne .same
      mov dword [p + 1], 0x01010101
    .same:
      mov [esi + ecx * 4], eax
    t0:
    t1:
    t2:
    t3:`, 120, `
    p: add eax, 0x11111111
      xor ebx, eax
      ret`));
    expect(regionMembersInAll).toBeGreaterThan(0);
  });

  it('go from warm block to warm block inside WebAssembly: the run loop calls the dispatcher about once a chunk, not once a block', () => {
    // Two blocks that jump to each other, 2,000 block runs in all (compileThreshold is out of reach).
    const program = `
      mov ecx, 1000
      xor eax, eax
    a: add eax, ecx
      jmp b
    b: xor eax, 0x5a5a
      dec ecx
      jnz a
      hlt`;
    const warm = warmMachine(program, { warmBlocks: true, warmThreshold: 1 });
    expect(warm.cpu.run(1_000_000)).toBe('halt');
    const calls = warm.cpu.stats[CpuStat.WarmCalls]!;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(20);
    const reference = warmMachine(program, { warmBlocks: false });
    expect(reference.cpu.run(1_000_000)).toBe('halt');
    expect(reference.cpu.stats[CpuStat.WarmCalls]).toBe(0);
    expect(warm.cpu.getRegisters()).toEqual(reference.cpu.getRegisters());
  });

  it('hand blocks the dispatcher ran 16,384 times to the JavaScript compiler, which goes on from the same state', () => {
    // Two blocks that jump to each other: the dispatcher chains them without the run loop counting
    // runs, so the chained count is what sends them to the compiler (compileThreshold is out of reach).
    const program = `
      mov ecx, 20000
      xor eax, eax
    a: add eax, ecx
      rol eax, 3
      jmp b
    b: xor eax, 0x5a5a
      dec ecx
      jnz a
      mov [0x5000], eax
      hlt`;
    const warm = warmMachine(program, { warmBlocks: true, warmThreshold: 1, wasmHotBlocks: false });
    expect(warm.cpu.run(1_000_000)).toBe('halt');
    expect(warm.cpu.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(0);
    expect(warm.cpu.stats[CpuStat.BlocksCompiled]).toBeGreaterThan(0);
    const reference = warmMachine(program, { warmBlocks: false });
    expect(reference.cpu.run(1_000_000)).toBe('halt');
    expect(reference.cpu.stats[CpuStat.BlocksCompiled]).toBe(0);
    expect(warm.cpu.getRegisters()).toEqual(reference.cpu.getRegisters());
    expect(warm.cpu.instructionsRetired).toBe(reference.cpu.instructionsRetired);
    expect(warm.memory.ram.subarray(0x5000, 0x5004)).toEqual(reference.memory.ram.subarray(0x5000, 0x5004));
  });

  it('reject a warm threshold outside 1-65535', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    const io = new RecordingIo();
    expect(() => new Cpu({ memory, io, warmThreshold: 0 })).toThrow(CpuConfigurationError);
    expect(() => new Cpu({ memory, io, warmThreshold: 1.5 })).toThrow(/warmThreshold/);
  });
});
