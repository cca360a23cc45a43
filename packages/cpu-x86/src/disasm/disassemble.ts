/**
 * Intel-syntax x86 disassembler (16- and 32-bit code), driven by the interpreter's own opcode table
 * (`decoder/opcode-table.ts`) so that what it names is exactly what the CPU decodes; x87 escapes come
 * from `x87-table.ts`. Output follows GNU objdump's Intel syntax (`-M intel`) in lower case, with the
 * differences documented in README.md (absolute addresses in brackets, short string-instruction
 * forms).
 */
import { OPCODE_TABLE, SEGMENT_NAMES, type OpcodeRow } from '../decoder/opcode-table.js';
import type { DisassembleOptions, DisassembledInstruction, DisassembledLine } from './types.js';
import { X87_MEMORY_FORMS, X87_REGISTER_FORMS } from './x87-table.js';

const MAX_LENGTH = 15;
const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const MEM16 = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];
const SEGS = SEGMENT_NAMES.map((s) => s.toLowerCase());
const ST = ['st(0)', 'st(1)', 'st(2)', 'st(3)', 'st(4)', 'st(5)', 'st(6)', 'st(7)'];
const NO_OPERANDS: readonly string[] = Object.freeze([]);

/** Implicit register operands of the table whose width follows the operand size. */
const SIZED_REGISTERS: Readonly<Record<string, number>> = {
  eAX: 0, eCX: 1, eDX: 2, eBX: 3, eSP: 4, eBP: 5, eSI: 6, eDI: 7,
};
/** String instructions by base mnemonic: the table names the byte form `movsb` and the others `movs`. */
const STRING_OPS = new Set(['movs', 'cmps', 'stos', 'lods', 'scas', 'ins', 'outs']);
/** Mnemonics that objdump (and GAS) suffix with w/d when a 66 prefix overrides the operand size. */
const SUFFIXED_UNDER_66 = new Set(['pusha', 'popa', 'pushf', 'popf', 'iret', 'retf', 'ret', 'enter', 'leave']);
/** Descriptor-table stores/loads, always shown with their operand-size suffix (sgdtd, lidtw). */
const DESCRIPTOR_TABLE_OPS = new Set(['sgdt', 'sidt', 'lgdt', 'lidt']);
/**
 * Selector instructions whose register form is as wide as the operand size while the memory form is
 * always a word (SDM "Rv/Mw"): the 32-bit register is really written (or, for the loads, read).
 */
const SELECTOR_OPS = new Set(['sldt', 'str', 'smsw', 'lar', 'lsl']);
const MODRM_FORM = /^(E[bwdv]|G[bwdv]|M[a-z]?|Sw|Cd|Dd|Rd|ST)$/;

// ---------------------------------------------------------------------------------------------
// Opcode lookup compiled from the table on first use: 512 opcodes x (ModRM.reg * 2 + register form).

let rowBySlot: Int16Array | null = null;
const opcodeHasModrm = new Uint8Array(512);

function compileLookup(): Int16Array {
  const slots = new Int16Array(512 * 16).fill(-1);
  OPCODE_TABLE.forEach((row, i) => {
    const op = row.opcode >= 0x0f00 ? 256 + (row.opcode & 0xff) : row.opcode;
    if (row.reg !== undefined || row.operands.some((o) => MODRM_FORM.test(o))) opcodeHasModrm[op] = 1;
    for (let reg = 0; reg < 8; reg++) {
      if (row.reg !== undefined && row.reg !== reg) continue;
      if (row.mod !== 'reg') slots[op * 16 + reg * 2] = i;
      if (row.mod !== 'mem') slots[op * 16 + reg * 2 + 1] = i;
    }
  });
  return slots;
}

// ---------------------------------------------------------------------------------------------
// Decoding state of the instruction being disassembled (module scope: no per-call allocation of
// decoder objects; the disassembler is not re-entrant and never calls out).

let buf: Uint8Array = new Uint8Array(0);
let start = 0;
let pos = 0;
let limit = 0;
let overrun = false;
let o32 = true;
let a32 = true;
let seg = -1;
let modrm = 0;
/** Memory operand of the ModRM byte without segment/size, e.g. `[ebx+ecx*4+0x10]`; '' for none. */
let memory = '';
let memoryHasRegisters = false;
let segmentUsed = false;
let addressSizeUsed = false;
let operandSizeUsed = false;
/** Base name (`movs`, `cmps`...) when the instruction is a string instruction a rep prefix repeats. */
let repeatedString = '';

