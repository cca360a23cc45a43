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
import { BUSY, C0, C1, C2, C3, ES } from '../fpu/float80.js';
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
  storeDoubleWords(b, hi, lo, p, e);
  setWord(b, FPU_TOP, () => b.get(p));
  clearC1(b);
}
/**
 * Physical register `p` (a local) = the double whose words are in `hi` and `lo` (locals; a normal
 * double or a zero, `e` its biased exponent), marked not empty.
 */
function storeDoubleWords(b: Body, hi: number, lo: number, p: number, e: number): void {
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
  markNotEmpty(b, p);
}
/** Clears physical register `p`'s (a local's) empty bit. */
function markNotEmpty(b: Body, p: number): void {
  setWord(b, FPU_EMPTY, () => word(b, FPU_EMPTY).i32(1).get(p).op(OP.i32Shl).i32(-1).op(OP.i32Xor).op(OP.i32And));
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
  x87CopyRegister(b, p, q);
  x87AfterStore(b, p, pop);
}

/** Pushes the status word as FNSTSW reports it (FpuRegisters.statusWord()). */
export function x87StatusWord(b: Body): void {
  word(b, FPU_SW).i32(0x477f).op(OP.i32And);
  word(b, FPU_TOP).i32(11).op(OP.i32Shl).op(OP.i32Or);
  b.i32(ES | BUSY).i32(0);
  x87Pending(b);
  b.op(OP.select).op(OP.i32Or);
}

// ---- arithmetic, compares and stack moves on doubles (the plain case of compiled C's x87 code) ----
//
// Values that are zero or doubles with an unbiased exponent within +-SHORT_RANGE are computed as
// f64, and the result is kept only when it is exact (the error term of the sum or product is 0):
// then the x87 gives the same value at any precision of 53 bits or more, raises nothing and leaves
// C1 clear, whatever its rounding, but for the sign of an exact zero sum, which rounding down makes
// -0 (so the rounding must be to nearest). Within that range sums and products of such values are
// normal doubles or exact zeros, and Dekker's split of a factor neither overflows nor underflows.
// Anything else (another value, a result that needs rounding, an empty or full stack) refuses, and
// the instruction's handler runs it. busybox awk's loop runs ten such instructions an iteration
// (FLD1, FLDZ, FILD, FADD, FSUBR, FMUL, FXCH, FTST, FUCOMPP), all on integers.

/** Unbiased exponents the shortcut takes (see above). */
const SHORT_RANGE = 400;
/** Dekker's splitter for doubles: 2^27 + 1. */
const SPLIT = 134217729;

/** Pushes nonzero unless the control word rounds to nearest with a precision of 53 or 64 bits. */
export function x87RoundingRefused(b: Body): void {
  word(b, FPU_CW).i32(0xe00).op(OP.i32And).i32(0x200).op(OP.i32Ne);
}

/**
 * Pushes nonzero when physical register `p` (a local) is empty or holds anything but a zero or a
 * double within the shortcut's range, having changed nothing; the f64 local `x` gets its value
 * (meaningful only when accepted). `sx`, `hi`, `lo`: scratch i32 locals.
 */
export function x87RegisterDoubleRefused(b: Body, p: number, x: number, sx: number, hi: number, lo: number): void {
  b.get(p).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX).set(sx);
  b.get(p).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + FPU_HI).set(hi);
  b.get(p).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + FPU_LO).set(lo);
  physEmpty(b, p);
  b.get(lo).i32(0x7ff).op(OP.i32And).op(OP.i32Or);
  // A zero exponent: only a true zero; else the integer bit set and the exponent within range.
  b.get(hi).get(lo).op(OP.i32Or);
  b.get(hi).i32(0).op(OP.i32GeS);
  b.get(sx).i32(0x7fff).op(OP.i32And).i32(16383 - SHORT_RANGE).op(OP.i32Sub).i32(2 * SHORT_RANGE).op(OP.i32GtU).op(OP.i32Or);
  b.get(sx).i32(0x7fff).op(OP.i32And).op(OP.i32Eqz);
  b.op(OP.select).op(OP.i32Or);
  // (The refusal stays on the stack below.) The double's high word, then its low word.
  b.get(sx).i32(0x8000).op(OP.i32And).i32(16).op(OP.i32Shl);
  b.get(sx).i32(0x7fff).op(OP.i32And).i32(16383 - 1023).op(OP.i32Sub).i32(20).op(OP.i32Shl).i32(0).get(sx).i32(0x7fff).op(OP.i32And).op(OP.select).op(OP.i32Or);
  b.get(hi).i32(11).op(OP.i32ShrU).i32(0xfffff).op(OP.i32And).op(OP.i32Or);
  b.op(OP.i64ExtendI32U).i64(32).op(OP.i64Shl);
  b.get(hi).i32(21).op(OP.i32Shl).get(lo).i32(11).op(OP.i32ShrU).op(OP.i32Or).op(OP.i64ExtendI32U).op(OP.i64Or);
  b.op(OP.f64ReinterpretI64).set(x);
}

