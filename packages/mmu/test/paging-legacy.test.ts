import { describe, expect, it } from 'vitest';
import { AccessKind, PageFaultError as PF, Paging } from '../src/index.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PSE, E, newMemory, setPde, setPte } from './page-tables.js';

const CR3 = 0x1000;
const PT = 0x2000;
const LIN = 0x00401234; // PDE 1, PTE 1
const FRAME = 0x00300000;

/** A directory at CR3 with PDE 1 -> page table PT, and PTE 1 -> FRAME, both with `pdeFlags`/`pteFlags`. */
function setup(pdeFlags = E.P | E.RW | E.US, pteFlags = E.P | E.RW | E.US, cr0 = CR0_PE | CR0_PG) {
  const memory = newMemory();
  const pdeAddr = setPde(memory, CR3, LIN, PT | pdeFlags);
  const pteAddr = setPte(memory, PT, LIN, FRAME | pteFlags);
  const paging = new Paging(memory);
  paging.setControl(cr0, CR3, 0, 0);
  return { memory, paging, pdeAddr, pteAddr };
}

describe('paging disabled', () => {
  it('maps linear to physical one to one', () => {
    const paging = new Paging(newMemory());
    paging.setControl(CR0_PE, 0, 0, 0);
    expect(paging.translate(0xfffffff0, AccessKind.Execute, false)).toBe(0xfffffff0);
    expect(paging.translate(0x12345, AccessKind.Write, true)).toBe(0x12345);
  });

  it('masks bit 20 while the A20 gate is closed, and unmasks it when opened', () => {
    const paging = new Paging(newMemory());
    paging.setA20(false);
    expect(paging.translate(0x10fff0, AccessKind.Read, false)).toBe(0x0fff0);
    expect(paging.translate(0xfffffff0, AccessKind.Read, false)).toBe(0xffeffff0);
    paging.setA20(true);
    expect(paging.translate(0x10fff0, AccessKind.Read, false)).toBe(0x10fff0);
  });
});

