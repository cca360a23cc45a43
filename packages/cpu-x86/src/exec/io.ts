import { CR0_PE, P_O32, TR, VM } from '../constants.js';
import type { CpuCore } from '../core.js';

/**
 * IN/OUT permission: in protected mode with CPL > IOPL (or in v8086 mode) every port of the access
 * must be allowed by the TSS I/O permission bitmap, else #GP(0).
 */
export function checkIoPermission(c: CpuCore, port: number, size: number): void {
  if ((c.cr0 & CR0_PE) === 0) return;
  if ((c.flags & VM) === 0 && c.cpl <= c.iopl) return;
  const attr = c.segAttr[TR];
  if ((attr & 0x80) === 0 || (attr & 0xd) !== 9) c.gp(0); // needs a 32-bit TSS
  const limit = c.segLimit[TR];
  if (limit < 0x67) c.gp(0);
  const base = c.segBase[TR];
  const mapOff = c.readSys16((base + 0x66) | 0);
  const at = mapOff + (port >>> 3);
  if (at + 1 > limit) c.gp(0);
  const bits = c.readSys16((base + at) | 0);
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) c.gp(0);
}

function opSize(c: CpuCore, d: number): 1 | 2 | 4 {
  return c.dExt[d] === 0 ? 1 : (c.dPfx[d] & P_O32) !== 0 ? 4 : 2;
}
function input(c: CpuCore, d: number, port: number): void {
  const size = opSize(c, d);
  checkIoPermission(c, port, size);
  const v = c.io.read(port, size);
  if (c.bpIo !== 0) c.matchIo(port, size);
  if (size === 1) c.r8[0] = v; else if (size === 2) c.r16[0] = v; else c.r32[0] = v;
}
function output(c: CpuCore, d: number, port: number): void {
  const size = opSize(c, d);
  checkIoPermission(c, port, size);
  const v = size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : c.r32[0];
  c.io.write(port, size, v >>> 0);
  if (c.bpIo !== 0) c.matchIo(port, size);
  c.chunkBreak = true; // a device write may raise an interrupt line
}
export function inImm(c: CpuCore, d: number): void { input(c, d, c.dImm[d] & 0xff); }
export function inDx(c: CpuCore, d: number): void { input(c, d, c.r16[8]); }
export function outImm(c: CpuCore, d: number): void { output(c, d, c.dImm[d] & 0xff); }
export function outDx(c: CpuCore, d: number): void { output(c, d, c.r16[8]); }
