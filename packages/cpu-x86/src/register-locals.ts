/**
 * Keeps a compiled block's general registers in JavaScript locals instead of CpuCore's register
 * array. The block compiler (block-compiler.ts) writes its code against the array: `R[k]` for the
 * dword registers (k = 2 * register number), `c.r8[k]` and `c.r16[k]` for the byte and word views
 * of the same memory. V8 keeps no typed-array element in a machine register across a store to
 * another typed array (guest RAM could be the same memory as far as it knows), so every register
 * operand was a load and every result a store. Here each register becomes a local (`g0`..`g7`):
 * loaded once when the block starts, written back where anything else can see the array:
 *
 * - before every way out of the block (`return`);
 * - before a call that reads or writes the registers itself (instruction handlers, and the core's
 *   stack helpers `push32`, `pop32`, `peek32`, `addSp`), and loaded again after it;
 * - when a guest fault (or anything else) is thrown out of the block: a `catch` writes them back
 *   and throws again. Not while one of those calls runs (`hc`): the array is already current then,
 *   and a handler may have changed it before faulting (a REP string instruction's progress).
 *
 * The locals hold exactly what the array would hold at each of those points, because the compiled
 * code reads and writes them in the order it read and wrote the array. Only registers the block
 * writes are written back.
 *
 * This works on the generated text, whose register references are all of those three forms with a
 * constant index (effectiveAddress and inlineCode in block-compiler.ts). Text with any other form of
 * register access is left as it is (the function returns null).
 */

/** The dword register index (0..7) and bit shift of a byte register at `c.r8[k]` (block-compiler byteReg()). */
function byteRegister(k: number): { reg: number; shift: number } | null {
  if (k < 0 || k > 31 || (k & 3) > 1 || (k & 4) !== 0) return null;
  return { reg: k >> 3, shift: (k & 3) * 8 };
}
/** The dword register index of a word register at `c.r16[k]` (k = 4 * register number: the low half). */
function wordRegister(k: number): number | null {
  return k >= 0 && k <= 28 && (k & 3) === 0 ? k >> 2 : null;
}

const DWORD = /\bR\[(\d+)\]/g;
const DWORD_WRITE = /\bR\[(\d+)\] = (?!=)/g;
const PART_WRITE = /c\.r(8|16)\[(\d+)\] = (?!=)([^;]*);/g;
const PART_READ = /c\.r(8|16)\[(\d+)\]/g;
/** Statements that call something reading or writing the register array. */
const REGISTER_CALL = /(?:\bh\d+\(c, s \+ \d+\)|(?:m = )?c\.(?:push32\(v\)|pop32\(\)|peek32\(0\)|addSp\(-?\d+\)));/g;
/** Every call of those, in whatever form: unless REGISTER_CALL matches each of them, nothing is rewritten. */
const ANY_REGISTER_CALL = /\bh\d+\(|c\.(?:push32|pop32|peek32|addSp)\(/g;

/** The body with registers in locals, and the declarations and handler that go around it. */
export interface RegisterLocals {
  /** Declarations for the start of the function (after which `body` runs). */
  readonly declarations: string;
  /** The block's code with the registers in locals. */
  readonly body: string;
  /** The `catch` clause to put around `body`, writing the registers back when something is thrown. */
  readonly catchClause: string;
}

/**
 * `body` (a compiled block's code, without its first line of locals) with the general registers in
 * locals, or null when it accesses them in a form this does not know.
 */
export function registersInLocals(body: string): RegisterLocals | null {
  const used = new Set<number>(), written = new Set<number>();
  let unknown = false;
  const dword = (k: string): number => {
    const n = Number(k);
    if ((n & 1) !== 0 || n > 14) unknown = true;
    return n >> 1;
  };
  for (const [, k] of body.matchAll(DWORD)) used.add(dword(k!));
  for (const [, k] of body.matchAll(DWORD_WRITE)) written.add(dword(k!));
  for (const [, size, k] of body.matchAll(PART_READ)) {
    const reg = size === '8' ? byteRegister(Number(k))?.reg : wordRegister(Number(k));
    if (reg == null) unknown = true;
    else used.add(reg);
  }
  for (const [, size, k] of body.matchAll(PART_WRITE)) {
    const reg = size === '8' ? byteRegister(Number(k))?.reg : wordRegister(Number(k));
    if (reg != null) written.add(reg);
  }
  if (unknown || used.size === 0) return null;

  const ordered = [...used].sort((a, b) => a - b);
  const spill = [...written].sort((a, b) => a - b).map((r) => `R[${r << 1}] = g${r};`).join(' ');
  const reload = ordered.map((r) => `g${r} = R[${r << 1}];`).join(' ');
  let code = body
    // Partial writes first (their right-hand sides may read registers, rewritten below).
    .replace(PART_WRITE, (_, size: string, k: string, value: string) => {
      if (size === '8') {
        const { reg, shift } = byteRegister(Number(k))!;
        return `g${reg} = (g${reg} & ${~(0xff << shift)}) | (((${value}) & 255) << ${shift});`;
      }
      const reg = wordRegister(Number(k))!;
      return `g${reg} = (g${reg} & -65536) | ((${value}) & 65535);`;
    })
    .replace(PART_READ, (_, size: string, k: string) => {
      if (size === '8') {
        const { reg, shift } = byteRegister(Number(k))!;
        return shift === 0 ? `(g${reg} & 255)` : `((g${reg} >>> ${shift}) & 255)`;
      }
      return `(g${wordRegister(Number(k))!} & 65535)`;
    })
    .replace(DWORD, (_, k: string) => `g${Number(k) >> 1}`);
  if (/\bR\[|c\.r(8|16|32)\b/.test(code)) return null;
  if ((code.match(ANY_REGISTER_CALL)?.length ?? 0) !== (code.match(REGISTER_CALL)?.length ?? 0)) return null;
  code = code
    .replace(REGISTER_CALL, (call) => `{ ${spill} hc = 1; ${call} hc = 0; ${reload} }`)
    .replace(/\breturn ([^;]+);/g, (_, value: string) => `{ ${spill} return ${value}; }`);
  return {
    declarations: `let hc = 0, ${ordered.map((r) => `g${r} = R[${r << 1}]`).join(', ')};`,
    body: code,
    catchClause: `catch (thrown) { if (hc === 0) { ${spill} } throw thrown; }`,
  };
}
