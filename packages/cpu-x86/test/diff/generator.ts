import { CaseBuilder } from './builder.js';
import { CODE_MAX, type DiffCase } from './case-format.js';
import { FORMS, SEQUENCE_FORMS, type Form } from './forms.js';
import { Rng } from './rng.js';

const SEQUENCE_SHARE = 0.2;
const MAX_SEQUENCE = 6;

/**
 * Generates `count` cases for batch `batch` of `seed`. Deterministic: the same (seed, batch, count)
 * always gives the same cases. Each batch starts with one case per form (so every opcode form is
 * covered in every batch), then draws weighted forms and random multi-instruction sequences.
 */
export function generateBatch(seed: number, batch: number, count: number): DiffCase[] {
  const rng = new Rng((seed ^ Math.imul(batch + 1, 0x9e3779b1)) >>> 0);
  const cases: DiffCase[] = [];
  const totalWeight = FORMS.reduce((s, f) => s + f.weight, 0);
  const pickForm = (): Form => {
    let x = rng.u32() / 0x100000000 * totalWeight;
    for (const f of FORMS) {
      x -= f.weight;
      if (x < 0) return f;
    }
    return FORMS[FORMS.length - 1] as Form;
  };
  for (let index = 0; index < count; index++) {
    if (index >= FORMS.length && rng.bool(SEQUENCE_SHARE)) {
      cases.push(sequenceCase(new Rng(rng.u32()), index));
    } else {
      const f = index < FORMS.length ? (FORMS[index] as Form) : pickForm();
      cases.push(singleCase(new Rng(rng.u32()), f, index));
    }
  }
  return cases;
}

function singleCase(rng: Rng, f: Form, index: number): DiffCase {
  for (;;) {
    const b = new CaseBuilder(rng);
    b.opcode = f.opcode;
    b.form = f.name;
    f.gen(b);
    if (b.rejected) continue;
    b.end();
    b.undefinedFlags = b.flagsUndefined;
    return b.finish(index);
  }
}

function sequenceCase(rng: Rng, index: number): DiffCase {
  const b = new CaseBuilder(rng, true);
  const length = rng.range(2, MAX_SEQUENCE);
  let tainted = 0;
  const names: string[] = [];
  for (let i = 0, attempts = 0; i < length && attempts < 100; attempts++) {
    const f = rng.pick(SEQUENCE_FORMS);
    const codeLength = b.code.length;
    const patchCount = b.patches.length;
    b.flagsRead = b.flagsWritten = b.flagsUndefined = 0;
    b.rejected = false;
    f.gen(b);
    b.end();
    // Reject what would read a flag an earlier instruction left undefined, or overflow the code page.
    if (b.rejected || (b.flagsRead & tainted) !== 0 || b.code.length > CODE_MAX || b.patches.length > 8) {
      b.code.length = codeLength;
      b.patches.length = patchCount;
      continue;
    }
    tainted = (tainted & ~b.flagsWritten) | b.flagsUndefined;
    names.push(f.opcode);
    i++;
  }
  b.opcode = 'seq';
  b.form = `sequence ${names.join(' ; ')}`;
  b.undefinedFlags = tainted;
  return b.finish(index);
}
