import { CR0_PE, CS, VM } from './constants.js';
import type { CpuCore } from './core.js';
import { CpuConfigurationError } from './errors.js';
import { pmuSnapshotProblem, restorePmu, savePmu, type PmuSnapshot } from './system/pmu.js';

/**
 * Layout version of {@link CpuSnapshot}. 2 added `pmu`; version-1 snapshots still restore (with the
 * performance counters in their power-on state).
 */
export const CPU_SNAPSHOT_VERSION = 2;

/** One segment register's selector and descriptor cache. */
export interface SegmentSnapshot {
  readonly selector: number;
  readonly base: number;
  readonly limit: number;
  /** Descriptor bits 40..55 (type, S, DPL, P, AVL, D/B, G) with the limit nibble cleared. */
  readonly attributes: number;
}

/**
 * Plain, versioned CPU state (structured-clone and JSON friendly). Host resources (memory, buses,
 * the FPU object) are not part of it; restore into a CPU built over the same machine.
 */
export interface CpuSnapshot {
  readonly version: number;
  /** EAX ECX EDX EBX ESP EBP ESI EDI as uint32. */
  readonly gprs: readonly number[];
  readonly eip: number;
  readonly eflags: number;
  /** ES CS SS DS FS GS LDTR TR. */
  readonly segments: readonly SegmentSnapshot[];
  readonly gdtr: { readonly base: number; readonly limit: number };
  readonly idtr: { readonly base: number; readonly limit: number };
  readonly cr0: number; readonly cr2: number; readonly cr3: number; readonly cr4: number; readonly efer: number;
  readonly dr: readonly number[];
  readonly cpl: number;
  readonly msr: {
    readonly sysenterCs: number; readonly sysenterEsp: number; readonly sysenterEip: number;
    readonly tscOffset: number; readonly apicBase: number; readonly miscEnable: number;
    readonly pat: readonly [number, number];
    /** MTRRs and other read-as-written MSRs: [msr, low, high]. */
    readonly stored: readonly (readonly [number, number, number])[];
  };
  readonly halted: boolean;
  readonly interruptShadow: boolean;
  readonly nmiPending: boolean;
  readonly nmiBlocked: boolean;
  readonly shutdown: boolean;
  readonly a20: boolean;
  readonly instructionsRetired: number;
  /** P6 performance counters (version 2; absent in version 1). */
  readonly pmu?: PmuSnapshot;
  /** The FPU's own snapshot (its `saveState()`), or null without an FPU. */
  readonly fpu: unknown;
}

export function saveCpu(c: CpuCore, a20: boolean): CpuSnapshot {
  const segments: SegmentSnapshot[] = [];
  for (let s = 0; s < 8; s++) {
    segments.push({ selector: c.segSel[s], base: c.segBase[s] >>> 0, limit: c.segLimit[s], attributes: c.segAttr[s] });
  }
  return {
    version: CPU_SNAPSHOT_VERSION,
    gprs: Array.from({ length: 8 }, (_, i) => c.r32[i * 2] >>> 0),
    eip: c.eip >>> 0,
    eflags: c.getFlags() >>> 0,
    segments,
    gdtr: { base: c.gdtBase >>> 0, limit: c.gdtLimit },
    idtr: { base: c.idtBase >>> 0, limit: c.idtLimit },
    cr0: c.cr0 >>> 0, cr2: c.cr2 >>> 0, cr3: c.cr3 >>> 0, cr4: c.cr4 >>> 0, efer: c.efer >>> 0,
    dr: Array.from(c.dr, (v) => v >>> 0),
    cpl: c.cpl,
    msr: {
      sysenterCs: c.sysenterCs, sysenterEsp: c.sysenterEsp >>> 0, sysenterEip: c.sysenterEip >>> 0,
      tscOffset: c.tscOffset, apicBase: c.apicBase >>> 0, miscEnable: c.miscEnable >>> 0,
      pat: [c.patLo >>> 0, c.patHi >>> 0],
      stored: Array.from(c.msrStore, ([msr, [lo, hi]]) => [msr, lo >>> 0, hi >>> 0] as const),
    },
    halted: c.halted,
    interruptShadow: c.shadow,
    nmiPending: c.nmiPending,
    nmiBlocked: c.nmiBlocked,
    shutdown: c.shutdown,
    a20,
    instructionsRetired: c.retired,
    pmu: savePmu(c),
    fpu: c.fpu?.saveState !== undefined ? c.fpu.saveState() : null,
  };
}

