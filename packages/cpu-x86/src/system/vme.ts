import { CR4_PVI, CR4_VME, CS, IF, IOPL, SS, TF, TR, VIF, VIP, VM } from '../constants.js';
import type { CpuCore } from '../core.js';

/**
 * Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual interrupts (CR4.PVI): with
 * IOPL < 3, CLI/STI/PUSHF/POPF/IRET work on EFLAGS.VIF instead of faulting, and software INT n in
 * v8086 mode can be redirected to the v8086 IVT by the TSS interrupt redirection bitmap.
 */

/** v8086 with VME and IOPL < 3: the flag instructions use VIF. */
export function vmeActive(c: CpuCore): boolean {
  return (c.flags & VM) !== 0 && (c.cr4 & CR4_VME) !== 0 && ((c.flags >> 12) & 3) < 3;
}
/** CPL 3 protected mode with PVI and IOPL < 3: CLI/STI use VIF. */
export function pviActive(c: CpuCore): boolean {
  return (c.flags & VM) === 0 && (c.cr4 & CR4_PVI) !== 0 && (c.cr0 & 1) !== 0 && c.cpl === 3 && ((c.flags >> 12) & 3) < 3;
}

/** CLI under VME/PVI. */
export function virtualCli(c: CpuCore): void {
  c.flags &= ~VIF;
}
/** STI under VME/PVI: #GP(0) if an interrupt is pending (VIP), so the monitor can deliver it. */
export function virtualSti(c: CpuCore): void {
  if ((c.flags & VIP) !== 0) c.gp(0);
  c.flags |= VIF;
}
/** The 16-bit FLAGS image PUSHF/INT push under VME: IF shows VIF, IOPL shows 3. */
export function virtualFlagsImage(c: CpuCore): number {
  const f = c.getFlags();
  return ((f & ~IF) | ((f & VIF) !== 0 ? IF : 0) | IOPL) & 0xffff;
}
/** POPF/IRET (16-bit) under VME: the popped IF goes to VIF; IOPL and IF stay. */
export function virtualPopFlags(c: CpuCore, value: number): void {
  if ((value & TF) !== 0) c.gp(0);
  if ((c.flags & VIP) !== 0 && (value & IF) !== 0) c.gp(0);
  const keep = IF | IOPL;
  const f = c.getFlags();
  c.flags = (f & ~0xffff) | (f & keep) | (value & 0xffff & ~keep) | 2;
  c.flags = (c.flags & ~VIF) | ((value & IF) !== 0 ? VIF : 0);
  c.chunkBreak = true;
}

/**
 * INT n in v8086 mode with VME: bit n of the redirection bitmap (the 32 bytes below the I/O map
 * base in a 32-bit TSS) clear means "handle in v8086 mode through the IVT at linear 0".
 * Returns true when the interrupt was redirected (delivered); false when it goes to protected mode.
 */
export function redirectV86Interrupt(c: CpuCore, vector: number): boolean {
  if ((c.cr4 & CR4_VME) === 0) return false;
  const attr = c.segAttr[TR];
  if ((attr & 0x80) === 0 || (attr & 8) === 0) c.gp(0);
  const base = c.segBase[TR];
  const mapBase = c.readSys16((base + 0x66) | 0);
  const at = mapBase - 32 + (vector >> 3);
  if (at < 0x68 || at > c.segLimit[TR]) c.gp(0);
  if ((c.readSys8((base + at) | 0) & (1 << (vector & 7))) !== 0) return false;
  // Redirected: a real-mode style interrupt inside the v8086 task.
  const iopl3 = ((c.flags >> 12) & 3) === 3;
  const image = iopl3 ? c.getFlags() & 0xffff : virtualFlagsImage(c);
  const ip = c.read16(vector * 4), cs = c.read16(vector * 4 + 2);
  const l1 = c.linW(SS, c.spOff(-2), 2), l2 = c.linW(SS, c.spOff(-4), 2), l3 = c.linW(SS, c.spOff(-6), 2);
  c.write16(l1, image); c.write16(l2, c.segSel[CS]); c.write16(l3, c.eip);
  c.addSp(-6);
  c.flags &= ~(TF | (iopl3 ? IF : VIF));
  c.loadSegReal(CS, cs);
  c.eip = ip;
  c.chunkBreak = true;
  return true;
}