function next8(): number {
  if (pos >= limit) { overrun = true; return 0; }
  return buf[pos++];
}
function next16(): number {
  return next8() | (next8() << 8);
}
function next32(): number {
  return (next16() | (next16() << 16)) >>> 0;
}
function hex(v: number): string {
  return '0x' + v.toString(16);
}
function signedHex(v: number): string {
  return v < 0 ? '-0x' + (-v).toString(16) : '+0x' + v.toString(16);
}

function decodeMemory16(mod: number, rm: number): void {
  if (mod === 0 && rm === 6) {
    memory = '[' + hex(next16()) + ']';
    memoryHasRegisters = false;
    return;
  }
  let disp = '';
  if (mod === 1) disp = signedHex((next8() << 24) >> 24);
  else if (mod === 2) disp = signedHex((next16() << 16) >> 16);
  memory = '[' + MEM16[rm] + disp + ']';
  memoryHasRegisters = true;
}

function decodeMemory32(mod: number, rm: number): void {
  let base = rm, index = -1, scale = 0;
  if (rm === 4) {
    const sib = next8();
    scale = sib >> 6;
    index = (sib >> 3) & 7;
    base = sib & 7;
    if (base === 5 && mod === 0) base = -1;
    // Index 4 means "no index"; objdump still shows it as eiz unless the SIB just encodes [esp].
    if (index === 4 && base === 4 && scale === 0) index = -1;
  } else if (rm === 5 && mod === 0) base = -1;
  let disp = 0, hasDisp = true;
  if (mod === 1) disp = (next8() << 24) >> 24;
  else if (mod === 2 || base < 0) disp = next32() | 0;
  else hasDisp = false;
  if (base < 0 && index < 0) {
    memory = '[' + hex(disp >>> 0) + ']';
    memoryHasRegisters = false;
    return;
  }
  let text = base >= 0 ? REG32[base] : '';
  if (index >= 0) text += (base >= 0 ? '+' : '') + (index === 4 ? 'eiz' : REG32[index]) + '*' + (1 << scale);
  memory = '[' + text + (hasDisp ? signedHex(disp) : '') + ']';
  memoryHasRegisters = true;
}

/** Reads the rest of the ModRM operand (SIB, displacement) when it addresses memory. */
function decodeModrmMemory(forceRegister: boolean): void {
  memory = '';
  if (modrm >= 0xc0 || forceRegister) return;
  if (a32) decodeMemory32(modrm >> 6, modrm & 7);
  else decodeMemory16(modrm >> 6, modrm & 7);
}

function segmentText(): string {
  segmentUsed = true;
  return seg >= 0 ? SEGS[seg] + ':' : '';
}

/** The ModRM memory operand with its size and segment, e.g. `dword ptr fs:[eax]`. */
function memoryOperand(size: string): string {
  if (memoryHasRegisters) addressSizeUsed = true;
  return (size === '' ? '' : size + ' ptr ') + segmentText() + memory;
}

function wordOrDword(): string {
  operandSizeUsed = true;
  return o32 ? 'dword' : 'word';
}

/** Formats one operand form of the table; null when the encoding is invalid (`(bad)`). */
function formatOperand(form: string, selectorOp: boolean, address: number): string | null {
  const reg = (modrm >> 3) & 7, rm = modrm & 7, isMemory = memory !== '';
  switch (form) {
    case 'Eb': return isMemory ? memoryOperand('byte') : REG8[rm];
    case 'Ew':
    case 'Ev':
      if (selectorOp) {
        if (isMemory) return memoryOperand('word');
        operandSizeUsed = true;
        return o32 ? REG32[rm] : REG16[rm];
      }
      if (form === 'Ew') return isMemory ? memoryOperand('word') : REG16[rm];
      return isMemory ? memoryOperand(wordOrDword()) : (wordOrDword(), o32 ? REG32[rm] : REG16[rm]);
    case 'Ed': return isMemory ? memoryOperand('dword') : REG32[rm];
    case 'Gb': return REG8[reg];
    case 'Gw': return REG16[reg];
    case 'Gd': return REG32[reg];
    case 'Gv': operandSizeUsed = true; return o32 ? REG32[reg] : REG16[reg];
    case 'M': case 'Ms': return isMemory ? memoryOperand('') : null;
    case 'Mb': return isMemory ? memoryOperand('byte') : null;
    case 'Mq': return isMemory ? memoryOperand('qword') : null;
    case 'Mp': return isMemory ? (operandSizeUsed = true, memoryOperand(o32 ? 'fword' : 'dword')) : null;
    case 'Ma': return isMemory ? (operandSizeUsed = true, memoryOperand(o32 ? 'qword' : 'dword')) : null;
    case 'Sw': return reg < 6 ? SEGS[reg] : null;
    case 'Cd': return 'cr' + reg;
    case 'Dd': return 'dr' + reg;
    case 'Rd': return REG32[rm];
    case 'Ib': return hex(next8());
    case 'Ibs': {
      const v = (next8() << 24) >> 24;
      operandSizeUsed = true;
      return hex(o32 ? v >>> 0 : v & 0xffff);
    }
    case 'Iw': return hex(next16());
    case 'Iz': operandSizeUsed = true; return hex(o32 ? next32() : next16());
    case 'Jb': case 'Jz': {
      let disp: number;
      if (form === 'Jb') disp = (next8() << 24) >> 24;
      else { operandSizeUsed = true; disp = o32 ? next32() | 0 : (next16() << 16) >> 16; }
      const target = address + (pos - start) + disp;
      return hex(o32 ? target >>> 0 : target & 0xffff);
    }
    case 'Ap': {
      operandSizeUsed = true;
      const offset = o32 ? next32() : next16();
      return hex(next16()) + ':' + hex(offset);
    }
    case 'Ob': case 'Ov': {
      const moffs = a32 ? next32() : next16();
      if (form === 'Ov') operandSizeUsed = true;
      return segmentText() + '[' + hex(moffs) + ']';
    }
    case '1': return '1';
    default: {
      const sized = SIZED_REGISTERS[form];
      if (sized !== undefined) { operandSizeUsed = true; return o32 ? REG32[sized] : REG16[sized]; }
      return form.toLowerCase(); // AL, CL, DX, segment registers
    }
  }
}

