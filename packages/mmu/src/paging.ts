import type { PhysicalMemory } from './physical-memory.js';
import { TLB_ALL_ACCESS, TLB_FRAME_MASK, Tlb, TlbFlag } from './tlb.js';

/** Kind of memory access, as passed to {@link Paging.translate}. */
export const AccessKind = { Read: 0, Write: 1, Execute: 2 } as const;

/** One of the {@link AccessKind} values. */
export type AccessKindValue = (typeof AccessKind)[keyof typeof AccessKind];

/** Bits of the x86 #PF error code (Intel SDM Vol. 3A §4.7). */
export const PageFaultError = {
  /** 0: the page (or a paging structure) was not present; 1: protection or reserved-bit violation. */
  Present: 1 << 0,
  /** The access was a write. */
  Write: 1 << 1,
  /** The access was made at CPL 3. */
  User: 1 << 2,
  /** A present paging-structure entry had a reserved bit set. */
  ReservedBit: 1 << 3,
  /** The access was an instruction fetch (reported only with PAE paging and EFER.NXE = 1). */
  InstructionFetch: 1 << 4,
} as const;

/** Control-register bits that paging depends on. */
export const ControlBit = {
  /** CR0.WP: supervisor writes honour read-only pages. */
  Cr0WriteProtect: 1 << 16,
  /** CR0.PG: paging enabled. */
  Cr0Paging: 1 << 31,
  /** CR4.PSE: 4 MiB pages in 32-bit paging. */
  Cr4PageSizeExtensions: 1 << 4,
  /** CR4.PAE: PAE paging (3 levels, 64-bit entries). */
  Cr4PhysicalAddressExtension: 1 << 5,
  /** CR4.PGE: global pages. */
  Cr4PageGlobalEnable: 1 << 7,
  /** IA32_EFER.NXE: the XD bit (63) of PAE entries is honoured. */
  EferNoExecuteEnable: 1 << 11,
} as const;

const MODE_OFF = 0;
const MODE_LEGACY = 1;
const MODE_PAE = 2;

// Paging-structure entry bits (low dword).
const P = 1 << 0;
const RW = 1 << 1;
const US = 1 << 2;
const A = 1 << 5;
const D = 1 << 6;
const PS = 1 << 7;
const G = 1 << 8;

/** MAXPHYADDR is 36: PSE-36 and PAE entries may name physical addresses up to 64 GiB. */
const TWO_POW_32 = 0x1_0000_0000;
/** 32-bit paging, 4 MiB PDE: bits 16:13 are physical address bits 35:32 (PSE-36); bits 21:17 are reserved. */
const PSE36_RESERVED = 0x003e0000;
/** PAE PDPTE low dword: bits 2:1 and 8:5 are reserved. */
const PDPTE_RESERVED_LO = 0x000001e6;
/** PAE entry high dword: bits 63:36 (PDPTE) are reserved. */
const PDPTE_RESERVED_HI = 0xfffffff0 | 0;
/** PAE PDE/PTE high dword: bits 62:36 reserved; bit 63 too unless EFER.NXE. */
const PAE_RESERVED_HI_NX = 0x7ffffff0;
const PAE_RESERVED_HI_NO_NX = 0xfffffff0 | 0;
/** PAE 2 MiB PDE: bits 20:13 are reserved. */
const PAE_LARGE_RESERVED_LO = 0x001fe000;
const XD_HI = 0x80000000 | 0;

/**
 * x86 paging as an i686 sees it: 32-bit 2-level paging with 4 KiB and 4 MiB (CR4.PSE, PSE-36)
 * pages, PAE 3-level paging with 2 MiB pages and NX, CR0.WP, CR4.PGE global pages, U/S and R/W
 * checks, accessed/dirty write-back, reserved-bit checks and the A20 gate, with a flat software TLB.
 *
 * Hot path for the CPU: read {@link Paging.tlbEntries}`[linear >>> 12]`, test the access bit
 * ({@link tlbAccessBit}); on a hit the physical address is `((entry & -4096) | (linear & 0xfff)) >>> 0`,
 * otherwise call {@link Paging.translate}.
 *
 * @example
 * ```ts
 * declare const memory: PhysicalMemory, raisePageFault: (errorCode: number, cr2: number) => void;
 * const paging = new Paging(memory);
 * paging.setControl(0x80000001, 0x1000, 0, 0);   // PE + PG, page directory at 0x1000
 * const phys = paging.translate(0xc0001234, AccessKind.Read, false);
 * if (phys < 0) raisePageFault(paging.faultErrorCode, paging.faultAddress);
 * ```
 */