function isNumberArray(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Validate the shape of untrusted snapshot data (it may come from disk or another process). */
function check(s: CpuSnapshot): void {
  const fail = (what: string): never => {
    throw new CpuConfigurationError(`CPU snapshot is invalid: ${what}. Restore only state saved by Cpu.saveState().`);
  };
  if (typeof s !== 'object' || s === null) fail('not an object');
  if (s.version !== CPU_SNAPSHOT_VERSION && s.version !== 1) fail(`version ${String(s.version)} (this CPU reads versions 1 to ${CPU_SNAPSHOT_VERSION})`);
  if (s.version >= 2) {
    const problem = pmuSnapshotProblem(s.pmu);
    if (problem !== null) fail(problem);
  }
  if (!isNumberArray(s.gprs, 8)) fail('gprs must be 8 numbers');
  if (!isNumberArray(s.dr, 8)) fail('dr must be 8 numbers');
  if (!Array.isArray(s.segments) || s.segments.length !== 8) fail('segments must have 8 entries');
  for (const seg of s.segments) {
    if (![seg.selector, seg.base, seg.limit, seg.attributes].every((x) => typeof x === 'number' && Number.isFinite(x))) fail('segment fields must be numbers');
    if (seg.limit < 0 || seg.limit > 0xffffffff) fail('segment limit out of range');
  }
  for (const k of ['eip', 'eflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'cpl', 'instructionsRetired'] as const) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) fail(`${k} must be a number`);
  }
  if (s.cpl < 0 || s.cpl > 3) fail('cpl must be 0..3');
  if (typeof s.msr !== 'object' || s.msr === null || !Array.isArray(s.msr.stored)) fail('msr block missing');
}

export function restoreCpu(c: CpuCore, s: CpuSnapshot): void {
  check(s);
  for (let i = 0; i < 8; i++) c.r32[i * 2] = s.gprs[i];
  c.eip = s.eip | 0;
  c.flags = (s.eflags & 0x3f7fd5) | 2;
  c.lazy = 0;
  c.cr0 = s.cr0 | 0; c.cr2 = s.cr2 | 0; c.cr3 = s.cr3 | 0; c.cr4 = s.cr4 | 0; c.efer = s.efer | 0;
  for (let i = 0; i < 8; i++) c.dr[i] = s.dr[i];
  const realLike = (c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0;
  for (let i = 0; i < 8; i++) {
    const seg = s.segments[i];
    c.segSel[i] = seg.selector & 0xffff;
    c.segBase[i] = seg.base | 0;
    c.segLimit[i] = seg.limit;
    c.segAttr[i] = seg.attributes & 0xf0ff;
    if (realLike && i < 6) c.segCheck[i] = 0; else c.updateSegCheck(i);
  }
  c.gdtBase = s.gdtr.base | 0; c.gdtLimit = s.gdtr.limit & 0xffff;
  c.idtBase = s.idtr.base | 0; c.idtLimit = s.idtr.limit & 0xffff;
  c.setCpl(s.cpl);
  c.sysenterCs = s.msr.sysenterCs & 0xffff; c.sysenterEsp = s.msr.sysenterEsp | 0; c.sysenterEip = s.msr.sysenterEip | 0;
  c.tscOffset = s.msr.tscOffset; c.apicBase = s.msr.apicBase | 0; c.miscEnable = s.msr.miscEnable | 0;
  c.patLo = s.msr.pat[0] | 0; c.patHi = s.msr.pat[1] | 0;
  c.msrStore.clear();
  for (const [msr, lo, hi] of s.msr.stored) c.msrStore.set(msr, [lo | 0, hi | 0]);
  c.halted = s.halted === true;
  c.shadow = s.interruptShadow === true;
  c.nmiPending = s.nmiPending === true;
  c.nmiBlocked = s.nmiBlocked === true;
  c.shutdown = s.shutdown === true;
  c.retired = s.instructionsRetired;
  restorePmu(c, s.version >= 2 && s.pmu !== undefined ? s.pmu : null);
  c.csChanged();
  c.ssChanged();
  c.segCheck[CS] = realLike ? 0 : c.segCheck[CS];
  c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
  c.paging.setA20(s.a20 !== false);
  c.a20Open = s.a20 !== false;
  c.flushTlb();
  c.syncAlignCheck();
  c.updateBreakpoints();
  // RAM was replaced behind the CPU's back: no decoded instruction can be trusted.
  c.dropDecoded();
  if (c.fpu !== null && s.fpu !== null && c.fpu.restoreState !== undefined) c.fpu.restoreState(s.fpu as never); // the FPU validates its own snapshot
}