function bad(length: number): DisassembledInstruction {
  return { length, mnemonic: '(bad)', operands: NO_OPERANDS, text: '(bad)' };
}

/** Formats an x87 escape (D8-DF) whose ModRM byte has been read; returns the mnemonic or null. */
function formatX87(escape: number, operands: string[]): string | null {
  const reg = (modrm >> 3) & 7;
  if (memory !== '') {
    const form = X87_MEMORY_FORMS[escape][reg];
    if (form === null) return null;
    operands.push(memoryOperand(form.size));
    if (form.sizedByOperandSize === true && o32 !== (limitMode32)) {
      operandSizeUsed = true;
      return form.mnemonic + (o32 ? 'd' : 'w');
    }
    return form.mnemonic;
  }
  const form = X87_REGISTER_FORMS[escape][reg];
  if (form === null) return null;
  const rm = modrm & 7;
  if ('byRm' in form) {
    const entry = form.byRm[rm];
    if (entry === null) return null;
    const space = entry.indexOf(' ');
    if (space < 0) return entry;
    operands.push(entry.slice(space + 1));
    return entry.slice(0, space);
  }
  if (form.pattern === 'st,sti') operands.push('st', ST[rm]);
  else if (form.pattern === 'sti,st') operands.push(ST[rm], 'st');
  else operands.push(ST[rm]);
  return form.mnemonic;
}

/** Default operand size of the code being disassembled (true = 32-bit). */
let limitMode32 = true;

/** Implicit string-instruction operands in objdump's order, for the explicit form. */
function stringOperands(base: string, size: string, accumulator: string, operands: string[]): void {
  const si = a32 ? '[esi]' : '[si]', di = a32 ? '[edi]' : '[di]';
  const source = () => size + ' ptr ' + (seg >= 0 ? SEGS[seg] + ':' : '') + si;
  const destination = size + ' ptr es:' + di;
  switch (base) {
    case 'movs': operands.push(destination, source()); break;
    case 'cmps': operands.push(source(), destination); break;
    case 'stos': operands.push(destination, accumulator); break;
    case 'lods': operands.push(accumulator, source()); break;
    case 'scas': operands.push(accumulator, destination); break;
    case 'ins': operands.push(destination, 'dx'); break;
    default: operands.push('dx', source()); break; // outs
  }
}

