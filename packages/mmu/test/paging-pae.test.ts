import { describe, expect, it } from 'vitest';
import { AccessKind, PageFaultError as PF, Paging } from '../src/index.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, E, EFER_NXE, XD_HI, newMemory, pae, write64 } from './page-tables.js';

const CR3 = 0x1020; // PDPT is 32-byte aligned, not page aligned
const PD = 0x2000;
const PT = 0x3000;
const LIN = 0xc0201234; // PDPTE 3, PDE 1, PTE 1
const FRAME = 0x00300000;

interface Options {
  pdeLo?: number;
  pdeHi?: number;
  pteLo?: number;
  pteHi?: number;
  efer?: number;
  cr0?: number;
}

function setup(o: Options = {}) {
  const memory = newMemory();
  write64(memory, CR3 + pae.pdpt(LIN) * 8, PD | E.P);
  const pdeAddr = write64(memory, PD + pae.pd(LIN) * 8, o.pdeLo ?? (PT | E.P | E.RW | E.US), o.pdeHi ?? 0);
  const pteAddr = write64(memory, PT + pae.pt(LIN) * 8, o.pteLo ?? (FRAME | E.P | E.RW | E.US), o.pteHi ?? 0);
  const paging = new Paging(memory);
  paging.setControl(o.cr0 ?? CR0_PE | CR0_PG, CR3, CR4_PAE, o.efer ?? 0);
  return { memory, paging, pdeAddr, pteAddr };
}

describe('PAE paging', () => {
  it('walks PDPTE -> PDE -> PTE with 64-bit entries', () => {
    const { paging } = setup();
    expect(paging.pdpteReservedFault).toBe(false);
    expect(paging.translate(LIN, AccessKind.Read, true)).toBe(FRAME | 0x234);
  });

  it('sets A on the PDE and PTE (not the PDPTE) and D on the PTE for a write', () => {
    const { memory, paging, pdeAddr, pteAddr } = setup();
    paging.translate(LIN, AccessKind.Write, false);
    expect(memory.readPhys32(CR3 + 24)).toBe(PD | E.P);
    expect(memory.readPhys32(pdeAddr)).toBe(PT | E.P | E.RW | E.US | E.A);
    expect(memory.readPhys32(pteAddr)).toBe(FRAME | E.P | E.RW | E.US | E.A | E.D);
    expect(memory.readPhys32(pteAddr + 4)).toBe(0);
  });

  it('faults with P=0 on a not-present PDPTE', () => {
    const { paging } = setup();
    expect(paging.translate(0x00001000, AccessKind.Write, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Write);
    expect(paging.faultAddress).toBe(0x1000);
  });

  it('maps 2 MiB pages from a PDE with PS=1, regardless of CR4.PSE', () => {
    const { memory, paging, pdeAddr } = setup({ pdeLo: 0x00600000 | E.P | E.RW | E.PS });
    expect(paging.translate(0xc03fffff, AccessKind.Write, false)).toBe(0x007fffff);
    expect(memory.readPhys32(pdeAddr)).toBe(0x00600000 | E.P | E.RW | E.PS | E.A | E.D);
  });

  it('applies the AND of U/S and R/W over PDE and PTE, and CR0.WP', () => {
    const { paging } = setup({ pdeLo: PT | E.P | E.US, cr0: CR0_PE | CR0_PG | CR0_WP });
    expect(paging.translate(LIN, AccessKind.Read, true)).toBe(FRAME | 0x234);
    expect(paging.translate(LIN, AccessKind.Write, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.Write);
    const user = setup({ pteLo: FRAME | E.P | E.RW });
    expect(user.paging.translate(LIN, AccessKind.Execute, true)).toBe(-1);
    expect(user.paging.faultErrorCode).toBe(PF.Present | PF.User); // no I/D without NXE
  });

  it('refuses instruction fetches from XD pages when EFER.NXE=1 and reports I/D', () => {
    for (const o of [{ pteHi: XD_HI }, { pdeHi: XD_HI }]) {
      const { paging } = setup({ ...o, efer: EFER_NXE });
      expect(paging.translate(LIN, AccessKind.Read, true)).toBe(FRAME | 0x234);
      expect(paging.translate(LIN, AccessKind.Execute, false)).toBe(-1);
      expect(paging.faultErrorCode).toBe(PF.Present | PF.InstructionFetch);
      expect(paging.translate(LIN, AccessKind.Execute, true)).toBe(-1);
      expect(paging.faultErrorCode).toBe(PF.Present | PF.InstructionFetch | PF.User);
    }
  });

  it('reports I/D for a not-present fetch fault when NXE=1', () => {
    const { paging } = setup({ pteLo: 0, efer: EFER_NXE });
    expect(paging.translate(LIN, AccessKind.Execute, true)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.User | PF.InstructionFetch);
  });

  it('treats XD as a reserved bit when NXE=0', () => {
    const { memory, paging, pdeAddr } = setup({ pteHi: XD_HI });
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit);
    expect(memory.readPhys32(pdeAddr) & E.A).toBe(0);
  });

  it('faults with RSVD on address bits above MAXPHYADDR (36) and on 2 MiB PDE bits 20:13', () => {
    const high = setup({ pteHi: 0x10 });
    expect(high.paging.translate(LIN, AccessKind.Write, true)).toBe(-1);
    expect(high.paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit | PF.Write | PF.User);
    const large = setup({ pdeLo: 0x00600000 | (1 << 13) | E.P | E.PS });
    expect(large.paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(large.paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit);
  });

  it('flags reserved PDPTE bits at load time and faults with RSVD through them', () => {
    const { memory, paging } = setup();
    write64(memory, CR3 + 24, PD | E.P | E.RW); // R/W is reserved in a PAE PDPTE
    paging.writeCr3(CR3);
    expect(paging.pdpteReservedFault).toBe(true);
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit);
  });

  it('loads the PDPTEs on a CR3 write, not on every walk', () => {
    const { memory, paging } = setup();
    write64(memory, CR3 + 24, 0); // guest clears the PDPTE in memory
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(FRAME | 0x234);
    paging.writeCr3(CR3);
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(0);
  });

  it('returns physical addresses above 4 GiB (not cached; they read as all ones)', () => {
    const { memory, paging } = setup({ pteHi: 0x2 });
    const phys = paging.translate(LIN, AccessKind.Read, false);
    expect(phys).toBe(0x2_0030_0234);
    expect(paging.lookup(LIN, AccessKind.Read, false)).toBe(-1);
    expect(memory.readPhys32(phys)).toBe(0xffffffff);
  });

  it('reads page tables above 4 GiB as all ones, which fault as reserved', () => {
    const { paging } = setup({ pdeHi: 0x1 });
    expect(paging.translate(LIN, AccessKind.Read, false)).toBe(-1);
    expect(paging.faultErrorCode).toBe(PF.Present | PF.ReservedBit);
  });
});
