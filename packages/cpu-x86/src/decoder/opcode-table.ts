/**
 * The declarative opcode table: one row per opcode (or per group member). It feeds the decoder
 * (operand forms decide ModRM presence and immediates) and the interpreter (the handler), and is
 * meant to be read by the disassembler too.
 *
 * Row format:
 * - `opcode`: 0x00-0xFF for the one-byte map, 0x0F00-0x0FFF for the two-byte (0F) map.
 * - `reg`: for group opcodes, the ModRM.reg value this row covers (rows without `reg` cover all).
 * - `mod`: 'mem' or 'reg' when the row applies only to a memory or register ModRM form.
 * - `mnemonic`: Intel mnemonic (lower case).
 * - `operands`: Intel SDM appendix A operand forms, destination first. Forms the decoder acts on:
 *   E*, G*, M*, S*, C*, D*, R*, 'ST' (ModRM present); 'Ib' (imm8), 'Ibs' (imm8 sign-extended),
 *   'Iw' (imm16), 'Iz' (imm16/32 by operand size), 'Jb'/'Jz' (relative), 'Ap' (far pointer),
 *   'Ob'/'Ov' (moffs, address size). Register names ('AL', 'eAX', 'CL', 'DX', '1', 'ES', ...) are implicit.
 * - `handler`: the function executing the row; `ext` is a small constant passed to it through the
 *   decoded instruction (ALU operation, condition code, register number, segment...).
 * - `lock`: LOCK prefix allowed (memory destination only).
 */
import type { CpuCore } from '../core.js';
import * as alu from '../exec/alu.js';
import * as ctl from '../exec/control.js';
import * as dat from '../exec/data.js';
import * as io from '../exec/io.js';
import * as str from '../exec/string.js';
import * as sys from '../exec/system.js';

/** Every instruction handler has this one signature: the core and the decoded-instruction slot. */
export type Handler = (c: CpuCore, d: number) => void;

/** One row of the opcode table (see the module documentation for the field meanings). */
export interface OpcodeRow {
  readonly opcode: number;
  readonly reg?: number;
  readonly mod?: 'mem' | 'reg';
  readonly mnemonic: string;
  readonly operands: readonly string[];
  readonly handler: Handler;
  readonly ext?: number;
  readonly lock?: boolean;
}

const rows: OpcodeRow[] = [];
function row(opcode: number, mnemonic: string, operands: readonly string[], handler: Handler,
  extra: { reg?: number; mod?: 'mem' | 'reg'; ext?: number; lock?: boolean } = {}): void {
  rows.push({ opcode, mnemonic, operands, handler, ...extra });
}
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const R32 = ['eAX', 'eCX', 'eDX', 'eBX', 'eSP', 'eBP', 'eSI', 'eDI'];
const R8 = ['AL', 'CL', 'DL', 'BL', 'AH', 'CH', 'DH', 'BH'];
const SEG = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

