/**
 * The x87 instructions a translated region (wasm/hot-blocks.ts) runs itself, over the built-in
 * FPU's registers in the host area (fpu/fpu-registers.ts FPU_*): FLD m64real, FST/FSTP m64real,
 * FST/FSTP ST(i) and FNSTSW AX, each only in its plain case, exactly as Fpu.loadF64/storeF64,
 * storeRegister and the status word do it. Compiled C keeps doubles in memory and moves them
 * through the stack around every operation (busybox awk: 12 M of its 17 M x87 instructions a
 * benchmark run are FLD/FSTP m64), so these are what a handler call per instruction cost most on.
 *
 * Each function pushes code onto a Body; the region writer gives it the locals to use and decides
 * what happens when a check fails (the instruction's handler then runs it).
 */
import { BUSY, C1, ES } from '../fpu/float80.js';
import { FPU_CW, FPU_EMPTY, FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_HI, FPU_LO, FPU_SW, FPU_SX, FPU_TOP, FPU_WORD } from '../fpu/fpu-registers.js';
import { CR0_EM, CR0_TS, CS } from '../constants.js';
import { type Body, OP } from './emitter.js';
import { HOST } from './host-area.js';

const WORD = (field: number): number => HOST.fpu + FPU_WORD + field * 4;

function word(b: Body, field: number): Body { return b.i32(0).mem(OP.i32Load, 2, WORD(field)); }
function setWord(b: Body, field: number, value: () => void): void { b.i32(0); value(); b.mem(OP.i32Store, 2, WORD(field)); }

/** Pushes nonzero when CR0.EM or CR0.TS is set: every x87 instruction raises #NM. */
export function x87Disabled(b: Body): void {
  b.i32(0).mem(OP.i32Load, 2, HOST.cr0).i32(CR0_EM | CR0_TS).op(OP.i32And);
}
/** Pushes nonzero when an unmasked x87 exception is pending (FpuRegisters.pending()). */
function x87Pending(b: Body): void {
  word(b, FPU_SW); word(b, FPU_CW).i32(-1).op(OP.i32Xor).op(OP.i32And).i32(0x3f).op(OP.i32And);
}
/** Pushes nonzero when x87Disabled, or an exception is pending (a waiting instruction delivers it first). */
export function x87Blocked(b: Body): void {
  x87Disabled(b);
  x87Pending(b);
  b.op(OP.i32Or);
}

/** Pushes nonzero when physical register `p` (a local) is empty. */
export function physEmpty(b: Body, p: number): void {
  word(b, FPU_EMPTY).get(p).op(OP.i32ShrU).i32(1).op(OP.i32And);
}

/** FIP, FCS and FOP of an instruction at EIP `eip()` (noteInstruction). */
export function noteInstruction(b: Body, eip: () => void, fop: number): void {
  setWord(b, FPU_FIP, eip);
  setWord(b, FPU_FCS, () => b.i32(0).mem(OP.i32Load, 2, HOST.segSel + CS * 4).i32(0xffff).op(OP.i32And));
  setWord(b, FPU_FOP, () => b.i32(fop));
}
/** noteInstruction and FDP, FDS of a memory operand at linear `lin` (a local) through segment `seg` (notePointers). */
export function notePointers(b: Body, eip: () => void, fop: number, lin: number, seg: number): void {
  noteInstruction(b, eip, fop);
  setWord(b, FPU_FDP, () => b.get(lin));
  setWord(b, FPU_FDS, () => b.i32(0).mem(OP.i32Load, 2, HOST.segSel + seg * 4).i32(0xffff).op(OP.i32And));
}

/** C1 cleared (what an instruction that raised nothing leaves in it). */
function clearC1(b: Body): void { setWord(b, FPU_SW, () => word(b, FPU_SW).i32(~C1).op(OP.i32And)); }

/**
 * FLD m64real: `lo` and `hi` (locals) hold the double. Pushes nonzero when it is not the plain case
 * (Fpu.loadF64's: ST(7) empty and the double normal or zero), having changed nothing; else pushes
 * nothing and the caller writes the push with x87PushDouble. `p` and `e` are scratch locals.
 */
export function x87LoadDoubleRefused(b: Body, hi: number, lo: number, p: number, e: number): void {
  word(b, FPU_TOP).i32(7).op(OP.i32Add).i32(7).op(OP.i32And).set(p);
  physEmpty(b, p); b.op(OP.i32Eqz);
  b.get(hi).i32(20).op(OP.i32ShrU).i32(0x7ff).op(OP.i32And).tee(e).i32(0x7ff).op(OP.i32Eq).op(OP.i32Or);
  b.get(e).op(OP.i32Eqz).get(hi).i32(0xfffff).op(OP.i32And).get(lo).op(OP.i32Or).i32(0).op(OP.i32Ne).op(OP.i32And).op(OP.i32Or);
}
/** The push that x87LoadDoubleRefused accepted (its `p` and `e` still set), and the pointers. */
export function x87PushDouble(b: Body, hi: number, lo: number, p: number, e: number): void {
  const zero = (value: () => void): void => { value(); b.i32(0).get(e).op(OP.select); };
  b.get(p).i32(1).op(OP.i32Shl);
  b.get(hi).i32(16).op(OP.i32ShrU).i32(0x8000).op(OP.i32And);
  zero(() => b.get(e).i32(16383 - 1023).op(OP.i32Add));
  b.op(OP.i32Or).mem(OP.i32Store16, 1, HOST.fpu + FPU_SX);
  b.get(p).i32(2).op(OP.i32Shl);
  zero(() => b.get(hi).i32(0xfffff).op(OP.i32And).i32(11).op(OP.i32Shl).get(lo).i32(21).op(OP.i32ShrU).op(OP.i32Or).i32(-0x80000000).op(OP.i32Or));
  b.mem(OP.i32Store, 2, HOST.fpu + FPU_HI);
  b.get(p).i32(2).op(OP.i32Shl);
  zero(() => b.get(lo).i32(11).op(OP.i32Shl));
  b.mem(OP.i32Store, 2, HOST.fpu + FPU_LO);
  setWord(b, FPU_EMPTY, () => word(b, FPU_EMPTY).i32(1).get(p).op(OP.i32Shl).i32(-1).op(OP.i32Xor).op(OP.i32And));
  setWord(b, FPU_TOP, () => b.get(p));
  clearC1(b);
}

