import {
  DS, EA_A16, EA_MEM, EA_NONE, P_A32, P_LOCK, P_O32, P_REP, P_REPNE, P_SEG_SHIFT, SS,
} from '../constants.js';
import type { CpuCore } from '../core.js';
import * as alu from '../exec/alu.js';
import { tooLong, undefinedOpcode } from '../exec/control.js';
import { instructionClassOf } from '../instruction-class.js';
import { OPCODE_TABLE, type Handler } from './opcode-table.js';

// Immediate kinds (4 bits each, up to two immediates per instruction).
const I_B = 1, I_BS = 2, I_W = 3, I_Z = 4, I_JB = 5, I_JZ = 6, I_AP = 7, I_O = 8;
/** Operand forms encoded in a ModRM byte. */
const MODRM_FORM = /^(E[bwdv]|G[bwdv]|M[a-z]?|Sw|Cd|Dd|Rd|ST)$/;
const IMM_OF: Record<string, number> = { Ib: I_B, Ibs: I_BS, Iw: I_W, Iz: I_Z, Jb: I_JB, Jz: I_JZ, Ap: I_AP, Ob: I_O, Ov: I_O };

/** Handler functions by index: the decoded cache stores only the index. */
export const HANDLERS: Handler[] = [undefinedOpcode, tooLong];
const H_UD = 0, H_TOO_LONG = 1;

// Compiled form: 512 opcodes x 16 (ModRM.reg * 2 + register-form).
const SLOTS = 512 * 16;
const cHandler = new Uint16Array(SLOTS).fill(H_UD);
const cExt = new Uint8Array(SLOTS);
const cImm = new Uint8Array(SLOTS);
const cFlags = new Uint8Array(SLOTS);
/** InstructionClass of each slot, for the retired-instruction mix. */
const cClass = new Uint8Array(SLOTS);
const F_LOCK = 1, F_FORCE_REG = 2;
const hasModrm = new Uint8Array(512);

function opIndex(opcode: number): number {
  return opcode >= 0x0f00 ? 256 + (opcode & 0xff) : opcode;
}
(function compile(): void {
  const index = new Map<Handler, number>(HANDLERS.map((h, i) => [h, i]));
  for (const r of OPCODE_TABLE) {
    let h = index.get(r.handler);
    if (h === undefined) { h = HANDLERS.length; HANDLERS.push(r.handler); index.set(r.handler, h); }
    const op = opIndex(r.opcode);
    const modrm = r.reg !== undefined || r.operands.some((o) => MODRM_FORM.test(o));
    if (modrm) hasModrm[op] = 1;
    let imm = 0, n = 0;
    for (const o of r.operands) {
      const k = IMM_OF[o];
      if (k !== undefined) { imm |= k << (n * 4); n++; }
    }
    const flags = (r.lock === true ? F_LOCK : 0) | (r.operands.includes('Rd') ? F_FORCE_REG : 0);
    const cls = instructionClassOf(r.mnemonic, r.operands);
    for (let reg = 0; reg < 8; reg++) {
      if (r.reg !== undefined && r.reg !== reg) continue;
      for (let isReg = 0; isReg < 2; isReg++) {
        if (r.mod === 'mem' && isReg === 1) continue;
        if (r.mod === 'reg' && isReg === 0) continue;
        const s = op * 16 + reg * 2 + isReg;
        cHandler[s] = h; cExt[s] = r.ext ?? 0; cImm[s] = imm; cFlags[s] = flags; cClass[s] = cls;
      }
    }
  }
})();

/**
 * Specialised handlers for the 32-bit register forms of the busiest generic handlers (see
 * exec/alu.ts): fastReg32[generic] is the index of the operation-0 variant, 0 = none.
 */
