import { REGION_START } from './layout.js';

/** Register order used everywhere in the harness (the x86 register number order). */
export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export type GprName = (typeof GPR_NAMES)[number];

/** Bytes written into guest memory on top of the pattern before the case runs. */
export interface MemoryPatch {
  address: number;
  bytes: readonly number[];
}

/** One generated test: initial state plus the instruction bytes to run. */
export interface DiffCase {
  /** Index of the case within its batch (stable for a given seed). */
  index: number;
  /** Grouping key for reports and known-failure lists, e.g. `01`, `0F AF`, `F7/6`, `seq`. */
  opcode: string;
  /** Human-readable description of the form, e.g. `ADD Ev,Gv o16 [sib]`. */
  form: string;
  /** eax..edi in x86 register-number order; regs[4] is the initial ESP. */
  regs: Uint32Array;
  eflags: number;
  memorySeed: number;
  patches: MemoryPatch[];
  code: Uint8Array;
  /** EFLAGS bits the SDM leaves undefined for this case: not compared. */
  undefinedFlags: number;
  /** Bit r set: register r's final value is architecturally undefined for this case. */
  undefinedRegs: number;
}

/** Final state of a case on one side. `vector` is -1 when the snippet ran to its end. */
export interface CaseResult {
  regs: Uint32Array;
  eflags: number;
  eip: number;
  vector: number;
  errorCode: number;
  /** Changed bytes of the data+stack region as (address << 8 | value), ascending by address. */
  memoryChanges: Uint32Array;
}

/** What cases are compared with: this host's CPU (NativeRunner) or QEMU (QemuRunner). */
export interface ReferenceRunner {
  /** One result per case, in order. */
  run(cases: readonly DiffCase[]): CaseResult[];
}

// Binary record layout read by native/runner.c and qemu/case-kernel.asm (keep in sync with their constants).
export const RECORD_SIZE = 320;
export const MAX_PATCHES = 8;
export const PATCH_BYTES = 12;
const CODE_OFFSET = 176;
export const CODE_MAX = RECORD_SIZE - CODE_OFFSET - 5; // room for the exit jump
const RESULT_HEADER_WORDS = 13;
const NO_VECTOR = 0xffffffff;

export function encodeCases(cases: readonly DiffCase[]): Uint8Array {
  const out = new Uint8Array(cases.length * RECORD_SIZE);
  const view = new DataView(out.buffer);
  cases.forEach((c, n) => {
    const base = n * RECORD_SIZE;
    for (let r = 0; r < 8; r++) view.setUint32(base + r * 4, c.regs[r] ?? 0, true);
    view.setUint32(base + 32, c.eflags >>> 0, true);
    view.setUint32(base + 36, c.memorySeed >>> 0, true);
    if (c.code.length > CODE_MAX) throw new Error(`case ${c.index} (${c.form}): ${c.code.length} code bytes, max ${CODE_MAX}`);
    view.setUint32(base + 40, c.code.length, true);
    if (c.patches.length > MAX_PATCHES) throw new Error(`case ${c.index} (${c.form}): too many memory patches`);
    view.setUint32(base + 44, c.patches.length, true);
    c.patches.forEach((p, i) => {
      if (p.bytes.length > PATCH_BYTES) throw new Error(`case ${c.index} (${c.form}): patch longer than ${PATCH_BYTES}`);
      const at = base + 48 + i * 16;
      view.setUint16(at, p.address, true);
      out[at + 2] = p.bytes.length;
      p.bytes.forEach((b, j) => (out[at + 4 + j] = b));
    });
    out.set(c.code, base + CODE_OFFSET);
  });
  return out;
}

export function decodeResults(bytes: Uint8Array, count: number): CaseResult[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const results: CaseResult[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + RESULT_HEADER_WORDS * 4 > bytes.byteLength) {
      throw new Error(`native runner output ended after ${n} of ${count} results (it crashed or was killed)`);
    }
    const regs = new Uint32Array(8);
    for (let r = 0; r < 8; r++) regs[r] = view.getUint32(at + r * 4, true);
    const changes = view.getUint32(at + 48, true);
    const memoryChanges = new Uint32Array(changes);
    for (let i = 0; i < changes; i++) memoryChanges[i] = view.getUint32(at + 52 + i * 4, true);
    const vector = view.getUint32(at + 40, true);
    results.push({
      regs,
      eflags: view.getUint32(at + 32, true),
      eip: view.getUint32(at + 36, true),
      vector: vector === NO_VECTOR ? -1 : vector,
      errorCode: view.getUint32(at + 44, true),
      memoryChanges,
    });
    at += (RESULT_HEADER_WORDS + changes) * 4;
  }
  return results;
}

/** Initial bytes of the region for a case: pattern plus patches (what both sides start from). */
export function applyPatches(region: Uint8Array, patches: readonly MemoryPatch[]): void {
  for (const p of patches) {
    p.bytes.forEach((b, i) => {
      const at = p.address + i - REGION_START;
      if (at >= 0 && at < region.length) region[at] = b;
    });
  }
}