/**
 * FST/FSTP m64real: pushes nonzero when ST(0) is not a value a double holds exactly (Fpu.storeF64's
 * plain case: not empty, and zero or normal in the double range with its low 11 significand bits
 * zero), having changed nothing; else leaves the double's words in `lo` and `hi` (locals). `p` and
 * `e` are scratch locals (`p` keeps TOP).
 */
export function x87StoreDoubleRefused(b: Body, hi: number, lo: number, p: number, e: number): void {
  word(b, FPU_TOP).set(p);
  b.get(p).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + FPU_HI).set(hi);
  b.get(p).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + FPU_LO).set(lo);
  // e: the extended biased exponent (0 for a zero); a double's is 15360 less.
  b.get(p).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX).i32(0x7fff).op(OP.i32And).set(e);
  physEmpty(b, p);
  b.get(hi).i32(0).op(OP.i32GeS); // no integer bit
  b.get(e).i32(16383 - 1023 + 1).op(OP.i32LtU).op(OP.i32Or);
  b.get(e).i32(16383 + 1023).op(OP.i32GtU).op(OP.i32Or);
  b.get(lo).i32(0x7ff).op(OP.i32And).op(OP.i32Or);
  b.get(hi).get(lo).op(OP.i32Or);
  b.get(e);
  b.op(OP.select).op(OP.i32Or);
}
/**
 * The double's words (into `lo` and `hi`) of the ST(0) x87StoreDoubleRefused accepted: with `sx`
 * loaded again, as its `e` only says the exponent.
 */
export function x87DoubleWords(b: Body, hi: number, lo: number, p: number, e: number): void {
  // Low word first (it needs the significand's high word as it was).
  b.get(hi).i32(21).op(OP.i32Shl).get(lo).i32(11).op(OP.i32ShrU).op(OP.i32Or).i32(0).get(e).op(OP.select).set(lo);
  b.get(hi).i32(11).op(OP.i32ShrU).i32(0xfffff).op(OP.i32And).get(e).i32(16383 - 1023).op(OP.i32Sub).i32(20).op(OP.i32Shl).op(OP.i32Or).i32(0).get(e).op(OP.select);
  b.get(p).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX).i32(0x8000).op(OP.i32And).i32(16).op(OP.i32Shl).op(OP.i32Or).set(hi);
}
/** After FST/FSTP m64real was written (TOP in `p`): the pop of FSTP, C1 cleared. */
export function x87AfterStore(b: Body, p: number, pop: boolean): void {
  if (pop) popPhys(b, p);
  clearC1(b);
}
function popPhys(b: Body, p: number): void {
  setWord(b, FPU_EMPTY, () => word(b, FPU_EMPTY).i32(1).get(p).op(OP.i32Shl).op(OP.i32Or));
  setWord(b, FPU_TOP, () => b.get(p).i32(1).op(OP.i32Add).i32(7).op(OP.i32And));
}

/**
 * FST/FSTP ST(i) (storeRegister) when ST(0) is not empty: pushes nonzero when it is (stack
 * underflow), having changed nothing; `p` gets TOP.
 */
export function x87StoreRegisterRefused(b: Body, p: number): void {
  word(b, FPU_TOP).set(p);
  physEmpty(b, p);
}
/** The copy x87StoreRegisterRefused accepted: ST(i) = ST(0), then the pop of FSTP, C1 cleared. */
export function x87StoreRegister(b: Body, i: number, pop: boolean, p: number, q: number): void {
  b.get(p).i32(i).op(OP.i32Add).i32(7).op(OP.i32And).set(q);
  b.get(q).i32(1).op(OP.i32Shl).get(p).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX).mem(OP.i32Store16, 1, HOST.fpu + FPU_SX);
  for (const at of [FPU_HI, FPU_LO]) b.get(q).i32(2).op(OP.i32Shl).get(p).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + at).mem(OP.i32Store, 2, HOST.fpu + at);
  setWord(b, FPU_EMPTY, () => word(b, FPU_EMPTY).i32(1).get(q).op(OP.i32Shl).i32(-1).op(OP.i32Xor).op(OP.i32And));
  if (pop) popPhys(b, p);
  clearC1(b);
}

/** Pushes the status word as FNSTSW reports it (FpuRegisters.statusWord()). */
export function x87StatusWord(b: Body): void {
  word(b, FPU_SW).i32(0x477f).op(OP.i32And);
  word(b, FPU_TOP).i32(11).op(OP.i32Shl).op(OP.i32Or);
  b.i32(ES | BUSY).i32(0);
  x87Pending(b);
  b.op(OP.select).op(OP.i32Or);
}
