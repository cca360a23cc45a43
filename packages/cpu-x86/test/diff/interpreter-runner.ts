import { guestPhys, PhysicalMemory } from '@typevisor/mmu';
import type { GPR_NAMES} from './case-format.js';
import { applyPatches, type CaseResult, type DiffCase } from './case-format.js';
import { CODE_ADDR, INTERPRETER_RAM_SIZE, REGION_SIZE, REGION_START } from './layout.js';
import { fillPattern } from './memory-pattern.js';

/** The part of the `Cpu` contract (docs: /work/team/CONTRACTS.md) the harness drives. */
export interface CpuUnderTest {
  run(budget: number): 'budget' | 'halt' | 'exception' | 'shutdown';
  getRegisters(): Record<(typeof GPR_NAMES)[number] | 'eip' | 'eflags', number>;
  setRegisters(values: Partial<Record<(typeof GPR_NAMES)[number] | 'eip' | 'eflags', number>>): void;
  enterFlatProtectedMode(cpl?: 0 | 3): void;
  readonly lastException: { vector: number; errorCode: number | null } | null;
}

/** Builds a CPU over the given memory (the test passes `new Cpu({ memory, io, stopOnException: true })`). */
export type CpuFactory = (memory: PhysicalMemory) => CpuUnderTest;

const TSS_IO_MAP_BASE = 0x66;
/** Instruction budget per case: generous for REP strings counted per iteration, small for runaways. */
const STEP_LIMIT = 2000;
/** Vector reported when the interpreter never reached the snippet's end (runaway or hang). */
export const VECTOR_TIMEOUT = 0x100;
/** Vector reported when the interpreter threw a host exception (always a bug). */
export const VECTOR_HOST_THROW = 0x101;

/**
 * Runs cases in the interpreter: flat 32-bit protected mode at CPL 3, paging off, the same data,
 * stack and code addresses as the native runner. By default the CPU steps one instruction at a time
 * until EIP reaches the end of the snippet or an exception stops it; with `wholeRuns` one run() call
 * executes the snippet (as blocks, compiled ones included) until the HLT guard after it faults.
 */
export class InterpreterRunner {
  readonly memory: PhysicalMemory;
  private readonly cpu: CpuUnderTest;
  private readonly initial = new Uint8Array(REGION_SIZE);
  private readonly initialWords = new Uint32Array(this.initial.buffer);
  private readonly regionWords: Uint32Array;
  /** Last host exception message, for reports. */
  lastHostError = '';

  /** `hostAreaBytes`: RAM in a WebAssembly memory behind a host area of that size (for warm blocks). */
  constructor(factory: CpuFactory, private readonly options: { readonly wholeRuns?: boolean; readonly hostAreaBytes?: number } = {}) {
    this.memory = new PhysicalMemory({ ramSize: INTERPRETER_RAM_SIZE, hostAreaBytes: options.hostAreaBytes ?? 0 });
    this.regionWords = new Uint32Array(this.memory.ram.buffer, this.memory.ram.byteOffset + REGION_START, REGION_SIZE / 4);
    this.cpu = factory(this.memory);
    // enterFlatProtectedMode keeps TR as reset leaves it (base 0, limit 0xFFFF), so the TSS I/O map
    // base is read from guest 0x66. 0xFFFF puts the bitmap beyond the limit: CPL 3 port I/O then
    // raises #GP(0) like under Linux, whose TSS has no I/O bitmap for a process without ioperm().
    this.memory.writePhys16(TSS_IO_MAP_BASE, 0xffff);
  }

  run(c: DiffCase): CaseResult {
    const { memory, cpu, initial } = this;
    fillPattern(initial, c.memorySeed);
    applyPatches(initial, c.patches);
    memory.ram.set(initial, REGION_START);
    // Through the bus so the CPU's decoded-code cache hears about the new code.
    const code = new Uint8Array(c.code.length + 1);
    code.set(c.code);
    code[c.code.length] = 0xf4; // HLT guard: a runaway past the end faults at CPL 3
    memory.writeBytes(guestPhys(CODE_ADDR), code);

    const end = CODE_ADDR + c.code.length;
    let vector = -1;
    let errorCode = 0;
    try {
      cpu.enterFlatProtectedMode(3);
      cpu.setRegisters({
        eax: c.regs[0], ecx: c.regs[1], edx: c.regs[2], ebx: c.regs[3],
        esp: c.regs[4], ebp: c.regs[5], esi: c.regs[6], edi: c.regs[7],
        eip: CODE_ADDR,
        eflags: ((c.eflags & ~0x100) | 0x202) >>> 0,
      });
      let steps = 0;
      if (this.options.wholeRuns === true) {
        const stop = cpu.run(STEP_LIMIT);
        const exception = cpu.lastException;
        // The HLT guard at `end` faults #GP(0) at CPL 3: that is the snippet running off its end.
        const ranOff = stop === 'exception' && exception?.vector === 13 && (cpu.getRegisters().eip >>> 0) === end;
        if (stop === 'budget' || stop === 'halt') vector = VECTOR_TIMEOUT;
        else if (!ranOff) {
          vector = exception?.vector ?? VECTOR_TIMEOUT;
          errorCode = exception?.errorCode ?? 0;
        }
      }
      for (;this.options.wholeRuns !== true;) {
        if ((cpu.getRegisters().eip >>> 0) === end) break;
        if (steps++ >= STEP_LIMIT) {
          vector = VECTOR_TIMEOUT;
          break;
        }
        const stop = cpu.run(1);
        if (stop === 'exception' || stop === 'shutdown') {
          vector = cpu.lastException?.vector ?? VECTOR_TIMEOUT;
          errorCode = cpu.lastException?.errorCode ?? 0;
          break;
        }
        if (stop === 'halt') {
          vector = VECTOR_TIMEOUT;
          break;
        }
      }
    } catch (error) {
      vector = VECTOR_HOST_THROW;
      this.lastHostError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }

    const r = cpu.getRegisters();
    const regs = Uint32Array.of(r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi);
    const changes: number[] = [];
    const ram = memory.ram;
    const after = this.regionWords;
    const before = this.initialWords;
    for (let w = 0; w < REGION_SIZE / 4; w++) {
      if (after[w] === before[w]) continue;
      for (let i = w * 4; i < w * 4 + 4; i++) {
        const v = ram[REGION_START + i] as number;
        if (v !== initial[i]) changes.push(((REGION_START + i) << 8) | v);
      }
    }
    return { regs, eflags: r.eflags >>> 0, eip: r.eip >>> 0, vector, errorCode, memoryChanges: Uint32Array.from(changes) };
  }
}