// ---------------- one-byte map ----------------
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
for (let op = 0; op < 8; op++) {
  const b = op << 3, m = ALU[op], lock = op !== 7;
  row(b, m, ['Eb', 'Gb'], alu.aluEbGb, { ext: op, lock });
  row(b + 1, m, ['Ev', 'Gv'], alu.aluEvGv, { ext: op, lock });
  row(b + 2, m, ['Gb', 'Eb'], alu.aluGbEb, { ext: op });
  row(b + 3, m, ['Gv', 'Ev'], alu.aluGvEv, { ext: op });
  row(b + 4, m, ['AL', 'Ib'], alu.aluALIb, { ext: op });
  row(b + 5, m, ['eAX', 'Iz'], alu.aluAXIz, { ext: op });
}
row(0x06, 'push', ['ES'], dat.pushSeg, { ext: 0 }); row(0x07, 'pop', ['ES'], dat.popSeg, { ext: 0 });
row(0x0e, 'push', ['CS'], dat.pushSeg, { ext: 1 });
row(0x16, 'push', ['SS'], dat.pushSeg, { ext: 2 }); row(0x17, 'pop', ['SS'], dat.popSeg, { ext: 2 });
row(0x1e, 'push', ['DS'], dat.pushSeg, { ext: 3 }); row(0x1f, 'pop', ['DS'], dat.popSeg, { ext: 3 });
row(0x27, 'daa', [], alu.daa); row(0x2f, 'das', [], alu.das);
row(0x37, 'aaa', [], alu.aaa); row(0x3f, 'aas', [], alu.aas);
for (let r = 0; r < 8; r++) {
  row(0x40 + r, 'inc', [R32[r]], alu.incReg, { ext: r });
  row(0x48 + r, 'dec', [R32[r]], alu.decReg, { ext: r });
  row(0x50 + r, 'push', [R32[r]], dat.pushReg, { ext: r });
  row(0x58 + r, 'pop', [R32[r]], dat.popReg, { ext: r });
  if (r > 0) row(0x90 + r, 'xchg', ['eAX', R32[r]], dat.xchgAx, { ext: r });
  row(0xb0 + r, 'mov', [R8[r], 'Ib'], dat.movRegIb, { ext: r });
  row(0xb8 + r, 'mov', [R32[r], 'Iz'], dat.movRegIz, { ext: r });
}
row(0x60, 'pusha', [], dat.pusha); row(0x61, 'popa', [], dat.popa);
row(0x62, 'bound', ['Gv', 'Ma'], ctl.bound);
row(0x63, 'arpl', ['Ew', 'Gw'], sys.arpl);
row(0x68, 'push', ['Iz'], dat.pushImm);
row(0x69, 'imul', ['Gv', 'Ev', 'Iz'], alu.imulGvEvI);
row(0x6a, 'push', ['Ibs'], dat.pushImm);
row(0x6b, 'imul', ['Gv', 'Ev', 'Ibs'], alu.imulGvEvI);
row(0x6c, 'insb', [], str.ins, { ext: 0 }); row(0x6d, 'ins', [], str.ins, { ext: 1 });
row(0x6e, 'outsb', [], str.outs, { ext: 0 }); row(0x6f, 'outs', [], str.outs, { ext: 1 });
for (let cc = 0; cc < 16; cc++) {
  row(0x70 + cc, 'j' + CC[cc], ['Jb'], ctl.JCC[cc], { ext: cc });
  row(0x0f80 + cc, 'j' + CC[cc], ['Jz'], ctl.JCC[cc], { ext: cc });
  row(0x0f90 + cc, 'set' + CC[cc], ['Eb'], dat.setcc, { ext: cc });
  row(0x0f40 + cc, 'cmov' + CC[cc], ['Gv', 'Ev'], dat.cmovcc, { ext: cc });
}
for (let op = 0; op < 8; op++) {
  const lock = op !== 7;
  row(0x80, ALU[op], ['Eb', 'Ib'], alu.grp1Eb, { reg: op, lock });
  row(0x81, ALU[op], ['Ev', 'Iz'], alu.grp1Ev, { reg: op, lock });
  row(0x82, ALU[op], ['Eb', 'Ib'], alu.grp1Eb, { reg: op, lock });
  row(0x83, ALU[op], ['Ev', 'Ibs'], alu.grp1Ev, { reg: op, lock });
}
row(0x84, 'test', ['Eb', 'Gb'], alu.testEbGb); row(0x85, 'test', ['Ev', 'Gv'], alu.testEvGv);
row(0x86, 'xchg', ['Eb', 'Gb'], dat.xchgEbGb, { lock: true });
row(0x87, 'xchg', ['Ev', 'Gv'], dat.xchgEvGv, { lock: true });
row(0x88, 'mov', ['Eb', 'Gb'], dat.movEbGb); row(0x89, 'mov', ['Ev', 'Gv'], dat.movEvGv);
row(0x8a, 'mov', ['Gb', 'Eb'], dat.movGbEb); row(0x8b, 'mov', ['Gv', 'Ev'], dat.movGvEv);
row(0x8c, 'mov', ['Ev', 'Sw'], dat.movEwSw);
row(0x8d, 'lea', ['Gv', 'M'], dat.lea);
row(0x8e, 'mov', ['Sw', 'Ew'], dat.movSwEw);
row(0x8f, 'pop', ['Ev'], dat.popEv, { reg: 0 });
row(0x90, 'nop', [], ctl.nop);
row(0x98, 'cbw', [], dat.cbw); row(0x99, 'cwd', [], dat.cwd);
row(0x9a, 'call', ['Ap'], ctl.callFarAp);
row(0x9b, 'fwait', [], sys.fwait);
row(0x9c, 'pushf', [], dat.pushf); row(0x9d, 'popf', [], dat.popf);
row(0x9e, 'sahf', [], dat.sahf); row(0x9f, 'lahf', [], dat.lahf);
row(0xa0, 'mov', ['AL', 'Ob'], dat.movMoffs, { ext: 0 }); row(0xa1, 'mov', ['eAX', 'Ov'], dat.movMoffs, { ext: 1 });
row(0xa2, 'mov', ['Ob', 'AL'], dat.movMoffs, { ext: 2 }); row(0xa3, 'mov', ['Ov', 'eAX'], dat.movMoffs, { ext: 3 });
row(0xa4, 'movsb', [], str.movs, { ext: 0 }); row(0xa5, 'movs', [], str.movs, { ext: 1 });
row(0xa6, 'cmpsb', [], str.cmps, { ext: 0 }); row(0xa7, 'cmps', [], str.cmps, { ext: 1 });
row(0xa8, 'test', ['AL', 'Ib'], alu.testALIb); row(0xa9, 'test', ['eAX', 'Iz'], alu.testAXIz);
row(0xaa, 'stosb', [], str.stos, { ext: 0 }); row(0xab, 'stos', [], str.stos, { ext: 1 });
row(0xac, 'lodsb', [], str.lods, { ext: 0 }); row(0xad, 'lods', [], str.lods, { ext: 1 });
row(0xae, 'scasb', [], str.scas, { ext: 0 }); row(0xaf, 'scas', [], str.scas, { ext: 1 });
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
for (let op = 0; op < 8; op++) {
  row(0xc0, SHIFT[op], ['Eb', 'Ib'], alu.grp2Eb, { reg: op, ext: 0 });
  row(0xc1, SHIFT[op], ['Ev', 'Ib'], alu.grp2Ev, { reg: op, ext: 0 });
  row(0xd0, SHIFT[op], ['Eb', '1'], alu.grp2Eb, { reg: op, ext: 1 });
  row(0xd1, SHIFT[op], ['Ev', '1'], alu.grp2Ev, { reg: op, ext: 1 });
  row(0xd2, SHIFT[op], ['Eb', 'CL'], alu.grp2Eb, { reg: op, ext: 2 });
  row(0xd3, SHIFT[op], ['Ev', 'CL'], alu.grp2Ev, { reg: op, ext: 2 });
}
row(0xc2, 'ret', ['Iw'], ctl.retNear); row(0xc3, 'ret', [], ctl.retNear);
row(0xc4, 'les', ['Gv', 'Mp'], dat.loadFarPointer, { ext: 0 });
row(0xc5, 'lds', ['Gv', 'Mp'], dat.loadFarPointer, { ext: 3 });
row(0xc6, 'mov', ['Eb', 'Ib'], dat.movEbIb, { reg: 0 });
row(0xc7, 'mov', ['Ev', 'Iz'], dat.movEvIz, { reg: 0 });
row(0xc8, 'enter', ['Iw', 'Ib'], dat.enter); row(0xc9, 'leave', [], dat.leave);
row(0xca, 'retf', ['Iw'], ctl.retFar); row(0xcb, 'retf', [], ctl.retFar);
row(0xcc, 'int3', [], ctl.int3); row(0xcd, 'int', ['Ib'], ctl.intN);
row(0xce, 'into', [], ctl.into); row(0xcf, 'iret', [], ctl.iretOp);
row(0xd4, 'aam', ['Ib'], alu.aam); row(0xd5, 'aad', ['Ib'], alu.aad);
row(0xd6, 'salc', [], dat.salc); row(0xd7, 'xlat', [], dat.xlat);
for (let e = 0; e < 8; e++) row(0xd8 + e, 'esc', ['ST'], sys.esc, { ext: e });
row(0xe0, 'loopne', ['Jb'], ctl.loop, { ext: 0 }); row(0xe1, 'loope', ['Jb'], ctl.loop, { ext: 1 });
row(0xe2, 'loop', ['Jb'], ctl.loop, { ext: 2 }); row(0xe3, 'jcxz', ['Jb'], ctl.loop, { ext: 3 });
row(0xe4, 'in', ['AL', 'Ib'], io.inImm, { ext: 0 }); row(0xe5, 'in', ['eAX', 'Ib'], io.inImm, { ext: 1 });
row(0xe6, 'out', ['Ib', 'AL'], io.outImm, { ext: 0 }); row(0xe7, 'out', ['Ib', 'eAX'], io.outImm, { ext: 1 });
row(0xe8, 'call', ['Jz'], ctl.callRel); row(0xe9, 'jmp', ['Jz'], ctl.jmpRel);
row(0xea, 'jmp', ['Ap'], ctl.jmpFarAp); row(0xeb, 'jmp', ['Jb'], ctl.jmpRel);
row(0xec, 'in', ['AL', 'DX'], io.inDx, { ext: 0 }); row(0xed, 'in', ['eAX', 'DX'], io.inDx, { ext: 1 });
row(0xee, 'out', ['DX', 'AL'], io.outDx, { ext: 0 }); row(0xef, 'out', ['DX', 'eAX'], io.outDx, { ext: 1 });
row(0xf1, 'int1', [], ctl.int1);
row(0xf4, 'hlt', [], ctl.hlt); row(0xf5, 'cmc', [], dat.cmc);
row(0xf6, 'test', ['Eb', 'Ib'], alu.testEbIb, { reg: 0 }); row(0xf6, 'test', ['Eb', 'Ib'], alu.testEbIb, { reg: 1 });
row(0xf6, 'not', ['Eb'], alu.notEb, { reg: 2, lock: true }); row(0xf6, 'neg', ['Eb'], alu.negEb, { reg: 3, lock: true });
row(0xf6, 'mul', ['Eb'], alu.mulEb, { reg: 4 }); row(0xf6, 'imul', ['Eb'], alu.imulEb, { reg: 5 });
row(0xf6, 'div', ['Eb'], alu.divEb, { reg: 6 }); row(0xf6, 'idiv', ['Eb'], alu.idivEb, { reg: 7 });
row(0xf7, 'test', ['Ev', 'Iz'], alu.testEvIz, { reg: 0 }); row(0xf7, 'test', ['Ev', 'Iz'], alu.testEvIz, { reg: 1 });
row(0xf7, 'not', ['Ev'], alu.notEv, { reg: 2, lock: true }); row(0xf7, 'neg', ['Ev'], alu.negEv, { reg: 3, lock: true });
row(0xf7, 'mul', ['Ev'], alu.mulEv, { reg: 4 }); row(0xf7, 'imul', ['Ev'], alu.imulEv, { reg: 5 });
row(0xf7, 'div', ['Ev'], alu.divEv, { reg: 6 }); row(0xf7, 'idiv', ['Ev'], alu.idivEv, { reg: 7 });
row(0xf8, 'clc', [], dat.clc); row(0xf9, 'stc', [], dat.stc);
row(0xfa, 'cli', [], dat.cli); row(0xfb, 'sti', [], dat.sti);
row(0xfc, 'cld', [], dat.cld); row(0xfd, 'std', [], dat.std);
row(0xfe, 'inc', ['Eb'], alu.incEb, { reg: 0, lock: true }); row(0xfe, 'dec', ['Eb'], alu.decEb, { reg: 1, lock: true });
row(0xff, 'inc', ['Ev'], alu.incEv, { reg: 0, lock: true }); row(0xff, 'dec', ['Ev'], alu.decEv, { reg: 1, lock: true });
row(0xff, 'call', ['Ev'], ctl.callEv, { reg: 2 }); row(0xff, 'callf', ['Mp'], ctl.callFarEv, { reg: 3 });
row(0xff, 'jmp', ['Ev'], ctl.jmpEv, { reg: 4 }); row(0xff, 'jmpf', ['Mp'], ctl.jmpFarEv, { reg: 5 });
row(0xff, 'push', ['Ev'], dat.pushEv, { reg: 6 });

