/**
 * A small WebAssembly binary writer: function bodies as bytes (opcodes with their immediates), and a
 * module of such functions over an imported memory (the warm tier's interpreter, wasm/warm-blocks.ts).
 * Only what that code uses is here.
 */

/** Value types. */
export const I32 = 0x7f;
/** The f64 value type (a function's `f64Locals`). */
export const F64 = 0x7c;

/** Opcodes the interpreter uses (the WebAssembly core specification's numbering). */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10,
  brTable: 0x0e, callIndirect: 0x11, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f64Load: 0x2b, i32Load8s: 0x2c, i32Load8u: 0x2d, i32Load16s: 0x2e, i32Load16u: 0x2f,
  i32Store: 0x36, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  f64Eq: 0x61, f64Ne: 0x62, f64Gt: 0x64,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77, i32Rotr: 0x78,
  i64Ne: 0x52, i64Mul: 0x7e, i64DivU: 0x80, i64RemU: 0x82, i64Or: 0x84, i64Shl: 0x86, i64ShrU: 0x88, i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad, f64ConvertI32U: 0xb8,
  i64Const: 0x42,
  f64Lt: 0x63, f64Neg: 0x9a, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2,
  f64ConvertI32S: 0xb7, f64PromoteF32: 0xbb, i64ReinterpretF64: 0xbd, f32ReinterpretI32: 0xbe, f64ReinterpretI64: 0xbf,
} as const;
/** Block type of a block, loop or if without a result. */
const VOID = 0x40;

/** A growable byte buffer with LEB128 writers. */
export class Bytes {
  buf = new Uint8Array(256);
  length = 0;

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }
  unsigned(value: number): void {
    let v = value >>> 0;
    for (;;) {
      const low = v & 0x7f;
      v >>>= 7;
      if (v === 0) { this.byte(low); return; }
      this.byte(low | 0x80);
    }
  }
  signed(value: number): void {
    let v = value | 0;
    for (;;) {
      const low = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0)) { this.byte(low); return; }
      this.byte(low | 0x80);
    }
  }
  append(other: Bytes): void {
    for (let i = 0; i < other.length; i++) this.byte(other.buf[i]!);
  }
  name(text: string): void {
    this.unsigned(text.length);
    for (let i = 0; i < text.length; i++) this.byte(text.charCodeAt(i));
  }
  /** A section: its id, then `content`'s length and bytes. */
  section(id: number, content: Bytes): void {
    this.byte(id);
    this.unsigned(content.length);
    this.append(content);
  }
  /** The bytes written, as a module for `new WebAssembly.Module`. */
  done(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length);
  }
}

/** Bytes of one function body, appended in order. */
export class Body {
  readonly code = new Bytes();

  op(code: number): this {
    this.code.byte(code);
    return this;
  }
  i32(value: number): this {
    this.code.byte(OP.i32Const);
    this.code.signed(value);
    return this;
  }
  /** An i64 constant (a value that fits in 32 bits). */
  i64(value: number): this {
    this.code.byte(OP.i64Const);
    this.code.signed(value);
    return this;
  }
  f64(value: number): this {
    this.code.byte(OP.f64Const);
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.code.byte(bits.getUint8(i));
    return this;
  }
  get(local: number): this { this.code.byte(OP.localGet); this.code.unsigned(local); return this; }
  set(local: number): this { this.code.byte(OP.localSet); this.code.unsigned(local); return this; }
  tee(local: number): this { this.code.byte(OP.localTee); this.code.unsigned(local); return this; }
  call(func: number): this { this.code.byte(OP.call); this.code.unsigned(func); return this; }
  /** `call_indirect` through the module's table (index on the stack) with function type `typeIndex` ({@link functionTypeIndex}). */
  callIndirect(typeIndex: number): this { this.code.byte(OP.callIndirect); this.code.unsigned(typeIndex); this.code.byte(0); return this; }
  /** `br_table`: to depth i for the value i on the stack (below `depths.length`), else to `otherwise`. */
  brTable(depths: readonly number[], otherwise: number): this {
    this.code.byte(OP.brTable);
    this.code.unsigned(depths.length);
    for (const d of depths) this.code.unsigned(d);
    this.code.unsigned(otherwise);
    return this;
  }
  /** A `block` (br 0 inside goes to its end) without a result. */
  block(): this { this.code.byte(OP.block); this.code.byte(VOID); return this; }
  /** A `loop` (br 0 inside goes back to its start) without a result. */
  loop(): this { this.code.byte(OP.loop); this.code.byte(VOID); return this; }
  br(depth: number): this { this.code.byte(OP.br); this.code.unsigned(depth); return this; }
  /** `br_if`: to `depth` when the value on the stack is not 0. */
  brIf(depth: number): this { this.code.byte(OP.brIf); this.code.unsigned(depth); return this; }
  /** A load or store with its alignment (log2 bytes) and constant offset. */
  mem(code: number, align: number, offset: number): this {
    this.code.byte(code);
    this.code.unsigned(align);
    this.code.unsigned(offset);
    return this;
  }
  /** `memory.fill` of memory 0 (destination, byte value, length on the stack). */
  memoryFill(): this { this.code.byte(0xfc); this.code.unsigned(11); this.code.byte(0); return this; }
  /** `if` without a result (closed by {@link Body.end}). */
  if(): this { this.code.byte(OP.if); this.code.byte(VOID); return this; }
  else(): this { return this.op(OP.else); }
  end(): this { return this.op(OP.end); }
}