/** Disassembles one instruction at `offset`; `address` is its guest address. Never throws. */
function disassembleAt(bytes: Uint8Array, offset: number, mode32: boolean, address: number): DisassembledInstruction {
  if (!(offset >= 0 && offset < bytes.length)) return bad(0);
  const lookup = rowBySlot ?? (rowBySlot = compileLookup());
  buf = bytes; start = offset; pos = offset; overrun = false;
  limit = Math.min(bytes.length, offset + MAX_LENGTH);
  limitMode32 = mode32;
  o32 = mode32; a32 = mode32; seg = -1; modrm = 0; memory = ''; memoryHasRegisters = false;
  segmentUsed = false; addressSizeUsed = false; operandSizeUsed = false; repeatedString = '';
  let rep = 0, lastSegAt = -1, last66At = -1, last67At = -1, lastRepAt = -1;
  let b = 0;
  for (;;) {
    const at = pos;
    b = next8();
    if (overrun) return tooShortOrLong();
    switch (b) {
      case 0x26: seg = 0; lastSegAt = at; continue;
      case 0x2e: seg = 1; lastSegAt = at; continue;
      case 0x36: seg = 2; lastSegAt = at; continue;
      case 0x3e: seg = 3; lastSegAt = at; continue;
      case 0x64: seg = 4; lastSegAt = at; continue;
      case 0x65: seg = 5; lastSegAt = at; continue;
      case 0x66: o32 = !mode32; last66At = at; continue;
      case 0x67: a32 = !mode32; last67At = at; continue;
      case 0xf0: continue;
      case 0xf2: case 0xf3: rep = b; lastRepAt = at; continue;
    }
    break;
  }
  const prefixEnd = pos - 1;
  let op = b;
  if (b === 0x0f) {
    op = 256 + next8();
    if (overrun) return tooShortOrLong();
  }
  const operands: string[] = [];
  let mnemonic: string | null;
  let repUsed = false;
  if (op >= 0xd8 && op <= 0xdf) {
    modrm = next8();
    decodeModrmMemory(false);
    mnemonic = formatX87(op - 0xd8, operands);
  } else {
    let slot = op * 16;
    if (opcodeHasModrm[op] !== 0) {
      modrm = next8();
      if (overrun) return tooShortOrLong();
      slot += ((modrm >> 3) & 7) * 2 + (modrm >= 0xc0 ? 1 : 0);
    }
    const index = lookup[slot];
    if (index < 0) return bad(1);
    const row = OPCODE_TABLE[index];
    decodeModrmMemory(row.operands.includes('Rd'));
    mnemonic = formatRow(row, op, rep, operands, address);
    if (op === 0x90 && rep === 0xf3) repUsed = true;
  }
  if (overrun) return tooShortOrLong();
  if (mnemonic === null) return bad(1);
  // Prefixes the instruction did not use are shown by name, in encoding order, as objdump does.
  let text = '';
  for (let i = start; i < prefixEnd; i++) {
    const p = buf[i];
    let name: string | null;
    switch (p) {
      case 0x66: name = i === last66At && operandSizeUsed ? null : mode32 ? 'data16' : 'data32'; break;
      case 0x67: name = i === last67At && addressSizeUsed ? null : mode32 ? 'addr16' : 'addr32'; break;
      case 0xf0: name = 'lock'; break;
      case 0xf2: case 0xf3:
        if (i === lastRepAt && repUsed) name = null;
        else if (i === lastRepAt && repeatedString !== '') name = p === 0xf2 ? 'repnz' : repeatedString === 'cmps' || repeatedString === 'scas' ? 'repz' : 'rep';
        else name = p === 0xf2 ? 'repnz' : 'repz';
        break;
      default: name = i === lastSegAt && segmentUsed ? null : SEGS[[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].indexOf(p)];
    }
    if (name !== null) text += name + ' ';
  }
  text += mnemonic;
  if (operands.length > 0) text += ' ' + operands.join(', ');
  return { length: pos - start, mnemonic, operands, text };
}

function tooShortOrLong(): DisassembledInstruction {
  return buf.length - start > MAX_LENGTH ? bad(1) : bad(buf.length - start);
}