// ---------------- two-byte map (0F xx) ----------------
row(0x0f00, 'sldt', ['Ew'], sys.sldt, { reg: 0 }); row(0x0f00, 'str', ['Ew'], sys.str, { reg: 1 });
row(0x0f00, 'lldt', ['Ew'], sys.lldt, { reg: 2 }); row(0x0f00, 'ltr', ['Ew'], sys.ltr, { reg: 3 });
row(0x0f00, 'verr', ['Ew'], sys.verr, { reg: 4 }); row(0x0f00, 'verw', ['Ew'], sys.verw, { reg: 5 });
row(0x0f01, 'sgdt', ['Ms'], sys.sdt, { reg: 0, mod: 'mem' }); row(0x0f01, 'sidt', ['Ms'], sys.sdt, { reg: 1, mod: 'mem' });
row(0x0f01, 'lgdt', ['Ms'], sys.ldt, { reg: 2, mod: 'mem' }); row(0x0f01, 'lidt', ['Ms'], sys.ldt, { reg: 3, mod: 'mem' });
row(0x0f01, 'smsw', ['Ew'], sys.smsw, { reg: 4 }); row(0x0f01, 'lmsw', ['Ew'], sys.lmsw, { reg: 6 });
row(0x0f01, 'invlpg', ['Mb'], sys.invlpg, { reg: 7, mod: 'mem' });
row(0x0f02, 'lar', ['Gv', 'Ew'], sys.lar); row(0x0f03, 'lsl', ['Gv', 'Ew'], sys.lsl);
row(0x0f06, 'clts', [], sys.clts);
row(0x0f08, 'invd', [], sys.wbinvd); row(0x0f09, 'wbinvd', [], sys.wbinvd);
row(0x0f0b, 'ud2', [], ctl.undefinedOpcode);
for (let op = 0x18; op <= 0x1f; op++) row(0x0f00 + op, 'nop', ['Ev'], ctl.nop);
row(0x0f20, 'mov', ['Rd', 'Cd'], sys.movFromCr); row(0x0f21, 'mov', ['Rd', 'Dd'], sys.movFromDr);
row(0x0f22, 'mov', ['Cd', 'Rd'], sys.movToCr); row(0x0f23, 'mov', ['Dd', 'Rd'], sys.movToDr);
row(0x0f30, 'wrmsr', [], sys.wrmsr); row(0x0f31, 'rdtsc', [], sys.rdtsc);
row(0x0f32, 'rdmsr', [], sys.rdmsr); row(0x0f33, 'rdpmc', [], sys.rdpmc);
row(0x0f34, 'sysenter', [], sys.sysenter); row(0x0f35, 'sysexit', [], sys.sysexit);
row(0x0fa0, 'push', ['FS'], dat.pushSeg, { ext: 4 }); row(0x0fa1, 'pop', ['FS'], dat.popSeg, { ext: 4 });
row(0x0fa2, 'cpuid', [], sys.cpuid);
row(0x0fa3, 'bt', ['Ev', 'Gv'], alu.btEvGv, { ext: 0 });
row(0x0fa4, 'shld', ['Ev', 'Gv', 'Ib'], alu.shxd, { ext: 0 }); row(0x0fa5, 'shld', ['Ev', 'Gv', 'CL'], alu.shxd, { ext: 2 });
row(0x0fa8, 'push', ['GS'], dat.pushSeg, { ext: 5 }); row(0x0fa9, 'pop', ['GS'], dat.popSeg, { ext: 5 });
row(0x0fab, 'bts', ['Ev', 'Gv'], alu.btEvGv, { ext: 1, lock: true });
row(0x0fac, 'shrd', ['Ev', 'Gv', 'Ib'], alu.shxd, { ext: 1 }); row(0x0fad, 'shrd', ['Ev', 'Gv', 'CL'], alu.shxd, { ext: 3 });
row(0x0fae, 'fxsave', ['M'], sys.fxsaveRstor, { reg: 0, mod: 'mem' });
row(0x0fae, 'fxrstor', ['M'], sys.fxsaveRstor, { reg: 1, mod: 'mem' });
row(0x0faf, 'imul', ['Gv', 'Ev'], alu.imulGvEv);
row(0x0fb0, 'cmpxchg', ['Eb', 'Gb'], dat.cmpxchgEbGb, { lock: true });
row(0x0fb1, 'cmpxchg', ['Ev', 'Gv'], dat.cmpxchgEvGv, { lock: true });
row(0x0fb2, 'lss', ['Gv', 'Mp'], dat.loadFarPointer, { ext: 2 });
row(0x0fb3, 'btr', ['Ev', 'Gv'], alu.btEvGv, { ext: 2, lock: true });
row(0x0fb4, 'lfs', ['Gv', 'Mp'], dat.loadFarPointer, { ext: 4 });
row(0x0fb5, 'lgs', ['Gv', 'Mp'], dat.loadFarPointer, { ext: 5 });
row(0x0fb6, 'movzx', ['Gv', 'Eb'], dat.movzxb); row(0x0fb7, 'movzx', ['Gv', 'Ew'], dat.movzxw);
row(0x0fba, 'bt', ['Ev', 'Ib'], alu.btEvIb, { reg: 4 });
row(0x0fba, 'bts', ['Ev', 'Ib'], alu.btEvIb, { reg: 5, lock: true });
row(0x0fba, 'btr', ['Ev', 'Ib'], alu.btEvIb, { reg: 6, lock: true });
row(0x0fba, 'btc', ['Ev', 'Ib'], alu.btEvIb, { reg: 7, lock: true });
row(0x0fbb, 'btc', ['Ev', 'Gv'], alu.btEvGv, { ext: 3, lock: true });
row(0x0fbc, 'bsf', ['Gv', 'Ev'], alu.bsf); row(0x0fbd, 'bsr', ['Gv', 'Ev'], alu.bsr);
row(0x0fbe, 'movsx', ['Gv', 'Eb'], dat.movsxb); row(0x0fbf, 'movsx', ['Gv', 'Ew'], dat.movsxw);
row(0x0fc0, 'xadd', ['Eb', 'Gb'], dat.xaddEbGb, { lock: true });
row(0x0fc1, 'xadd', ['Ev', 'Gv'], dat.xaddEvGv, { lock: true });
row(0x0fc7, 'cmpxchg8b', ['Mq'], dat.cmpxchg8b, { reg: 1, mod: 'mem', lock: true });
for (let r = 0; r < 8; r++) row(0x0fc8 + r, 'bswap', [R32[r]], dat.bswap, { ext: r });

/** The opcode table (read-only). */
export const OPCODE_TABLE: readonly OpcodeRow[] = rows;
/** Names of the segment registers in encoding order (for disassemblers). */
export const SEGMENT_NAMES: readonly string[] = SEG;