/**
 * Pushes nonzero when the double in the words `hi` and `lo` (locals) is not a zero or a double
 * within the shortcut's range; else the f64 local `x` gets it. `e`: a scratch i32 local.
 */
export function x87MemoryDoubleRefused(b: Body, hi: number, lo: number, x: number, e: number): void {
  b.get(hi).i32(20).op(OP.i32ShrU).i32(0x7ff).op(OP.i32And).tee(e);
  b.op(OP.i32Eqz).if();
  b.get(hi).i32(0x7fffffff).op(OP.i32And).get(lo).op(OP.i32Or).set(e);
  b.else();
  b.get(e).i32(1023 - SHORT_RANGE).op(OP.i32Sub).i32(2 * SHORT_RANGE).op(OP.i32GtU).set(e);
  b.end();
  b.get(e);
  b.get(hi).op(OP.i64ExtendI32U).i64(32).op(OP.i64Shl).get(lo).op(OP.i64ExtendI32U).op(OP.i64Or).op(OP.f64ReinterpretI64).set(x);
}

/**
 * Pushes nonzero when the single in `v` (a local) is not a zero or a normal single (each of which a
 * double holds in the shortcut's range); else the f64 local `x` gets it.
 */
export function x87MemorySingleRefused(b: Body, v: number, x: number): void {
  b.i32(0);
  b.get(v).i32(23).op(OP.i32ShrU).i32(0xff).op(OP.i32And).i32(1).op(OP.i32Sub).i32(0xfd).op(OP.i32GtU);
  b.get(v).i32(0x7fffffff).op(OP.i32And).op(OP.i32Eqz);
  b.op(OP.select);
  b.get(v).op(OP.f32ReinterpretI32).op(OP.f64PromoteF32).set(x);
}

/**
 * The sum `x` + `y` (f64 locals) into `r`; pushes nonzero when it is not exact (Knuth's two-sum
 * error is not 0). `t`: a scratch f64 local.
 */
export function x87SumInexact(b: Body, x: number, y: number, r: number, t: number): void {
  b.get(x).get(y).op(OP.f64Add).tee(r).get(x).op(OP.f64Sub).set(t);
  b.get(x).get(r).get(t).op(OP.f64Sub).op(OP.f64Sub);
  b.get(y).get(t).op(OP.f64Sub).op(OP.f64Add);
  b.f64(0).op(OP.f64Ne);
}

/**
 * The product `x` * `y` (f64 locals) into `r`; pushes nonzero when it is not exact (Dekker's error
 * term is not 0). `x` and `y` are split in place (they keep their low parts); `t` and `u` are
 * scratch f64 locals (the high parts).
 */
export function x87ProductInexact(b: Body, x: number, y: number, r: number, t: number, u: number): void {
  b.get(x).get(y).op(OP.f64Mul).set(r);
  for (const [v, high] of [[x, t], [y, u]] as const) {
    b.get(v).f64(SPLIT).op(OP.f64Mul).tee(high).get(high).get(v).op(OP.f64Sub).op(OP.f64Sub).set(high);
    b.get(v).get(high).op(OP.f64Sub).set(v);
  }
  // x*y (low parts) - (((r - t*u) - x*u) - t*y)
  b.get(x).get(y).op(OP.f64Mul);
  b.get(r).get(t).get(u).op(OP.f64Mul).op(OP.f64Sub).get(x).get(u).op(OP.f64Mul).op(OP.f64Sub).get(t).get(y).op(OP.f64Mul).op(OP.f64Sub);
  b.op(OP.f64Sub).f64(0).op(OP.f64Ne);
}

/**
 * Physical register `p` (a local) = `r` (an f64 local holding a zero or a normal double), marked not
 * empty. `hi`, `lo`, `e`: scratch i32 locals.
 */
