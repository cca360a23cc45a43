import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/disasm/disassemble.js';
import { instructionCases } from './instruction-cases.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { normalizeObjdump, normalizeOurs, objdumpAvailable, objdumpCases, SLOT_SIZE } from './objdump-oracle.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe.skipIf(!objdumpAvailable())('agreement with GNU objdump -M intel', () => {
  for (const mode of [32, 16] as const) {
    it(`${mode}-bit mode`, () => {
      const cases = instructionCases(mode);
      const theirs = objdumpCases(cases.map((c) => c.bytes), mode);
      const diffs: string[] = [];
      const counts = new Map<string, number>();
      cases.forEach((c, i) => {
        const ours = disassemble(c.bytes, 0, { mode, address: i * SLOT_SIZE });
        const ref = theirs[i];
        const refText = normalizeObjdump(ref.text, c.bytes, mode);
        if (ours.text === '(bad)' && refText.includes('(bad)')) return;
        if (normalizeOurs(ours.text) === refText && ours.length === ref.length) return;
        const known = KNOWN_DIFFERENCES.find((k) => k.matches(c.bytes, ours.text, refText, mode));
        if (known !== undefined) { counts.set(known.id, (counts.get(known.id) ?? 0) + 1); return; }
        diffs.push(`${hex(c.bytes.subarray(0, Math.max(ours.length, ref.length)))} | ours ${ours.length} ${ours.text} | objdump ${ref.length} ${refText}`);
      });
      const known = [...counts.values()].reduce((a, b) => a + b, 0);
      const agreed = cases.length - known - diffs.length;
      console.log(`${mode}-bit: ${cases.length} cases, ${agreed} agree (${(100 * agreed / cases.length).toFixed(2)}%), ` +
        `${known} known differences, ${diffs.length} unexplained`);
      for (const k of KNOWN_DIFFERENCES) console.log(`  ${String(counts.get(k.id) ?? 0).padStart(6)}  ${k.id}: ${k.reason}`);
      // One example per distinct (objdump mnemonic, our mnemonic) pair keeps the report readable.
      const seen = new Set<string>();
      const examples = diffs.filter((d) => {
        const key = d.replace(/^[0-9a-f ]+\| ours \d+ /, '').replace(/ .*\| objdump \d+ /, '|').split(' ')[0];
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      console.log(examples.slice(0, 300).join('\n'));
      expect(diffs.length).toBe(0);
    }, 120_000);
  }
});