describe('32-bit paging, 4 KiB pages', () => {
  it('walks the directory and the table', () => {
    const { paging } = setup();
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(FRAME | 0x234);
    expect(paging.translate(LIN | 0xfff, AccessKind.Write, true)).toBe(FRAME | 0xfff);
  });

  it('sets A on both levels on a read, and D only on the PTE on a write', () => {
    const { memory, paging, pdeAddr, pteAddr } = setup();
    paging.translate(LIN, AccessKind.Read, false);
    expect(memory.readPhys32(pdeAddr)).toBe(PT | E.P | E.RW | E.US | E.A);
    expect(memory.readPhys32(pteAddr)).toBe(FRAME | E.P | E.RW | E.US | E.A);
    paging.translate(LIN, AccessKind.Write, false);
    expect(memory.readPhys32(pdeAddr)).toBe(PT | E.P | E.RW | E.US | E.A);
    expect(memory.readPhys32(pteAddr)).toBe(FRAME | E.P | E.RW | E.US | E.A | E.D);
  });

  it('faults with P=0 on a not-present PDE or PTE, reporting W/R and U/S, and the address for CR2', () => {
    const a = setup(0);
    expect(a.paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(a.paging.faultErrorCode).toBe(0);
    expect(a.paging.faultAddress).toBe(LIN);
    const b = setup(E.P | E.RW | E.US, E.RW | E.US);
    expect(b.paging.translate(LIN + 1, AccessKind.Write, true)).toBe(-1);
    expect(b.paging.faultErrorCode).toBe(PF.Write | PF.User);
    expect(b.paging.faultAddress).toBe(LIN + 1);
    // Instruction fetches do not report I/D in 32-bit paging.
    expect(b.paging.translate(0xfffff000, AccessKind.Execute, true)).toBe(-1);
    expect(b.paging.faultErrorCode).toBe(PF.User);
    expect(b.paging.faultAddress).toBe(0xfffff000);
  });

  it('sets no A/D bit when the walk faults', () => {
    const notPresent = setup(E.P | E.RW | E.US, E.RW);
    notPresent.paging.translate(LIN, AccessKind.Write, false);
    expect(notPresent.memory.readPhys32(notPresent.pdeAddr) & (E.A | E.D)).toBe(0);
    const readOnly = setup(E.P | E.RW | E.US, E.P | E.US);
    expect(readOnly.paging.translate(LIN, AccessKind.Write, true)).toBe(-1);
    expect(readOnly.memory.readPhys32(readOnly.pdeAddr) & E.A).toBe(0);
    expect(readOnly.memory.readPhys32(readOnly.pteAddr) & (E.A | E.D)).toBe(0);
  });

  it('denies user access unless U/S=1 at both levels', () => {
    for (const [pde, pte] of [
      [E.P | E.RW, E.P | E.RW | E.US],
      [E.P | E.RW | E.US, E.P | E.RW],
    ]) {
      const { paging } = setup(pde, pte);
      expect(paging.translate(LIN, AccessKind.Read, true)).toBe(-1);
      expect(paging.faultErrorCode).toBe(PF.Present | PF.User);
      expect(paging.translate(LIN, AccessKind.Read, false)).toBe(FRAME | 0x234);
    }
  });

  it('denies user writes unless R/W=1 at both levels, regardless of WP', () => {
    for (const cr0 of [CR0_PE | CR0_PG, CR0_PE | CR0_PG | CR0_WP]) {
      for (const [pde, pte] of [
        [E.P | E.US, E.P | E.RW | E.US],
        [E.P | E.RW | E.US, E.P | E.US],
      ]) {
        const { paging } = setup(pde, pte, cr0);
        expect(paging.translate(LIN, AccessKind.Write, true)).toBe(-1);
        expect(paging.faultErrorCode).toBe(PF.Present | PF.Write | PF.User);
        expect(paging.translate(LIN, AccessKind.Read, true)).toBe(FRAME | 0x234);
      }
    }
  });

  it('lets supervisor writes hit read-only pages only when CR0.WP=0', () => {
    const off = setup(E.P | E.US, E.P | E.US);
    expect(off.paging.translate(LIN, AccessKind.Write, false)).toBe(FRAME | 0x234);
    expect(off.memory.readPhys32(off.pteAddr) & E.D).toBe(E.D);
    const on = setup(E.P, E.P | E.RW, CR0_PE | CR0_PG | CR0_WP);
    expect(on.paging.translate(LIN, AccessKind.Write, false)).toBe(-1);
    expect(on.paging.faultErrorCode).toBe(PF.Present | PF.Write);
  });

  it('ignores the PS bit while CR4.PSE=0', () => {
    const { memory, paging } = setup(E.P | E.RW | E.PS);
    paging.setControl(CR0_PE | CR0_PG, CR3, 0, 0);
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(FRAME | 0x234);
    expect(memory.readPhys32(CR3 + 4)).toBe(PT | E.P | E.RW | E.PS | E.A);
  });

  it('reads page-directory entries through the A20 mask', () => {
    const { memory, paging } = setup();
    // Directory at 0x101000 with the gate closed is read from 0x001000; the frame 0x300000 becomes 0x200000.
    memory.writePhys32(0x101000 + 4, 0);
    paging.setControl(CR0_PE | CR0_PG, 0x101000, 0, 0);
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    paging.setA20(false);
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(0x200234);
  });
});

describe('32-bit paging, 4 MiB pages (CR4.PSE)', () => {
  function large(pdeValue: number, cr0 = CR0_PE | CR0_PG) {
    const memory = newMemory();
    const pdeAddr = setPde(memory, CR3, 0xc0000000, pdeValue);
    const paging = new Paging(memory);
    paging.setControl(cr0, CR3, CR4_PSE, 0);
    return { memory, paging, pdeAddr };
  }

  it('maps 4 MiB with one PDE and sets A/D on it', () => {
    const { memory, paging, pdeAddr } = large(0x00400000 | E.P | E.RW | E.PS);
    expect(paging.translate(0xc0123456, AccessKind.Read, false)).toBe(0x00523456);
    expect(memory.readPhys32(pdeAddr)).toBe(0x00400000 | E.P | E.RW | E.PS | E.A);
    expect(paging.translate(0xc03ffffc, AccessKind.Write, false)).toBe(0x007ffffc);
    expect(memory.readPhys32(pdeAddr)).toBe(0x00400000 | E.P | E.RW | E.PS | E.A | E.D);
  });

  it('applies U/S and R/W of the PDE', () => {
    const { paging } = large(0x00400000 | E.P | E.US | E.PS, CR0_PE | CR0_PG | CR0_WP);
    expect(paging.translate(0xc0000000, AccessKind.Read, true)).toBe(0x00400000);
    expect(paging.translate(0xc0000000, AccessKind.Write, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.Write);
  });

  it('takes physical bits 35:32 from PDE bits 16:13 (PSE-36); such memory reads all ones', () => {
    const { memory, paging } = large(0x00400000 | (0x3 << 13) | E.P | E.RW | E.PS);
    const phys = paging.translate(0xc0000010, AccessKind.Read, false);
    expect(phys).toBe(0x3_0040_0010);
    expect(memory.readPhys32(phys)).toBe(0xffffffff);
  });

  it('says whether the last translation went through a large page, on a walk and on a TLB hit', () => {
    const { memory, paging } = large(0x00400000 | E.P | E.RW | E.PS);
    setPde(memory, CR3, LIN, PT | E.P | E.RW);
    setPte(memory, PT, LIN, FRAME | E.P | E.RW);
    const seen: boolean[] = [];
    for (const lin of [0xc0001000, LIN, 0xc0001000, LIN, 0xc0002000]) {
      expect(paging.translate(lin, AccessKind.Read, false)).toBeGreaterThanOrEqual(0);
      seen.push(paging.lastTranslationLarge);
    }
    expect(seen).toEqual([true, false, true, false, true]);
  });

  it('faults with RSVD when PDE bits 21:17 are set', () => {
    const { memory, paging, pdeAddr } = large(0x00400000 | (1 << 21) | E.P | E.RW | E.PS);
    expect(paging.translate(0xc0000000, AccessKind.Write, true)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit | PF.Write | PF.User);
    expect(memory.readPhys32(pdeAddr) & E.A).toBe(0);
  });
});