/** A function type: i32 parameters, one i32 result. */
function funcType(out: Bytes, params: number): void {
  out.byte(0x60);
  out.unsigned(params);
  for (let i = 0; i < params; i++) out.byte(I32);
  out.unsigned(1);
  out.byte(I32);
}

/** A function: its body with `locals` more i32 locals and then `f64Locals` f64 locals, size-prefixed, closed by `end`. */
function functionCode(out: Bytes, body: Body, locals: number, f64Locals: number): void {
  const f = new Bytes();
  const groups = [[locals, I32], [f64Locals, F64]].filter(([n]) => n! > 0);
  f.unsigned(groups.length);
  for (const [n, type] of groups) { f.unsigned(n!); f.byte(type!); }
  f.append(body.code);
  f.byte(OP.end);
  out.unsigned(f.length);
  out.append(f);
}

/** One function of a {@link wasmModule}: `params` i32 parameters, one i32 result, `locals` more i32 locals, then `f64Locals` f64 locals. */
export interface WasmFunction {
  readonly params: number;
  readonly locals: number;
  readonly f64Locals?: number;
  readonly body: Body;
  /** Exported under this name, if given. */
  readonly export?: string;
}

/**
 * The type index that {@link wasmModule} gives functions of `params` parameters, in a module whose
 * imported and defined functions have `paramCounts` parameters, in order (one type per distinct count).
 */
export function functionTypeIndex(params: number, paramCounts: readonly number[]): number {
  return [...new Set(paramCounts)].indexOf(params);
}

/**
 * A module that imports "m"."memory" (at least `pages` pages), "m"."table" (a table of functions,
 * when `table` is set) and the functions "m"."f0", "m"."f1"... (i32 parameters as given, one i32
 * result; they take the first function indexes), and defines `functions` after them, in order.
 */
export function wasmModule(pages: number, imported: readonly number[], functions: readonly WasmFunction[], table = false): Uint8Array<ArrayBuffer> {
  const out = new Bytes();
  for (const b of MAGIC) out.byte(b);
  // One type per distinct parameter count.
  const counts = [...new Set([...imported, ...functions.map((f) => f.params)])];
  const types = new Bytes();
  types.unsigned(counts.length);
  for (const n of counts) funcType(types, n);
  out.section(1, types);
  const content = new Bytes();
  content.unsigned(1 + (table ? 1 : 0) + imported.length);
  content.name('m'); content.name('memory'); content.byte(0x02); content.byte(0x00); content.unsigned(pages);
  if (table) { content.name('m'); content.name('table'); content.byte(0x01); content.byte(FUNCREF); content.byte(0x00); content.unsigned(0); }
  imported.forEach((params, i) => { content.name('m'); content.name(`f${i}`); content.byte(0x00); content.unsigned(counts.indexOf(params)); });
  out.section(2, content);
  const funcs = new Bytes();
  funcs.unsigned(functions.length);
  for (const f of functions) funcs.unsigned(counts.indexOf(f.params));
  out.section(3, funcs);
  const exported = functions.map((f, i) => ({ name: f.export, index: imported.length + i })).filter((e) => e.name !== undefined);
  const exports = new Bytes();
  exports.unsigned(exported.length);
  for (const e of exported) { exports.name(e.name!); exports.byte(0x00); exports.unsigned(e.index); }
  out.section(7, exports);
  const code = new Bytes();
  code.unsigned(functions.length);
  for (const f of functions) functionCode(code, f.body, f.locals, f.f64Locals ?? 0);
  out.section(10, code);
  return out.done();
}

/** The reference type of a table of functions. */
const FUNCREF = 0x70;
const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
