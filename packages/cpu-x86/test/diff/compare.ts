import { GPR_NAMES, type CaseResult, type DiffCase } from './case-format.js';
import { COMPARED_FLAGS, flagNames } from './flags.js';

/** Exceptions that push an error code; for the rest the code is not compared. */
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);

/** How one case's interpreter result differs from the hardware result ('' = identical). */
export function compareResults(c: DiffCase, hw: CaseResult, emu: CaseResult): string {
  const problems: string[] = [];
  if (hw.vector !== emu.vector) {
    problems.push(`exception: hardware ${vectorName(hw.vector)}, interpreter ${vectorName(emu.vector)}`);
  } else if (hw.vector >= 0 && HAS_ERROR_CODE.has(hw.vector) && hw.vector !== 14 && (hw.errorCode & 0xffff) !== (emu.errorCode & 0xffff)) {
    problems.push(`error code: hardware ${hex(hw.errorCode)}, interpreter ${hex(emu.errorCode)}`);
  }
  if (hw.eip !== emu.eip) problems.push(`eip: hardware ${hex(hw.eip)}, interpreter ${hex(emu.eip)}`);
  for (let r = 0; r < 8; r++) {
    if (c.undefinedRegs & (1 << r)) continue;
    if (hw.regs[r] !== emu.regs[r]) problems.push(`${GPR_NAMES[r]}: hardware ${hex(hw.regs[r] as number)}, interpreter ${hex(emu.regs[r] as number)}`);
  }
  const mask = COMPARED_FLAGS & ~c.undefinedFlags;
  const flagDiff = (hw.eflags ^ emu.eflags) & mask;
  if (flagDiff !== 0) {
    problems.push(`eflags: hardware ${hex(hw.eflags & mask)}, interpreter ${hex(emu.eflags & mask)} (differ in ${flagNames(flagDiff)})`);
  }
  const memory = compareMemory(hw.memoryChanges, emu.memoryChanges);
  if (memory) problems.push(memory);
  return problems.join('; ');
}

function compareMemory(hw: Uint32Array, emu: Uint32Array): string {
  const a = new Map<number, number>();
  const b = new Map<number, number>();
  for (const x of hw) a.set(x >>> 8, x & 0xff);
  for (const x of emu) b.set(x >>> 8, x & 0xff);
  const diffs: string[] = [];
  for (const addr of new Set([...a.keys(), ...b.keys()])) {
    const hv = a.get(addr);
    const ev = b.get(addr);
    if (hv !== ev) diffs.push(`[${hex(addr)}] hw ${hv === undefined ? 'unchanged' : hex(hv)} emu ${ev === undefined ? 'unchanged' : hex(ev)}`);
  }
  if (diffs.length === 0) return '';
  diffs.sort();
  return `memory: ${diffs.slice(0, 6).join(', ')}${diffs.length > 6 ? ` (+${diffs.length - 6} more)` : ''}`;
}

export function vectorName(v: number): string {
  const names: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 0x100: 'no end (timeout/halt)', 0x101: 'host exception thrown' };
  if (v < 0) return 'none';
  return names[v] ?? `vector ${v}`;
}

export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** One line describing a case, enough to reproduce it by hand. */
export function describeCase(c: DiffCase): string {
  const bytes = [...c.code].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const regs = GPR_NAMES.map((n, i) => `${n}=${hex(c.regs[i] as number)}`).join(' ');
  const patches = c.patches.map((p) => `[${hex(p.address)}]=${p.bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`).join(' ');
  return `#${c.index} ${c.opcode} ${c.form}: bytes ${bytes} | ${regs} eflags=${hex(c.eflags)} | mem seed ${hex(c.memorySeed)} ${patches}`;
}
