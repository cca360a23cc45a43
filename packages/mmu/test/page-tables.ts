import { PhysicalMemory } from '../src/index.js';

/** Paging-structure entry bits (Intel SDM Vol. 3A, tables 4-4 to 4-11). */
export const E = { P: 1, RW: 2, US: 4, A: 0x20, D: 0x40, PS: 0x80, G: 0x100 } as const;
/** Bit 63 (XD) as seen in the high dword of a PAE entry. */
export const XD_HI = 0x80000000;

export const CR0_PE = 1;
export const CR0_WP = 1 << 16;
export const CR0_PG = 0x80000000;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const EFER_NXE = 1 << 11;

export function newMemory(ramSize = 4 << 20): PhysicalMemory {
  return new PhysicalMemory({ ramSize });
}

/** 32-bit paging: writes the PDE for `linear` in the directory at `cr3`. */
export function setPde(m: PhysicalMemory, cr3: number, linear: number, value: number): number {
  const addr = (cr3 & 0xfffff000) + (linear >>> 22) * 4;
  m.writePhys32(addr, value);
  return addr;
}

/** 32-bit paging: writes the PTE for `linear` in the page table at `table`. */
export function setPte(m: PhysicalMemory, table: number, linear: number, value: number): number {
  const addr = table + ((linear >>> 12) & 0x3ff) * 4;
  m.writePhys32(addr, value);
  return addr;
}

/** Writes a 64-bit PAE entry as (low, high) dwords. */
export function write64(m: PhysicalMemory, addr: number, lo: number, hi = 0): number {
  m.writePhys32(addr, lo);
  m.writePhys32(addr + 4, hi);
  return addr;
}

/** Index helpers for PAE linear addresses. */
export const pae = {
  pdpt: (linear: number): number => linear >>> 30,
  pd: (linear: number): number => (linear >>> 21) & 0x1ff,
  pt: (linear: number): number => (linear >>> 12) & 0x1ff,
};