export function x87SetDouble(b: Body, p: number, r: number, hi: number, lo: number, e: number): void {
  b.get(r).op(OP.i64ReinterpretF64).i64(32).op(OP.i64ShrU).op(OP.i32WrapI64).tee(hi).i32(20).op(OP.i32ShrU).i32(0x7ff).op(OP.i32And).set(e);
  b.get(r).op(OP.i64ReinterpretF64).op(OP.i32WrapI64).set(lo);
  storeDoubleWords(b, hi, lo, p, e);
}

/** Pushes nonzero when ST(7) is not empty (a push would overflow the stack); else `p` gets its physical index (the new TOP). */
export function x87PushRefused(b: Body, p: number): void {
  word(b, FPU_TOP).i32(7).op(OP.i32Add).i32(7).op(OP.i32And).set(p);
  physEmpty(b, p); b.op(OP.i32Eqz);
}
/** The push x87PushRefused accepted: TOP = `p`, which `value` filled. C1 cleared. */
export function x87Push(b: Body, p: number, value: () => void): void {
  value();
  setWord(b, FPU_TOP, () => b.get(p));
  clearC1(b);
}

/** `p` (a local) = the physical index of ST(`i`). */
export function x87Physical(b: Body, i: number, p: number): void {
  word(b, FPU_TOP);
  if (i !== 0) b.i32(i).op(OP.i32Add).i32(7).op(OP.i32And);
  b.set(p);
}

/**
 * A compare of `x` with `y` (f64 locals, neither a NaN): C3, C2, C0 as the FPU's compare leaves them
 * (greater 000, less 001, equal 100), C1 cleared, then `pops` pops. `p`: a scratch i32 local.
 */
export function x87CompareDoubles(b: Body, x: number, y: number, pops: number, p: number): void {
  setWord(b, FPU_SW, () => {
    word(b, FPU_SW).i32(~(C0 | C1 | C2 | C3)).op(OP.i32And);
    b.i32(C3).i32(C0).i32(0).get(x).get(y).op(OP.f64Lt).op(OP.select).get(x).get(y).op(OP.f64Eq).op(OP.select).op(OP.i32Or);
  });
  for (let k = 0; k < pops; k++) { word(b, FPU_TOP).set(p); popPhys(b, p); }
}

/** The end of an x87 instruction that raised nothing: with `pop`, a pop; C1 cleared. `p`: a scratch i32 local. */
export function x87Finish(b: Body, pop: boolean, p: number): void {
  if (pop) word(b, FPU_TOP).set(p);
  x87AfterStore(b, p, pop);
}

/** Copies physical register `from` to `to` (locals; all 80 bits, as FLD ST(i) moves them) and marks `to` not empty. */
export function x87CopyRegister(b: Body, from: number, to: number): void {
  b.get(to).i32(1).op(OP.i32Shl).get(from).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX).mem(OP.i32Store16, 1, HOST.fpu + FPU_SX);
  for (const at of [FPU_HI, FPU_LO]) b.get(to).i32(2).op(OP.i32Shl).get(from).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.fpu + at).mem(OP.i32Store, 2, HOST.fpu + at);
  markNotEmpty(b, to);
}

/** Swaps physical registers `p` and `q` (locals, both not empty). `t`: a scratch i32 local. */
export function x87Swap(b: Body, p: number, q: number, t: number): void {
  const swap = (at: number, shift: number, load: number, store: number, align: number): void => {
    b.get(p).i32(shift).op(OP.i32Shl).mem(load, align, HOST.fpu + at).set(t);
    b.get(p).i32(shift).op(OP.i32Shl).get(q).i32(shift).op(OP.i32Shl).mem(load, align, HOST.fpu + at).mem(store, align, HOST.fpu + at);
    b.get(q).i32(shift).op(OP.i32Shl).get(t).mem(store, align, HOST.fpu + at);
  };
  swap(FPU_SX, 1, OP.i32Load16u, OP.i32Store16, 1);
  swap(FPU_HI, 2, OP.i32Load, OP.i32Store, 2);
  swap(FPU_LO, 2, OP.i32Load, OP.i32Store, 2);
}

/** Flips (FCHS) or clears (FABS) the sign of physical register `p` (a local). */
export function x87Sign(b: Body, p: number, clear: boolean): void {
  b.get(p).i32(1).op(OP.i32Shl);
  b.get(p).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.fpu + FPU_SX);
  if (clear) b.i32(0x7fff).op(OP.i32And); else b.i32(0x8000).op(OP.i32Xor);
  b.mem(OP.i32Store16, 1, HOST.fpu + FPU_SX);
}
