import type { FpuHost } from './fpu-host.js';
import type { FpuRegisters } from './fpu-registers.js';

/**
 * Memory images of the x87 state: the FSTENV/FLDENV environment (14 or 28 bytes, real- or
 * protected-mode layout), the FSAVE/FRSTOR register image and the x87 part of the FXSAVE area.
 * Loads read every byte before they change any state, so a faulting access leaves the FPU as it was.
 */

/** Size in bytes of the environment for the operand size. */
export function environmentSize(o32: boolean): number {
  return o32 ? 28 : 14;
}

function realModeIp(r: FpuRegisters): number {
  return ((r.fcs << 4) + r.fip) >>> 0;
}

export function storeEnvironment(r: FpuRegisters, host: FpuHost, ea: number, o32: boolean, pm: boolean): void {
  const cw = r.cw;
  const sw = r.statusWord();
  const tw = r.tagWord();
  if (o32) {
    host.write32(ea, (0xffff0000 | cw) >>> 0);
    host.write32(ea + 4, (0xffff0000 | sw) >>> 0);
    host.write32(ea + 8, (0xffff0000 | tw) >>> 0);
    if (pm) {
      host.write32(ea + 12, r.fip >>> 0);
      host.write32(ea + 16, ((r.fop & 0x7ff) << 16 | (r.fcs & 0xffff)) >>> 0);
      host.write32(ea + 20, r.fdp >>> 0);
      host.write32(ea + 24, (0xffff0000 | (r.fds & 0xffff)) >>> 0);
    } else {
      const ip = realModeIp(r);
      host.write32(ea + 12, (0xffff0000 | (ip & 0xffff)) >>> 0);
      host.write32(ea + 16, (((ip >>> 16) & 0xffff) << 12 | (r.fop & 0x7ff)) >>> 0);
      host.write32(ea + 20, (0xffff0000 | (r.fdp & 0xffff)) >>> 0);
      host.write32(ea + 24, (((r.fdp >>> 16) & 0xffff) << 12) >>> 0);
    }
  } else {
    host.write16(ea, cw);
    host.write16(ea + 2, sw);
    host.write16(ea + 4, tw);
    if (pm) {
      host.write16(ea + 6, r.fip & 0xffff);
      host.write16(ea + 8, r.fcs & 0xffff);
      host.write16(ea + 10, r.fdp & 0xffff);
      host.write16(ea + 12, r.fds & 0xffff);
    } else {
      const ip = realModeIp(r);
      host.write16(ea + 6, ip & 0xffff);
      host.write16(ea + 8, ((ip >>> 16) & 0xf) << 12 | (r.fop & 0x7ff));
      host.write16(ea + 10, r.fdp & 0xffff);
      host.write16(ea + 12, ((r.fdp >>> 16) & 0xf) << 12);
    }
  }
}

/** Scratch for a fully read environment, applied only after all reads succeeded. */
const env = new Uint32Array(7);

export function loadEnvironment(r: FpuRegisters, host: FpuHost, ea: number, o32: boolean, pm: boolean): void {
  readEnvironment(host, ea, o32);
  applyEnvironment(r, o32, pm);
}

export function readEnvironment(host: FpuHost, ea: number, o32: boolean): void {
  if (o32) for (let i = 0; i < 7; i++) env[i] = host.read32(ea + 4 * i);
  else for (let i = 0; i < 7; i++) env[i] = host.read16(ea + 2 * i);
}

