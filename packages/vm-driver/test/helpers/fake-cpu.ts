import type { CpuEngine, CpuEngineContext, CpuStopReason } from '../../src/index.js';

/** One step of a scripted guest. `spin` retires `count` instructions without side effects. */
export type Step =
  | { op: 'out'; port: number; value: number; size?: 1 | 2 | 4 }
  | { op: 'in'; port: number; into: number[] }
  | { op: 'spin'; count: number }
  | { op: 'hlt' }
  | { op: 'stop'; reason: CpuStopReason }
  | { op: 'throw'; message: string }
  | { op: 'call'; fn: (cpu: FakeCpu) => void };

/**
 * A fake CPU engine that plays a script of port I/O, halts and spins, and takes interrupts from the
 * machine's interrupt source while halted (as IF=1 HLT would), calling `onInterrupt` with the vector.
 */
export class FakeCpu implements CpuEngine {
  instructionsRetired = 0;
  lastException: { vector: number; errorCode: number | null } | null = null;
  a20: boolean | null = null;
  resets = 0;
  private pc = 0;
  private halted = false;
  private stopRequested = false;
  /** `instructionsRetired` at the start of the first run() that found an interrupt pending. */
  firstInterruptSeenAt: number | null = null;

  constructor(
    readonly context: CpuEngineContext,
    readonly script: Step[],
    readonly onInterrupt: (vector: number, cpu: FakeCpu) => Step[] = () => [],
  ) {}

  reset(): void {
    this.resets++;
    this.instructionsRetired = 0;
  }

  setA20(enabled: boolean): void {
    this.a20 = enabled;
  }

  getRegisters(): { eip: number; cs: number; eflags: number; cr0: number; cr2: number; cr3: number } {
    return { eip: 0x1234, cs: 0x10, eflags: 2, cr0: 0x11, cr2: 0, cr3: 0 };
  }

  /** Like cpu-x86: run() returns after the current step. */
  requestStop(): void {
    this.stopRequested = true;
  }

  run(budget: number): CpuStopReason {
    let retired = 0;
    this.stopRequested = false;
    if (this.firstInterruptSeenAt === null && this.context.interrupts.hasInterrupt()) this.firstInterruptSeenAt = this.instructionsRetired;
    while (retired < budget && !this.stopRequested) {
      if (this.halted) {
        if (!this.context.interrupts.hasInterrupt()) return 'halt';
        this.halted = false;
        const vector = this.context.interrupts.acknowledge();
        this.script.splice(this.pc, 0, ...this.onInterrupt(vector, this));
      }
      const step = this.script[this.pc];
      if (step === undefined) {
        this.halted = true;
        continue;
      }
      this.pc++;
      retired++;
      this.instructionsRetired++;
      switch (step.op) {
        case 'out': this.context.io.write(step.port, step.size ?? 1, step.value); break;
        case 'in': step.into.push(this.context.io.read(step.port, 1)); break;
        case 'spin': {
          const n = Math.min(step.count, budget - retired + 1);
          this.instructionsRetired += n - 1;
          retired += n - 1;
          if (n < step.count) this.script.splice(this.pc, 0, { op: 'spin', count: step.count - n });
          break;
        }
        case 'hlt': this.halted = true; return 'halt';
        case 'stop':
          if (step.reason === 'shutdown') this.lastException = { vector: 8, errorCode: 0 };
          return step.reason;
        case 'throw': throw new Error(step.message);
        case 'call': step.fn(this); break;
      }
    }
    return 'budget';
  }
}
