import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Paging } from '../src/index.js';
import type { PhysicalMemory } from '../src/index.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, E, EFER_NXE, XD_HI, newMemory } from './page-tables.js';

/*
 * Model check of the TLB: a Paging instance whose TLB lives across random page-table edits (each
 * followed by the invalidations the SDM requires: INVLPG of every affected page, CR3 reload after a
 * PDPTE edit) must translate every access exactly like a fresh walk with an empty TLB.
 */

const CR3 = 0x1000;
const TABLES = [0x2000, 0x3000, 0x4000, 0x5000]; // page tables (and PAE page directories 0x6000..)
const PAE_DIRS = [0x6000, 0x7000, 0x8000, 0x9000];
const TABLES_START = 0x1000;
const TABLES_END = 0xa000;
const LEGACY_PDE = [1, 0x300];
const LEGACY_PTE = [0, 1, 0x3ff];
const PAE_PDPTE = [0, 3];
const PAE_PDE = [1, 0x1ff];
const PAE_PTE = [0, 0x1ff];

const legacyPages = LEGACY_PDE.flatMap((d) => LEGACY_PTE.map((t) => ((d << 22) | (t << 12)) >>> 0));
const paePages = PAE_PDPTE.flatMap((p) => PAE_PDE.flatMap((d) => PAE_PTE.map((t) => ((p << 30) | (d << 21) | (t << 12)) >>> 0)));

/** Random entry: low flag bits, a frame (a table page for non-leaf entries), occasional high noise. */
const entryArb = fc.record({
  // Present 4 times out of 5, other flag bits uniformly random.
  flags: fc.tuple(fc.integer({ min: 0, max: 0x1ff }), fc.integer({ min: 0, max: 4 })).map(([f, r]) => (r > 0 ? f | E.P : f & ~E.P)),
  frame: fc.integer({ min: 0, max: 0x7ff }), // page number; above 0x3ff is beyond the 4 MiB of RAM
  table: fc.integer({ min: 0, max: 3 }),
  noise: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1ff }) }),
  hi: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(XD_HI) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) }),
});
type Entry = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

const opArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('access' as const), page: fc.nat({ max: 63 }), offset: fc.integer({ min: 0, max: 0xfff }), kind: fc.constantFrom(0 as const, 1 as const, 2 as const), user: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('pte' as const), byFlush: fc.boolean(), table: fc.integer({ min: 0, max: 3 }), index: fc.nat(), entry: entryArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('pde' as const), byFlush: fc.boolean(), dir: fc.integer({ min: 0, max: 3 }), index: fc.nat(), entry: entryArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pdpte' as const), index: fc.integer({ min: 0, max: 3 }), dir: fc.integer({ min: 0, max: 3 }), present: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cr3' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('control' as const), wp: fc.boolean(), pge: fc.boolean(), pse: fc.boolean(), nxe: fc.boolean() }) },
);

function leafOrTable(e: Entry, pae: boolean, tableLevel: boolean): number {
  const low = e.flags | (e.noise << 12);
  if (tableLevel && (e.flags & E.PS) === 0) return (TABLES[e.table] | (e.flags & 0xfff)) >>> 0;
  if (tableLevel) return ((e.frame << (pae ? 21 : 22)) | (e.noise << 13) | e.flags) >>> 0;
  return ((e.frame << 12) | (low & 0xfff)) >>> 0;
}

function writeEntry(m: PhysicalMemory, addr: number, pae: boolean, lo: number, hi: number): void {
  m.writePhys32(addr, lo);
  if (pae) m.writePhys32(addr + 4, hi);
}

/** Offset (from TABLES_START) of the first byte of the tables that differs from `before`, or -1. */
function firstDifference(ram: Uint8Array, before: Uint8Array): number {
  for (let i = 0; i < before.length; i++) if (ram[TABLES_START + i] !== before[i]) return i;
  return -1;
}

type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** One memory and two Paging instances reused by all runs of a property (they are reset per run). */
interface Rig {
  memory: PhysicalMemory;
  cut: Paging;
  ref: Paging;
}

function newRig(): Rig {
  const memory = newMemory();
  return { memory, cut: new Paging(memory), ref: new Paging(memory) };
}