export class Paging {
  /**
   * The TLB entries, indexed by linear page number; format in {@link TlbFlag}. Read it, never
   * write it. Bits 31:12 of a hit are the physical page base (always below 4 GiB: translations to
   * higher addresses are never cached).
   */
  readonly tlbEntries: Int32Array;
  /** #PF error code of the last failed {@link Paging.translate} (bits in {@link PageFaultError}). */
  faultErrorCode = 0;
  /** Linear address of the last failed {@link Paging.translate}: the value for CR2. */
  faultAddress = 0;
  /**
   * After a load of the PAE PDPTEs (CR3 write or paging-mode change): true when a present PDPTE
   * has reserved bits set. Real hardware raises #GP(0) on that MOV instead; the CPU may check this
   * flag and do so. If it does not, accesses through such a PDPTE fault with RSVD.
   */
  pdpteReservedFault = false;
  /**
   * Whether the last successful {@link Paging.translate} went through a 4 MiB or 2 MiB page. A cache
   * of translations in front of this one (the CPU's data TLB) needs it: INVLPG of any address in a
   * large page must drop every 4 KiB piece of it that such a cache holds.
   */
  lastTranslationLarge = false;

  private readonly memory: PhysicalMemory;
  private readonly tlb = new Tlb();
  private cr0 = 0;
  private cr3 = 0;
  private cr4 = 0;
  private efer = 0;
  private mode = MODE_OFF;
  private writeProtect = false;
  private pse = false;
  private globalPages = false;
  private noExecute = false;
  /** ANDed into every physical address: -1, or ~(1 << 20) while the A20 gate is closed. */
  private a20Mask = -1;
  /** The four PDPTEs as (low, high) dword pairs, loaded as hardware loads them. */
  private readonly pdptes = new Int32Array(8);

  constructor(memory: PhysicalMemory) {
    this.memory = memory;
    this.tlbEntries = this.tlb.entries;
  }

  /** Number of linear pages in the TLB's filled list (for tests and statistics). */
  get tlbSize(): number {
    return this.tlb.size;
  }

  /**
   * Loads CR0, CR3, CR4 and EFER at once, as a task switch or state restore does. Counts as a CR3
   * write: non-global entries are flushed and PAE PDPTEs are reloaded; if the paging mode bits
   * (CR0.PG, CR0.WP, CR4.PSE/PAE/PGE, EFER.NXE) changed, every entry is flushed. For single MOVs
   * use {@link Paging.writeCr0} etc., which flush only what that instruction flushes (CLTS must not
   * empty the TLB).
   */
  setControl(cr0: number, cr3: number, cr4: number, efer: number): void {
    const modeChanged = this.modeBitsDiffer(cr0, cr4, efer);
    this.cr0 = cr0 | 0;
    this.cr3 = cr3 | 0;
    this.cr4 = cr4 | 0;
    this.efer = efer | 0;
    this.updateMode();
    if (this.mode === MODE_PAE) this.loadPdptes();
    this.tlb.flush(modeChanged);
  }

  /** MOV to CR0: flushes everything when PG or WP changes (and reloads PDPTEs under PAE). */
  writeCr0(cr0: number): void {
    const changed = this.modeBitsDiffer(cr0, this.cr4, this.efer);
    this.cr0 = cr0 | 0;
    if (!changed) return;
    this.updateMode();
    if (this.mode === MODE_PAE) this.loadPdptes();
    this.tlb.flush(true);
  }

  /** MOV to CR3: flushes non-global entries and reloads the PDPTEs under PAE, even for the same value. */
  writeCr3(cr3: number): void {
    this.cr3 = cr3 | 0;
    if (this.mode === MODE_PAE) this.loadPdptes();
    this.tlb.flush(false);
  }

  /** MOV to CR4: flushes everything when PSE, PAE or PGE changes (and reloads PDPTEs under PAE). */
  writeCr4(cr4: number): void {
    const changed = this.modeBitsDiffer(this.cr0, cr4, this.efer);
    this.cr4 = cr4 | 0;
    if (!changed) return;
    this.updateMode();
    if (this.mode === MODE_PAE) this.loadPdptes();
    this.tlb.flush(true);
  }