const fastReg32 = new Uint16Array(HANDLERS.length);
/** The specialised variant is chosen by ModRM.reg (group 1) instead of the row's ext. */
const fastOpFromReg = new Uint8Array(HANDLERS.length);
for (const [generic, variants, opFromReg] of [
  [alu.aluEvGv, alu.ALU_EVGV_R32, 0], [alu.aluGvEv, alu.ALU_GVEV_R32, 0], [alu.grp1Ev, alu.ALU_GRP1_R32, 1],
] as const) {
  const g = HANDLERS.indexOf(generic);
  fastReg32[g] = HANDLERS.length;
  fastOpFromReg[g] = opFromReg;
  HANDLERS.push(...variants);
}

/** Reads instruction bytes for the decoder: same-page bytes from physical memory, the next page translated (#PF). */
class ByteFetcher {
  c!: CpuCore;
  lin = 0;
  phys = 0;
  /** Bytes available in the first page. */
  avail = 0;
  nextPhys = -1;
  crossed = false;
  firstRam = false;
  nextRam = false;
  ram: Uint8Array = new Uint8Array(0);
  /** Block building: never look at the next page (no translation, no #PF); `crossed` reports the attempt. */
  samePageOnly = false;
  setup(c: CpuCore, lin: number, phys: number): void {
    this.c = c; this.lin = lin; this.phys = phys; this.avail = 4096 - (lin & 4095);
    this.nextPhys = -1; this.crossed = false; this.ram = c.ram;
    this.firstRam = c.memory.isRamPage(Math.floor(phys / 4096));
  }
  byte(pos: number): number {
    if (pos < this.avail) {
      const p = this.phys + pos;
      return this.firstRam ? this.ram[p] : this.c.memory.readPhys8(p) & 0xff;
    }
    if (this.samePageOnly) {
      this.crossed = true;
      return 0;
    }
    if (this.nextPhys < 0) {
      const lin2 = ((this.lin & -4096) + 4096) | 0;
      this.nextPhys = this.c.translateFetch(lin2);
      this.nextRam = this.c.memory.isRamPage(Math.floor(this.nextPhys / 4096));
      this.crossed = true;
    }
    const p = this.nextPhys + (pos - this.avail);
    return this.nextRam ? this.ram[p] : this.c.memory.readPhys8(p) & 0xff;
  }
}
const fetcher = new ByteFetcher();

/** True if the last decode read bytes from a second page (the direct-mapped slots do not keep those). */
/**
 * Two tables by handler index, a kind and an operation, filled by `set(handler, kind, op)`: how the
 * block compilers (JavaScript and WebAssembly) classify the handlers they write out.
 */
export function handlerKinds(owner: string): { kind: Uint8Array; op: Uint8Array; set: (h: unknown, kind: number, op?: number) => void } {
  const kind = new Uint8Array(HANDLERS.length), op = new Uint8Array(HANDLERS.length);
  const set = (h: unknown, k: number, o = 0): void => {
    const i = HANDLERS.indexOf(h as Handler);
    if (i < 0) throw new Error(`${owner}: handler not in the table`);
    kind[i] = k;
    op[i] = o;
  };
  return { kind, op, set };
}

export function lastDecodeCrossedPage(): boolean {
  return fetcher.crossed;
}
/** The physical page (its address) the last decode's second page mapped to when that is RAM, else -1. */
export function lastDecodeNextRamPage(): number {
  return fetcher.crossed && fetcher.nextPhys >= 0 && fetcher.nextRam ? fetcher.nextPhys : -1;
}

/**
 * Decode the instruction at linear `lin` (physical `phys` for its first byte) into slot `d` without
 * reading past the end of its page: returns false (slot contents meaningless) if the instruction
 * would continue on the next page. Never faults; the page must be RAM.
 */
export function decodeInPage(c: CpuCore, d: number, lin: number, phys: number): boolean {
  fetcher.samePageOnly = true;
  decodeInto(c, d, lin, phys);
  fetcher.samePageOnly = false;
  return !fetcher.crossed;
}

/**
 * Handler indices after which straight-line decoding stops: unconditional transfers, and
 * instructions that always fault or stop (the bytes after them are rarely the next instruction).
 */