function runModel(rig: Rig, pae: boolean, ops: Op[]): void {
  const { memory, cut, ref } = rig;
  memory.ram.fill(0);
  cut.flush(true);
  const pages = pae ? paePages : legacyPages;
  const entrySize = pae ? 8 : 4;
  const pteShift = 12;
  const pteMask = pae ? 0x1ff : 0x3ff;
  // Initial tables: every PDPTE present -> directory i; directories and tables empty.
  if (pae) for (let i = 0; i < 4; i++) writeEntry(memory, CR3 + i * 8, true, PAE_DIRS[i] | E.P, 0);
  // Start from a fully mapped state so that random edits degrade a working translation.
  const rwx = E.P | E.RW | E.US;
  (pae ? PAE_PDE : LEGACY_PDE).forEach((d, i) => {
    if (pae) for (const dir of PAE_DIRS) writeEntry(memory, dir + d * 8, true, TABLES[i % 4] | rwx, 0);
    else writeEntry(memory, CR3 + d * 4, false, TABLES[i % 4] | rwx, 0);
  });
  for (const table of TABLES) {
    (pae ? PAE_PTE : LEGACY_PTE).forEach((t, i) => writeEntry(memory, table + t * entrySize, pae, ((0x100 + i * 8 + (table >>> 12)) << 12) | rwx, 0));
  }
  let cr0 = CR0_PE | CR0_PG;
  let cr4 = pae ? CR4_PAE : 0;
  let efer = 0;
  cut.setControl(cr0, CR3, cr4, efer);
  ref.setControl(cr0, CR3, cr4, efer);
  /** The invalidation the SDM requires after an edit: INVLPG of each affected page, or a flush. */
  const invalidateWhere = (byFlush: boolean, match: (lin: number) => boolean): void => {
    if (!byFlush) {
      for (const lin of pages) if (match(lin)) cut.invalidatePage(lin);
    } else if ((cr4 & CR4_PGE) === 0) {
      cut.writeCr3(CR3); // no global pages: a CR3 reload flushes everything
    } else {
      cut.writeCr4(cr4 & ~CR4_PGE); // global pages may be affected: toggle CR4.PGE as Linux does
      cut.writeCr4(cr4);
    }
  };

  for (const op of ops) {
    switch (op.t) {
      case 'access': {
        const lin = pages[op.page % pages.length] + op.offset;
        const got = cut.translate(lin, op.kind, op.user);
        const tablesAfterCut = memory.ram.slice(TABLES_START, TABLES_END);
        ref.flush(true);
        const expected = ref.translate(lin, op.kind, op.user);
        expect(got).toBe(expected);
        if (got < 0) {
          expect(cut.faultErrorCode).toBe(ref.faultErrorCode);
          expect(cut.faultAddress).toBe(lin);
        }
        // A/D: whatever a fresh walk would set, the cached path has already set (hits set nothing new).
        expect(firstDifference(memory.ram, tablesAfterCut)).toBe(-1);
        break;
      }
      case 'pte': {
        const list = pae ? PAE_PTE : LEGACY_PTE;
        const index = list[op.index % list.length];
        writeEntry(memory, TABLES[op.table] + index * entrySize, pae, leafOrTable(op.entry, pae, false), op.entry.hi);
        invalidateWhere(op.byFlush, (lin) => ((lin >>> pteShift) & pteMask) === index);
        break;
      }
      case 'pde': {
        if (pae) {
          const index = PAE_PDE[op.index % PAE_PDE.length];
          writeEntry(memory, PAE_DIRS[op.dir] + index * 8, true, leafOrTable(op.entry, true, true), op.entry.hi);
          invalidateWhere(op.byFlush, (lin) => ((lin >>> 21) & 0x1ff) === index);
        } else {
          const index = LEGACY_PDE[op.index % LEGACY_PDE.length];
          writeEntry(memory, CR3 + index * 4, false, leafOrTable(op.entry, false, true), 0);
          invalidateWhere(op.byFlush, (lin) => lin >>> 22 === index);
        }
        break;
      }
      case 'pdpte': {
        if (!pae) break;
        writeEntry(memory, CR3 + op.index * 8, true, op.present ? PAE_DIRS[op.dir] | E.P : 0, 0);
        cut.writeCr3(CR3); // loads the new PDPTEs
        invalidateWhere(true, () => true); // global pages under the old PDPTE survive a CR3 load
        ref.setControl(cr0, CR3, cr4, efer);
        break;
      }
      case 'cr3':
        cut.writeCr3(CR3);
        break;
      case 'control': {
        cr0 = CR0_PE | CR0_PG | (op.wp ? CR0_WP : 0);
        cr4 = (pae ? CR4_PAE : 0) | (op.pge ? CR4_PGE : 0) | (op.pse ? CR4_PSE : 0);
        efer = op.nxe ? EFER_NXE : 0;
        cut.writeCr0(cr0);
        cut.writeCr4(cr4);
        cut.writeEfer(efer);
        ref.setControl(cr0, CR3, cr4, efer);
        break;
      }
    }
  }
}

const opsArb = fc.array(opArb, { minLength: 40, maxLength: 120 });

describe('TLB consistency (property)', () => {
  it('32-bit paging: cached translations equal a fresh walk after edits + required invalidations', () => {
    const rig = newRig();
    fc.assert(fc.property(opsArb, (ops) => runModel(rig, false, ops)), { numRuns: 200 });
  }, 60_000);

  it('PAE paging: cached translations equal a fresh walk after edits + required invalidations', () => {
    const rig = newRig();
    fc.assert(fc.property(opsArb, (ops) => runModel(rig, true, ops)), { numRuns: 200 });
  }, 60_000);
});
