/**
 * GNU objdump as a reference disassembler for the tests: builds one binary of instruction slots, runs
 * `objdump -D -b binary -M intel` on it once, and normalizes objdump's text to our conventions.
 *
 * Slot layout: each case's bytes are followed by 0x90 (nop) up to SLOT_SIZE. Bytes objdump does not
 * take into its first instruction decode as junk that ends well inside the nop run (an instruction
 * is at most 15 bytes), so every slot start is an instruction boundary for objdump too.
 *
 * Normalization (applied to objdump's text only; ours is compared as produced):
 * - lower case, single spaces, no space after commas, `(8087 only)`/`(287 only)` notes dropped;
 * - absolute addresses `seg:0x10` become `seg:[0x10]`, and `ds:` is dropped unless the instruction
 *   really has a 3E prefix (objdump writes `ds:` on every absolute address; we show a segment only
 *   when a prefix overrides it);
 * - string instructions and xlat with their default operands (`movs DWORD PTR es:[edi],DWORD PTR
 *   ds:[esi]`) become the short forms we print (`movsd`), when no 67 or 3E prefix is involved.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes reserved per case in the binary given to objdump. */
export const SLOT_SIZE = 48;

/** objdump's first instruction of a slot. */
export interface ObjdumpLine {
  readonly length: number;
  readonly text: string;
}

/** True when objdump can be run. */
export function objdumpAvailable(): boolean {
  try {
    execFileSync('objdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Disassembles each case with objdump (one process for all); returns objdump's raw line per case. */
export function objdumpCases(cases: readonly Uint8Array[], mode: 16 | 32): ObjdumpLine[] {
  const image = new Uint8Array(cases.length * SLOT_SIZE).fill(0x90);
  cases.forEach((c, i) => image.set(c, i * SLOT_SIZE));
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-disasm-'));
  try {
    const file = join(dir, 'cases.bin');
    writeFileSync(file, image);
    const out = execFileSync('objdump', ['-D', '-b', 'binary', '-m', mode === 16 ? 'i8086' : 'i386', '-M', 'intel',
      '--insn-width=16', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const byAddress = new Map<number, ObjdumpLine>();
    for (const line of out.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/.exec(line);
      if (m === null) continue;
      const address = parseInt(m[1], 16);
      if (address % SLOT_SIZE !== 0) continue;
      byAddress.set(address, { length: m[2].trim().split(' ').length, text: m[3] });
    }
    return cases.map((_, i) => byAddress.get(i * SLOT_SIZE) ?? { length: 0, text: '<missing>' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const STRING_OPS: readonly [string, boolean][] = [
  ['movs', true], ['cmps', true], ['stos', false], ['lods', true], ['scas', false], ['ins', false], ['outs', true],
];

function stringOperands(base: string, size: string, acc: string, si: string, di: string): string {
  const src = `${size} ptr ds:${si}`, dst = `${size} ptr es:${di}`;
  switch (base) {
    case 'movs': return `${dst},${src}`;
    case 'cmps': return `${src},${dst}`;
    case 'stos': return `${dst},${acc}`;
    case 'lods': return `${acc},${src}`;
    case 'scas': return `${acc},${dst}`;
    case 'ins': return `${dst},dx`;
    default: return `dx,${src}`;
  }
}

function leadingPrefixes(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of bytes) {
    if (![0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(b)) break;
    out.push(b);
  }
  return out;
}

/** Normalizes objdump's text for `bytes` in `mode` (see the module documentation). */
export function normalizeObjdump(text: string, bytes: Uint8Array, mode: 16 | 32): string {
  const prefixes = leadingPrefixes(bytes);
  let t = text.toLowerCase().replace(/\((8087|287) only\)/g, '').replace(/\s+/g, ' ').trim().replace(/, /g, ',');
  if (!prefixes.includes(0x67)) {
    const a32 = mode === 32;
    const si = a32 ? '[esi]' : '[si]', di = a32 ? '[edi]' : '[di]';
    for (const [base, usesSource] of STRING_OPS) {
      if (usesSource && prefixes.includes(0x3e)) continue;
      for (const [size, suffix, acc] of [['byte', 'b', 'al'], ['word', 'w', 'ax'], ['dword', 'd', 'eax']]) {
        const long = `${base} ${stringOperands(base, size, acc, si, di)}`;
        if (t === long || t.endsWith(' ' + long)) t = t.slice(0, t.length - long.length) + base + suffix;
      }
    }
    const xlat = `xlat byte ptr ds:${a32 ? '[ebx]' : '[bx]'}`;
    if (!prefixes.includes(0x3e) && (t === xlat || t.endsWith(' ' + xlat))) t = t.slice(0, t.length - xlat.length) + 'xlatb';
  }
  t = t.replace(/\b([cdefgs]s):(0x[0-9a-f]+)/g, '$1:[$2]');
  if (!prefixes.includes(0x3e)) t = t.replace(/ds:\[/g, '[');
  return t;
}

/** Our text in the comparison form (single spaces, no space after commas). */
export function normalizeOurs(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/, /g, ',');
}