export const ENDS_BLOCK = new Uint8Array(HANDLERS.length);
ENDS_BLOCK[H_UD] = 1;
ENDS_BLOCK[H_TOO_LONG] = 1;
{
  const enders = new Set(['jmp', 'jmpf', 'call', 'callf', 'ret', 'retf', 'iret', 'int', 'int1', 'int3', 'into',
    'hlt', 'ud2', 'sysenter', 'sysexit']);
  const index = new Map<Handler, number>(HANDLERS.map((h, i) => [h, i]));
  for (const r of OPCODE_TABLE) if (enders.has(r.mnemonic)) ENDS_BLOCK[index.get(r.handler) ?? H_UD] = 1;
}

/**
 * Decode the instruction at linear `lin` (physical `phys` for its first byte) into slot `d` of the
 * decoded-instruction arrays. May raise #PF for the second page of a page-crossing instruction.
 */
export function decodeInto(c: CpuCore, d: number, lin: number, phys: number): void {
  fetcher.setup(c, lin, phys);
  const def32 = c.cs32;
  let o32 = def32, a32 = def32, seg = -1, pfx = 0;
  let pos = 0;
  let b: number;
  for (;;) {
    if (pos >= 15) { finishTooLong(c, d); return; }
    b = fetcher.byte(pos++);
    switch (b) {
      case 0x26: seg = 0; continue;
      case 0x2e: seg = 1; continue;
      case 0x36: seg = 2; continue;
      case 0x3e: seg = 3; continue;
      case 0x64: seg = 4; continue;
      case 0x65: seg = 5; continue;
      case 0x66: o32 = !def32; continue;
      case 0x67: a32 = !def32; continue;
      case 0xf0: pfx |= P_LOCK; continue;
      case 0xf2: pfx = (pfx & ~P_REP) | P_REPNE; continue;
      case 0xf3: pfx = (pfx & ~P_REPNE) | P_REP; continue;
    }
    break;
  }
  let op = b;
  if (b === 0x0f) {
    if (pos >= 15) { finishTooLong(c, d); return; }
    op = 256 + fetcher.byte(pos++);
  }
  let modrm = 0, slot = op * 16;
  let ea = EA_NONE | (EA_NONE << 4), disp = 0, defSeg = DS;
  if (hasModrm[op] !== 0) {
    if (pos >= 15) { finishTooLong(c, d); return; }
    modrm = fetcher.byte(pos++);
    slot += ((modrm >> 3) & 7) * 2 + (modrm >= 0xc0 ? 1 : 0);
    if ((cFlags[slot] & F_FORCE_REG) !== 0) {
      modrm |= 0xc0;
      slot = op * 16 + ((modrm >> 3) & 7) * 2 + 1;
    }
    if (modrm < 0xc0) {
      const mod = modrm >> 6, rm = modrm & 7;
      if (!a32) {
        ea = EA_A16 | EA_MEM;
        switch (rm) {
          case 0: ea |= 3 | (6 << 4); break;
          case 1: ea |= 3 | (7 << 4); break;
          case 2: ea |= 5 | (6 << 4); defSeg = SS; break;
          case 3: ea |= 5 | (7 << 4); defSeg = SS; break;
          case 4: ea |= 6 | (EA_NONE << 4); break;
          case 5: ea |= 7 | (EA_NONE << 4); break;
          case 6: ea |= mod === 0 ? EA_NONE | (EA_NONE << 4) : 5 | (EA_NONE << 4); if (mod !== 0) defSeg = SS; break;
          default: ea |= 3 | (EA_NONE << 4); break;
        }
        if (mod === 1) {
          if (pos >= 15) { finishTooLong(c, d); return; }
          disp = (fetcher.byte(pos++) << 24) >> 24;
        } else if (mod === 2 || (mod === 0 && rm === 6)) {
          if (pos + 2 > 15) { finishTooLong(c, d); return; }
          disp = fetcher.byte(pos) | (fetcher.byte(pos + 1) << 8);
          pos += 2;
          if (mod === 2) disp = (disp << 16) >> 16;
        }
      } else {
        ea = EA_MEM;
        let base = rm, index = EA_NONE, scale = 0;
        if (rm === 4) {
          if (pos >= 15) { finishTooLong(c, d); return; }
          const sib = fetcher.byte(pos++);
          scale = sib >> 6;
          index = (sib >> 3) & 7;
          if (index === 4) index = EA_NONE;
          base = sib & 7;
          if (base === 5 && mod === 0) base = EA_NONE;
        } else if (rm === 5 && mod === 0) base = EA_NONE;
        if (base === 4 || base === 5) defSeg = SS;
        ea |= base | (index << 4) | (scale << 8);
        if (mod === 1) {
          if (pos >= 15) { finishTooLong(c, d); return; }
          disp = (fetcher.byte(pos++) << 24) >> 24;
        } else if (mod === 2 || base === EA_NONE) {
          if (pos + 4 > 15) { finishTooLong(c, d); return; }
          disp = fetcher.byte(pos) | (fetcher.byte(pos + 1) << 8) | (fetcher.byte(pos + 2) << 16) | (fetcher.byte(pos + 3) << 24);
          pos += 4;
        }
      }
    }
  }
  // Immediates.
  let immKinds = cImm[slot];
  let imm = 0, imm2 = 0;
  for (let n = 0; immKinds !== 0; n++, immKinds >>= 4) {
    const k = immKinds & 15;
    let v = 0, len: number;
    switch (k) {
      case I_B: case I_BS: case I_JB: len = 1; break;
      case I_W: len = 2; break;
      case I_Z: case I_JZ: len = o32 ? 4 : 2; break;
      case I_AP: len = o32 ? 6 : 4; break;
      default: len = a32 ? 4 : 2; break; // moffs
    }
    if (pos + len > 15) { finishTooLong(c, d); return; }
    for (let i = 0; i < len && i < 4; i++) v |= fetcher.byte(pos + i) << (i * 8);
    if (k === I_AP) {
      imm2 = fetcher.byte(pos + len - 2) | (fetcher.byte(pos + len - 1) << 8);
      if (!o32) v &= 0xffff;
    } else if (k === I_BS || k === I_JB) v = (v << 24) >> 24;
    else if (len === 2 && k === I_JZ) v = (v << 16) >> 16;
    else if (len === 2 && k === I_Z) v = (v << 16) >> 16; // Iz of 16 bits is stored sign-extended; handlers mask
    pos += len;
    if (k === I_O) { disp = v; ea = EA_MEM | EA_NONE | (EA_NONE << 4); }
    else if (n === 0) imm = v; else imm2 = v;
  }
  let h = cHandler[slot];
  if (modrm >= 0xc0 && o32 && fastReg32[h] !== 0) h = fastReg32[h] + (fastOpFromReg[h] !== 0 ? (modrm >> 3) & 7 : cExt[slot]);
  if ((pfx & P_LOCK) !== 0 && ((cFlags[slot] & F_LOCK) === 0 || modrm >= 0xc0)) h = H_UD;
  c.dH[d] = h;
  c.dLen[d] = pos;
  c.dRm[d] = modrm;
  c.dPfx[d] = pfx | (o32 ? P_O32 : 0) | (a32 ? P_A32 : 0) | ((seg + 1) << P_SEG_SHIFT);
  c.dSeg[d] = seg >= 0 ? seg : defSeg;
  c.dEa[d] = ea;
  c.dDisp[d] = disp;
  c.dImm[d] = imm;
  c.dImm2[d] = imm2;
  c.dExt[d] = cExt[slot];
  c.dClass[d] = cClass[slot];
}

function finishTooLong(c: CpuCore, d: number): void {
  c.dH[d] = H_TOO_LONG;
  c.dLen[d] = 15;
  c.dRm[d] = 0;
  c.dPfx[d] = 0;
  c.dSeg[d] = DS;
  c.dEa[d] = EA_NONE | (EA_NONE << 4);
  c.dDisp[d] = 0; c.dImm[d] = 0; c.dImm2[d] = 0; c.dExt[d] = 0; c.dClass[d] = 0;
}