  /** WRMSR IA32_EFER: flushes everything when NXE changes. */
  writeEfer(efer: number): void {
    const changed = this.modeBitsDiffer(this.cr0, this.cr4, efer);
    this.efer = efer | 0;
    if (!changed) return;
    this.updateMode();
    this.tlb.flush(true);
  }

  /**
   * Opens (`true`) or closes the A20 gate. While closed, bit 20 of every physical address the CPU
   * produces (page-walk reads included) is forced to 0. Flushes the TLB when the state changes.
   */
  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask === this.a20Mask) return;
    this.a20Mask = mask;
    this.tlb.flush(true);
  }

  /** INVLPG: drops the translation of the page holding `linear` (the whole large page if it is one), global or not. */
  invalidatePage(linear: number): void {
    this.tlb.invalidate((linear >>> 0) >>> 12, this.mode === MODE_PAE ? 512 : 1024);
  }

  /** Drops all TLB entries, or all but the global ones. */
  flush(includeGlobal: boolean): void {
    this.tlb.flush(includeGlobal);
  }

  /**
   * TLB-only lookup: the physical address when the TLB holds a translation valid for this access,
   * else -1 ("miss or needs a walk": call {@link Paging.translate}). Never faults, never walks.
   */
  lookup(linear: number, access: 0 | 1 | 2, user: boolean): number {
    const e = this.tlbEntries[linear >>> 12];
    if ((e & (1 << (access + (user ? 3 : 0)))) !== 0) return ((e & TLB_FRAME_MASK) | (linear & 0xfff)) >>> 0;
    return -1;
  }

  /**
   * Linear -> physical for an access of kind `access` at user (CPL 3) or supervisor privilege.
   * Returns the physical address (>= 0; may exceed 4 GiB under PAE/PSE-36) or -1 for a page fault,
   * in which case {@link Paging.faultErrorCode} and {@link Paging.faultAddress} are set. Sets A/D
   * bits in guest memory as hardware does. Never throws.
   */
  translate(linear: number, access: 0 | 1 | 2, user: boolean): number {
    const e = this.tlbEntries[linear >>> 12];
    if ((e & (1 << (access + (user ? 3 : 0)))) !== 0) {
      this.lastTranslationLarge = (e & TlbFlag.LargePage) !== 0;
      return ((e & TLB_FRAME_MASK) | (linear & 0xfff)) >>> 0;
    }
    return this.translateSlow(linear >>> 0, access, user);
  }

  // ---- walks -----------------------------------------------------------------------------------

  private translateSlow(lin: number, access: number, user: boolean): number {
    if (this.mode === MODE_LEGACY) return this.walkLegacy(lin, access, user);
    if (this.mode === MODE_PAE) return this.walkPae(lin, access, user);
    const phys = (lin & this.a20Mask) >>> 0;
    this.tlb.set(lin >>> 12, (phys & TLB_FRAME_MASK) | TLB_ALL_ACCESS);
    this.lastTranslationLarge = false;
    return phys;
  }

  private walkLegacy(lin: number, access: number, user: boolean): number {
    const memory = this.memory;
    const pdeAddr = ((this.cr3 & 0xfffff000) | ((lin >>> 20) & 0xffc)) & this.a20Mask;
    const pde = memory.readPhys32(pdeAddr >>> 0);
    if ((pde & P) === 0) return this.fault(lin, access, user, 0);
    if ((pde & PS) !== 0 && this.pse) {
      if ((pde & PSE36_RESERVED) !== 0) return this.fault(lin, access, user, PageFaultError.Present | PageFaultError.ReservedBit);
      const rw = (pde & RW) !== 0;
      const us = (pde & US) !== 0;
      if (!this.permitted(access, user, rw, us, false)) return this.fault(lin, access, user, PageFaultError.Present);
      const write = access === AccessKind.Write;
      this.setBits(pdeAddr >>> 0, pde, write ? A | D : A);
      const frame = (pde & 0xffc00000) | (lin & 0x003ff000);
      return this.finish(lin, (pde >>> 13) & 0xf, frame, rw, us, false, write || (pde & D) !== 0, (pde & G) !== 0, true);
    }
    const pteAddr = ((pde & 0xfffff000) | ((lin >>> 10) & 0xffc)) & this.a20Mask;
    const pte = memory.readPhys32(pteAddr >>> 0);
    if ((pte & P) === 0) return this.fault(lin, access, user, 0);
    const rw = (pde & pte & RW) !== 0;
    const us = (pde & pte & US) !== 0;
    if (!this.permitted(access, user, rw, us, false)) return this.fault(lin, access, user, PageFaultError.Present);
    const write = access === AccessKind.Write;
    this.setBits(pdeAddr >>> 0, pde, A);
    this.setBits(pteAddr >>> 0, pte, write ? A | D : A);
    return this.finish(lin, 0, pte & 0xfffff000, rw, us, false, write || (pte & D) !== 0, (pte & G) !== 0, false);
  }

  private walkPae(lin: number, access: number, user: boolean): number {
    const memory = this.memory;
    const slot = (lin >>> 30) << 1;
    const pdpteLo = this.pdptes[slot];
    const pdpteHi = this.pdptes[slot + 1];
    if ((pdpteLo & P) === 0) return this.fault(lin, access, user, 0);
    const rsvd = PageFaultError.Present | PageFaultError.ReservedBit;
    if ((pdpteLo & PDPTE_RESERVED_LO) !== 0 || (pdpteHi & PDPTE_RESERVED_HI) !== 0) return this.fault(lin, access, user, rsvd);
    const reservedHi = this.noExecute ? PAE_RESERVED_HI_NX : PAE_RESERVED_HI_NO_NX;

    const pdeAddr = this.physical(pdpteHi & 0xf, (pdpteLo & 0xfffff000) | ((lin >>> 18) & 0xff8));
    const pdeLo = memory.readPhys32(pdeAddr);
    const pdeHi = memory.readPhys32(pdeAddr + 4);
    if ((pdeLo & P) === 0) return this.fault(lin, access, user, 0);
    if ((pdeHi & reservedHi) !== 0) return this.fault(lin, access, user, rsvd);
    const write = access === AccessKind.Write;
    if ((pdeLo & PS) !== 0) {
      if ((pdeLo & PAE_LARGE_RESERVED_LO) !== 0) return this.fault(lin, access, user, rsvd);
      const rw = (pdeLo & RW) !== 0;
      const us = (pdeLo & US) !== 0;
      const nx = this.noExecute && (pdeHi & XD_HI) !== 0;
      if (!this.permitted(access, user, rw, us, nx)) return this.fault(lin, access, user, PageFaultError.Present);
      this.setBits(pdeAddr, pdeLo, write ? A | D : A);
      const frame = (pdeLo & 0xffe00000) | (lin & 0x001ff000);
      return this.finish(lin, pdeHi & 0xf, frame, rw, us, nx, write || (pdeLo & D) !== 0, (pdeLo & G) !== 0, true);
    }
    const pteAddr = this.physical(pdeHi & 0xf, (pdeLo & 0xfffff000) | ((lin >>> 9) & 0xff8));
    const pteLo = memory.readPhys32(pteAddr);
    const pteHi = memory.readPhys32(pteAddr + 4);
    if ((pteLo & P) === 0) return this.fault(lin, access, user, 0);
    if ((pteHi & reservedHi) !== 0) return this.fault(lin, access, user, rsvd);
    const rw = (pdeLo & pteLo & RW) !== 0;
    const us = (pdeLo & pteLo & US) !== 0;
    const nx = this.noExecute && ((pdeHi | pteHi) & XD_HI) !== 0;
    if (!this.permitted(access, user, rw, us, nx)) return this.fault(lin, access, user, PageFaultError.Present);
    this.setBits(pdeAddr, pdeLo, A);
    this.setBits(pteAddr, pteLo, write ? A | D : A);
    return this.finish(lin, pteHi & 0xf, pteLo & 0xfffff000, rw, us, nx, write || (pteLo & D) !== 0, (pteLo & G) !== 0, false);
  }

  /** Intel SDM Vol. 3A §4.6: rights are the AND over all levels (rw, us already combined). */
  private permitted(access: number, user: boolean, rw: boolean, us: boolean, nx: boolean): boolean {
    if (user && !us) return false;
    if (access === AccessKind.Write) return rw || (!user && !this.writeProtect);
    if (access === AccessKind.Execute) return !nx;
    return true;
  }

  /** Sets A (and D) in a paging entry only if missing, re-reading it so a self-mapped table loses nothing. */
  private setBits(addr: number, seen: number, bits: number): void {
    if ((seen & bits) === bits) return;
    const memory = this.memory;
    memory.writePhys32(addr, memory.readPhys32(addr) | bits);
  }

  /** Completes a successful walk: caches it (below 4 GiB) and returns the physical address. */
  private finish(lin: number, frameHigh: number, frame: number, rw: boolean, us: boolean, nx: boolean, dirty: boolean, global: boolean, large: boolean): number {
    const base = (frame & this.a20Mask) >>> 0;
    this.lastTranslationLarge = large;
    if (frameHigh !== 0) return frameHigh * TWO_POW_32 + base + (lin & 0xfff);
    let flags = TlbFlag.SupervisorRead;
    if (dirty) {
      flags |= TlbFlag.Dirty;
      if (rw || !this.writeProtect) flags |= TlbFlag.SupervisorWrite;
    }
    if (!nx) flags |= TlbFlag.SupervisorExecute;
    if (us) {
      flags |= TlbFlag.UserRead;
      if (rw && dirty) flags |= TlbFlag.UserWrite;
      if (!nx) flags |= TlbFlag.UserExecute;
    }
    if (global && this.globalPages) flags |= TlbFlag.Global;
    if (large) flags |= TlbFlag.LargePage;
    this.tlb.set(lin >>> 12, base | flags);
    return (base | (lin & 0xfff)) >>> 0;
  }

  private fault(lin: number, access: number, user: boolean, bits: number): number {
    let code = bits;
    if (access === AccessKind.Write) code |= PageFaultError.Write;
    if (user) code |= PageFaultError.User;
    if (access === AccessKind.Execute && this.mode === MODE_PAE && this.noExecute) code |= PageFaultError.InstructionFetch;
    this.faultErrorCode = code;
    this.faultAddress = lin;
    // A #PF invalidates the TLB entry of the faulting page (SDM §4.10.4.1).
    const page = lin >>> 12;
    if (this.tlbEntries[page] !== 0) this.tlb.invalidate(page, 1);
    return -1;
  }

  /** A 36-bit physical address from its bits 35:32 and 31:0, with the A20 mask applied. */
  private physical(high: number, low: number): number {
    return high * TWO_POW_32 + ((low & this.a20Mask) >>> 0);
  }

  private loadPdptes(): void {
    const memory = this.memory;
    const base = ((this.cr3 & 0xffffffe0) & this.a20Mask) >>> 0;
    let reserved = false;
    for (let i = 0; i < 8; i += 2) {
      const lo = memory.readPhys32(base + i * 4) | 0;
      const hi = memory.readPhys32(base + i * 4 + 4) | 0;
      this.pdptes[i] = lo;
      this.pdptes[i + 1] = hi;
      if ((lo & P) !== 0 && ((lo & PDPTE_RESERVED_LO) !== 0 || (hi & PDPTE_RESERVED_HI) !== 0)) reserved = true;
    }
    this.pdpteReservedFault = reserved;
  }

  private modeBitsDiffer(cr0: number, cr4: number, efer: number): boolean {
    const cr0Bits = ControlBit.Cr0Paging | ControlBit.Cr0WriteProtect;
    const cr4Bits = ControlBit.Cr4PageSizeExtensions | ControlBit.Cr4PhysicalAddressExtension | ControlBit.Cr4PageGlobalEnable;
    return ((cr0 ^ this.cr0) & cr0Bits) !== 0 || ((cr4 ^ this.cr4) & cr4Bits) !== 0 || ((efer ^ this.efer) & ControlBit.EferNoExecuteEnable) !== 0;
  }

  private updateMode(): void {
    const paging = (this.cr0 & ControlBit.Cr0Paging) !== 0;
    this.mode = !paging ? MODE_OFF : (this.cr4 & ControlBit.Cr4PhysicalAddressExtension) !== 0 ? MODE_PAE : MODE_LEGACY;
    this.writeProtect = (this.cr0 & ControlBit.Cr0WriteProtect) !== 0;
    this.pse = (this.cr4 & ControlBit.Cr4PageSizeExtensions) !== 0;
    this.globalPages = (this.cr4 & ControlBit.Cr4PageGlobalEnable) !== 0;
    this.noExecute = (this.efer & ControlBit.EferNoExecuteEnable) !== 0;
  }
}
