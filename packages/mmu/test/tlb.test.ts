import { describe, expect, it } from 'vitest';
import { AccessKind, Paging, TLB_FRAME_MASK, TlbFlag, tlbAccessBit } from '../src/index.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, E, newMemory, setPde, setPte } from './page-tables.js';

const CR3 = 0x1000;
const PT = 0x2000;
const PG = CR0_PE | CR0_PG;

/** Maps linear pages 0x00400000 + i * 4096 -> 0x00300000 + i * 4096 with `flags(i)`. */
function setup(flags: (i: number) => number = () => E.P | E.RW | E.US, cr0 = PG, cr4 = 0) {
  const memory = newMemory();
  setPde(memory, CR3, 0x00400000, PT | E.P | E.RW | E.US);
  for (let i = 0; i < 16; i++) setPte(memory, PT, 0x00400000 + i * 4096, (0x00300000 + i * 4096) | flags(i));
  const paging = new Paging(memory);
  paging.setControl(cr0, CR3, cr4, 0);
  return { memory, paging };
}
const lin = (i: number, offset = 0): number => 0x00400000 + i * 4096 + offset;
const phys = (i: number, offset = 0): number => 0x00300000 + i * 4096 + offset;

describe('software TLB', () => {
  it('caches a walk: the entry holds the frame and the rights, and lookup hits', () => {
    const { paging } = setup();
    expect(paging.lookup(lin(0), AccessKind.Read, false)).toBe(-1);
    paging.translate(lin(0), AccessKind.Write, true);
    const e = paging.tlbEntries[lin(0) >>> 12];
    expect((e & TLB_FRAME_MASK) >>> 0).toBe(phys(0));
    const all = TlbFlag.SupervisorRead | TlbFlag.SupervisorWrite | TlbFlag.SupervisorExecute | TlbFlag.UserRead | TlbFlag.UserWrite | TlbFlag.UserExecute;
    expect(e & all).toBe(all);
    expect(e & TlbFlag.Dirty).toBe(TlbFlag.Dirty);
    expect(paging.lookup(lin(0, 0xabc), AccessKind.Execute, true)).toBe(phys(0, 0xabc));
    expect(e & tlbAccessBit(AccessKind.Write, true)).not.toBe(0);
  });

  it('keeps serving a stale translation until INVLPG, as hardware may', () => {
    const { memory, paging } = setup();
    expect(paging.translate(lin(1), AccessKind.Read, false)).toBe(phys(1));
    setPte(memory, PT, lin(1), 0x00500000 | E.P | E.RW);
    expect(paging.translate(lin(1), AccessKind.Read, false)).toBe(phys(1));
    paging.invalidatePage(lin(1, 0x800));
    expect(paging.translate(lin(1), AccessKind.Read, false)).toBe(0x00500000);
  });

  it('never lets a write hit a clean page: the walk sets D', () => {
    const { memory, paging } = setup();
    paging.translate(lin(2), AccessKind.Read, true);
    expect(paging.lookup(lin(2), AccessKind.Write, true)).toBe(-1);
    expect(paging.lookup(lin(2), AccessKind.Write, false)).toBe(-1);
    expect(memory.readPhys32(PT + 8) & E.D).toBe(0);
    expect(paging.translate(lin(2), AccessKind.Write, true)).toBe(phys(2));
    expect(memory.readPhys32(PT + 8) & E.D).toBe(E.D);
    expect(paging.lookup(lin(2), AccessKind.Write, true)).toBe(phys(2));
  });

  it('honours WP for cached read-only pages; a CR0.WP change flushes', () => {
    const { paging } = setup(() => E.P | E.US | E.D);
    expect(paging.translate(lin(3), AccessKind.Write, false)).toBe(phys(3)); // WP=0
    expect(paging.lookup(lin(3), AccessKind.Write, true)).toBe(-1);
    paging.writeCr0(PG | CR0_WP);
    expect(paging.lookup(lin(3), AccessKind.Read, false)).toBe(-1);
    expect(paging.translate(lin(3), AccessKind.Read, false)).toBe(phys(3));
    expect(paging.lookup(lin(3), AccessKind.Write, false)).toBe(-1);
    expect(paging.translate(lin(3), AccessKind.Write, false)).toBe(-1);
  });

  it('never lets a user access hit a supervisor page', () => {
    const { paging } = setup(() => E.P | E.RW | E.D);
    paging.translate(lin(4), AccessKind.Write, false);
    expect(paging.lookup(lin(4), AccessKind.Read, true)).toBe(-1);
    expect(paging.translate(lin(4), AccessKind.Read, true)).toBe(-1);
    // The fault dropped the entry (SDM: a #PF invalidates the faulting page).
    expect(paging.lookup(lin(4), AccessKind.Read, false)).toBe(-1);
  });

  it('keeps global pages across CR3 reloads only with CR4.PGE', () => {
    const flags = (i: number): number => E.P | E.RW | (i === 5 ? E.G : 0);
    const { paging } = setup(flags, PG, CR4_PGE);
    paging.translate(lin(5), AccessKind.Read, false);
    paging.translate(lin(6), AccessKind.Read, false);
    paging.writeCr3(CR3);
    expect(paging.lookup(lin(5), AccessKind.Read, false)).toBe(phys(5));
    expect(paging.lookup(lin(6), AccessKind.Read, false)).toBe(-1);
    expect(paging.tlbSize).toBe(1);
    // Reloading all control registers at once is also a CR3 load.
    paging.setControl(PG, CR3, CR4_PGE, 0);
    expect(paging.lookup(lin(5), AccessKind.Read, false)).toBe(phys(5));
    // INVLPG drops global pages too.
    paging.invalidatePage(lin(5));
    expect(paging.lookup(lin(5), AccessKind.Read, false)).toBe(-1);
    // Toggling CR4.PGE flushes globals.
    paging.translate(lin(5), AccessKind.Read, false);
    paging.writeCr4(0);
    expect(paging.lookup(lin(5), AccessKind.Read, false)).toBe(-1);
    // Without PGE the G bit is ignored.
    paging.translate(lin(5), AccessKind.Read, false);
    paging.writeCr3(CR3);
    expect(paging.lookup(lin(5), AccessKind.Read, false)).toBe(-1);
  });

  it('flush(true) drops global entries too; flush(false) keeps them', () => {
    const { paging } = setup(() => E.P | E.RW | E.G, PG, CR4_PGE);
    paging.translate(lin(7), AccessKind.Read, false);
    paging.flush(false);
    expect(paging.lookup(lin(7), AccessKind.Read, false)).toBe(phys(7));
    paging.flush(true);
    expect(paging.lookup(lin(7), AccessKind.Read, false)).toBe(-1);
    expect(paging.tlbSize).toBe(0);
  });

  it('does not flush on CR0/CR4 writes that leave the paging bits alone (e.g. CLTS)', () => {
    const { paging } = setup();
    paging.translate(lin(8), AccessKind.Read, false);
    paging.writeCr0(PG | 0x8); // TS
    paging.writeCr4(1 << 9); // OSFXSR
    paging.writeEfer(1); // SCE
    expect(paging.lookup(lin(8), AccessKind.Read, false)).toBe(phys(8));
    paging.writeCr4((1 << 9) | CR4_PSE);
    expect(paging.lookup(lin(8), AccessKind.Read, false)).toBe(-1);
  });

  it('flushes when paging is turned on or off and when the A20 gate changes', () => {
    const { paging } = setup();
    paging.writeCr0(CR0_PE);
    expect(paging.translate(lin(9), AccessKind.Read, false)).toBe(lin(9));
    paging.writeCr0(PG);
    expect(paging.translate(lin(9), AccessKind.Read, false)).toBe(phys(9));
    paging.writeCr0(CR0_PE);
    paging.translate(0x00100000, AccessKind.Read, false);
    paging.setA20(false);
    expect(paging.lookup(0x00100000, AccessKind.Read, false)).toBe(-1);
    expect(paging.translate(0x00100000, AccessKind.Read, false)).toBe(0);
  });

  it('INVLPG anywhere in a 4 MiB page drops every cached piece of it', () => {
    const memory = newMemory();
    setPde(memory, CR3, 0xc0000000, 0x00400000 | E.P | E.RW | E.PS);
    const paging = new Paging(memory);
    paging.setControl(PG, CR3, CR4_PSE, 0);
    paging.translate(0xc0000000, AccessKind.Read, false);
    paging.translate(0xc0123000, AccessKind.Read, false);
    setPde(memory, CR3, 0xc0000000, 0x00800000 | E.P | E.RW | E.PS);
    paging.invalidatePage(0xc03ff000); // a piece that was never cached
    expect(paging.translate(0xc0000000, AccessKind.Read, false)).toBe(0x00800000);
    expect(paging.translate(0xc0123000, AccessKind.Read, false)).toBe(0x00923000);
  });

  it('a flush costs only the filled entries (the list holds each page once)', () => {
    const { paging } = setup();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 16; i++) {
        paging.translate(lin(i), AccessKind.Read, false);
        paging.invalidatePage(lin(i));
        paging.translate(lin(i), AccessKind.Write, false);
      }
    }
    expect(paging.tlbSize).toBe(16);
    paging.writeCr3(CR3);
    expect(paging.tlbSize).toBe(0);
  });
});