export function applyEnvironment(r: FpuRegisters, o32: boolean, pm: boolean): void {
  r.setControlWord(env[0]! & 0xffff);
  r.setStatusWord(env[1]! & 0xffff);
  r.setTagWord(env[2]! & 0xffff);
  if (pm) {
    r.fip = o32 ? env[3]! : env[3]! & 0xffff;
    r.fcs = env[4]! & 0xffff;
    r.fop = o32 ? (env[4]! >>> 16) & 0x7ff : r.fop;
    r.fdp = o32 ? env[5]! : env[5]! & 0xffff;
    r.fds = env[6]! & 0xffff;
  } else {
    const hiShift = 12;
    const ipHigh = o32 ? (env[4]! >>> hiShift) & 0xffff : (env[4]! >>> hiShift) & 0xf;
    const dpHigh = o32 ? (env[6]! >>> hiShift) & 0xffff : (env[6]! >>> hiShift) & 0xf;
    r.fip = ((ipHigh << 16) | (env[3]! & 0xffff)) >>> 0;
    r.fcs = 0;
    r.fop = env[4]! & 0x7ff;
    r.fdp = ((dpHigh << 16) | (env[5]! & 0xffff)) >>> 0;
    r.fds = 0;
  }
}

export function write80(host: FpuHost, ea: number, sx: number, hi: number, lo: number): void {
  host.write32(ea, lo);
  host.write32(ea + 4, hi);
  host.write16(ea + 8, sx);
}

/** FSAVE register image: ST(0)..ST(7), 10 bytes each, at ea. */
export function storeRegisterImage(r: FpuRegisters, host: FpuHost, ea: number, stride: number): void {
  for (let i = 0; i < 8; i++) {
    const p = r.phys(i);
    write80(host, ea + i * stride, r.sx[p]!, r.hi[p]!, r.lo[p]!);
  }
}

const image = new Uint32Array(24);

/** Reads an 8-register image into scratch (ST order); apply with applyRegisterImage(). */
export function readRegisterImage(host: FpuHost, ea: number, stride: number): void {
  for (let i = 0; i < 8; i++) {
    const a = ea + i * stride;
    image[3 * i] = host.read32(a);
    image[3 * i + 1] = host.read32(a + 4);
    image[3 * i + 2] = host.read16(a + 8);
  }
}

/** Writes the image read by readRegisterImage() into the registers, relative to the current TOP. */
export function applyRegisterImage(r: FpuRegisters): void {
  for (let i = 0; i < 8; i++) {
    const p = r.phys(i);
    r.lo[p] = image[3 * i]!;
    r.hi[p] = image[3 * i + 1]!;
    r.sx[p] = image[3 * i + 2]!;
  }
}

/** MXCSR reported in the FXSAVE area: the reset value, and MXCSR_MASK 0 (no SSE unit). */
const MXCSR_RESET = 0x1f80;

export function fxsaveArea(r: FpuRegisters, host: FpuHost, ea: number): void {
  host.write16(ea, r.cw);
  host.write16(ea + 2, r.statusWord());
  host.write16(ea + 4, r.abridgedTag());
  host.write16(ea + 6, r.fop & 0x7ff);
  host.write32(ea + 8, r.fip >>> 0);
  host.write32(ea + 12, r.fcs & 0xffff);
  host.write32(ea + 16, r.fdp >>> 0);
  host.write32(ea + 20, r.fds & 0xffff);
  host.write32(ea + 24, MXCSR_RESET);
  host.write32(ea + 28, 0);
  for (let i = 0; i < 8; i++) {
    const p = r.phys(i);
    const a = ea + 32 + 16 * i;
    write80(host, a, r.sx[p]!, r.hi[p]!, r.lo[p]!);
    host.write16(a + 10, 0);
    host.write32(a + 12, 0);
  }
}

export function fxrstorArea(r: FpuRegisters, host: FpuHost, ea: number): void {
  const cw = host.read16(ea);
  const sw = host.read16(ea + 2);
  const tag = host.read8(ea + 4);
  const fop = host.read16(ea + 6);
  const fip = host.read32(ea + 8);
  const fcs = host.read16(ea + 12);
  const fdp = host.read32(ea + 16);
  const fds = host.read16(ea + 20);
  readRegisterImage(host, ea + 32, 16);
  r.setControlWord(cw);
  r.setStatusWord(sw);
  r.setAbridgedTag(tag);
  r.fop = fop & 0x7ff;
  r.fip = fip >>> 0;
  r.fcs = fcs;
  r.fdp = fdp >>> 0;
  r.fds = fds;
  applyRegisterImage(r);
}