/** Formats a row of the integer opcode table into `operands`; returns the mnemonic or null for an invalid encoding. */
function formatRow(row: OpcodeRow, op: number, rep: number, operands: string[], address: number): string | null {
  let mnemonic = row.mnemonic;
  const base = mnemonic.endsWith('b') && STRING_OPS.has(mnemonic.slice(0, -1)) ? mnemonic.slice(0, -1) : mnemonic;
  if (STRING_OPS.has(base) || base === 'xlat') {
    const byte = base !== mnemonic || base === 'xlat';
    const size = byte ? 'byte' : wordOrDword();
    const accumulator = byte ? 'al' : o32 ? 'eax' : 'ax';
    const usesSource = base === 'movs' || base === 'cmps' || base === 'lods' || base === 'outs' || base === 'xlat';
    addressSizeUsed = true;
    if (base !== 'xlat') repeatedString = base;
    if (usesSource && seg >= 0) segmentUsed = true;
    if ((usesSource && seg >= 0) || a32 !== limitMode32) {
      if (base === 'xlat') operands.push('byte ptr ' + (seg >= 0 ? SEGS[seg] + ':' : '') + (a32 ? '[ebx]' : '[bx]'));
      else stringOperands(base, size, accumulator, operands);
      return base;
    }
    if (base === 'xlat') return 'xlatb';
    return base + (byte ? 'b' : o32 ? 'd' : 'w');
  }
  if (op === 0x90) {
    if (rep === 0xf3) return 'pause';
    if (o32 !== limitMode32) {
      operandSizeUsed = true;
      operands.push(REG32[0].slice(o32 ? 0 : 1), REG32[0].slice(o32 ? 0 : 1));
      return 'xchg';
    }
    return mnemonic;
  }
  const selectorOp = SELECTOR_OPS.has(mnemonic) || op === 0x8c || op === 0x8e;
  for (const form of row.operands) {
    const text = formatOperand(form, selectorOp, address);
    if (text === null) return null;
    operands.push(text);
  }
  // objdump writes the short-form xchg with the accumulator second.
  if (op > 0x90 && op <= 0x97) operands.reverse();
  const overridden = o32 !== limitMode32;
  switch (mnemonic) {
    case 'callf': return 'call';
    case 'jmpf': return 'jmp';
    case 'cbw': operandSizeUsed = true; return o32 ? 'cwde' : 'cbw';
    case 'cwd': operandSizeUsed = true; return o32 ? 'cdq' : 'cwd';
    case 'jcxz': addressSizeUsed = true; return a32 ? 'jecxz' : 'jcxz';
    case 'push': case 'pop': case 'call': case 'jmp': {
      const form = row.operands[0];
      const suffixed = form === 'Iz' || form === 'Ibs' || form === 'Jz' || (form.length === 2 && SEGS.includes(form.toLowerCase()));
      if (suffixed && overridden) { operandSizeUsed = true; mnemonic += o32 ? 'd' : 'w'; }
      return mnemonic;
    }
  }
  if (SUFFIXED_UNDER_66.has(mnemonic) && overridden) { operandSizeUsed = true; return mnemonic + (o32 ? 'd' : 'w'); }
  if (DESCRIPTOR_TABLE_OPS.has(mnemonic)) { operandSizeUsed = true; return mnemonic + (o32 ? 'd' : 'w'); }
  return mnemonic;
}

/**
 * Disassembles the instruction starting at `bytes[offset]` in Intel syntax (GNU objdump style, lower
 * case): `mov eax, dword ptr [ebx+ecx*4+0x10]`, `jmp 0x401000`, `rep movsb`,
 * `lock cmpxchg8b qword ptr [esi]`, `fld tbyte ptr [eax]`.
 *
 * Never throws: an opcode the CPU does not implement (it would raise #UD) or an instruction longer
 * than 15 bytes gives `(bad)` of length 1; bytes cut short by the end of `bytes` give `(bad)` over the
 * bytes that remain. Relative branch targets are computed from `options.address` (default: `offset`)
 * and wrap like EIP/IP for the operand size.
 *
 * @param bytes - Code bytes (for example a copy of guest memory around EIP).
 * @param offset - Index in `bytes` of the instruction's first byte.
 * @param options - Code-segment size (16 or 32) and the instruction's guest address.
 * @returns The instruction's length, mnemonic, operands and full text.
 */
export function disassemble(bytes: Uint8Array, offset: number, options: DisassembleOptions): DisassembledInstruction {
  return disassembleAt(bytes, offset, options.mode === 32, options.address ?? offset);
}

/**
 * Disassembles up to `count` consecutive instructions starting at `bytes[start]`, stopping at the end
 * of `bytes` (for traces and listings). Each instruction's address follows the previous one's
 * (`options.address`, default `start`, plus the lengths so far, wrapping at 64 KiB in 16-bit mode).
 *
 * @param bytes - Code bytes.
 * @param start - Index in `bytes` of the first instruction.
 * @param count - Maximum number of instructions.
 * @param options - Code-segment size (16 or 32) and the guest address of `bytes[start]`.
 * @returns One entry per instruction, with its offset in `bytes` and guest address.
 */
export function disassembleRange(bytes: Uint8Array, start: number, count: number, options: DisassembleOptions): DisassembledLine[] {
  const mode32 = options.mode === 32;
  const lines: DisassembledLine[] = [];
  let offset = start;
  let address = options.address ?? start;
  for (let i = 0; i < count && offset >= 0 && offset < bytes.length; i++) {
    const insn = disassembleAt(bytes, offset, mode32, address);
    lines.push({ ...insn, offset, address });
    offset += insn.length;
    address = mode32 ? (address + insn.length) >>> 0 : (address + insn.length) & 0xffff;
  }
  return lines;
}
