/**
 * The generator's instruction table: one row per user-mode integer opcode form of the one-byte and
 * 0F maps, each with its flag behaviour (what it reads, defines, and leaves undefined per the SDM).
 * A row's `gen` picks operands and initial values for one case; `sequence` rows may also appear
 * inside random multi-instruction sequences (they never need pinned register values).
 */
import type { CaseBuilder} from './builder.js';
import { boundaryValue, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, sizeMask, type RmOperand } from './builder.js';
import { AF, CF, CONDITION_FLAGS, DF, OF, PF, POPF_SOURCE_MASK, SF, STATUS, ZF } from './flags.js';
import { DATA_START, REGION_END, REGION_START, STACK_START } from './layout.js';

export interface Form {
  /** Grouping key for reports and the known-failure list. */
  opcode: string;
  name: string;
  weight: number;
  sequence: boolean;
  gen(b: CaseBuilder): void;
}

const forms: Form[] = [];
function form(opcode: string, name: string, gen: (b: CaseBuilder) => void, options: { weight?: number; sequence?: boolean } = {}): void {
  forms.push({ opcode, name, gen, weight: options.weight ?? 1, sequence: options.sequence ?? false });
}
const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** Seeds a memory operand with a boundary value most of the time. */
function seedMemory(b: CaseBuilder, rm: RmOperand, size: number): void {
  if (rm.mem && b.rng.bool(0.7)) b.patch(rm.address, size, boundaryValue(b.rng));
}
/** Occasionally adds LOCK: legal on a read-modify-write memory destination, #UD otherwise. */
function maybeLock(b: CaseBuilder, lockable: boolean, rm: RmOperand | null): void {
  const p = lockable && rm?.mem === true ? 0.15 : 0.02;
  if (!b.sequence && b.rng.bool(p)) b.prefix(0xf0);
}
function maybeSegment(b: CaseBuilder): void {
  // ES, SS and DS all map the same window natively and are flat in the interpreter.
  if (b.rng.bool(0.08)) b.prefix(b.rng.pick([0x26, 0x36, 0x3e]));
}
/** `op E,G` / `op G,E` with ModR/M. */
function rmForm(b: CaseBuilder, opBytes: number[], size: number, rmWrites: boolean, regWrites: boolean, lockable = false): RmOperand {
  const reg = regWrites ? b.destReg(size) : b.anyReg();
  b.op(...opBytes);
  const rm = b.modrm(reg, size, { writes: rmWrites });
  seedMemory(b, rm, size);
  maybeLock(b, lockable, rm);
  if (rm.mem) maybeSegment(b);
  return rm;
}

// ---------------------------------------------------------------- ALU: ADD OR ADC SBB AND SUB XOR CMP
const ALU = ['ADD', 'OR', 'ADC', 'SBB', 'AND', 'SUB', 'XOR', 'CMP'];
function aluFlags(b: CaseBuilder, op: number): void {
  const logic = op === 1 || op === 4 || op === 6;
  b.flags(op === 2 || op === 3 ? CF : 0, STATUS, logic ? AF : 0);
}
for (let op = 0; op < 8; op++) {
  const name = ALU[op] as string;
  const base = op * 8;
  const writes = op !== 7;
  form(hex(base), `${name} Eb,Gb`, (b) => { rmForm(b, [base], 1, writes, false, writes); aluFlags(b, op); }, { sequence: true });
  form(hex(base + 1), `${name} Ev,Gv`, (b) => { const s = b.osize(); rmForm(b, [base + 1], s, writes, false, writes); aluFlags(b, op); }, { sequence: true, weight: 2 });
  form(hex(base + 2), `${name} Gb,Eb`, (b) => { rmForm(b, [base + 2], 1, false, writes); aluFlags(b, op); }, { sequence: true });
  form(hex(base + 3), `${name} Gv,Ev`, (b) => { const s = b.osize(); rmForm(b, [base + 3], s, false, writes); aluFlags(b, op); }, { sequence: true, weight: 2 });
  form(hex(base + 4), `${name} AL,Ib`, (b) => { b.op(base + 4); b.imm(1, boundaryValue(b.rng)); aluFlags(b, op); }, { sequence: true });
  form(hex(base + 5), `${name} eAX,Iz`, (b) => { const s = b.osize(); b.op(base + 5); b.imm(s, boundaryValue(b.rng)); aluFlags(b, op); }, { sequence: true });
  for (const [opc, size, immSize] of [[0x80, 1, 1], [0x81, 0, 0], [0x82, 1, 1], [0x83, 0, 1]] as const) {
    form(`${hex(opc)}/${op}`, `${name} ${size === 1 ? 'Eb' : 'Ev'},${opc === 0x81 ? 'Iz' : 'Ib'}`, (b) => {
      const s = size === 1 ? 1 : b.osize();
      b.op(opc);
      const rm = b.modrm(op, s, { writes });
      seedMemory(b, rm, s);
      maybeLock(b, writes, rm);
      b.imm(immSize === 1 ? 1 : s, boundaryValue(b.rng));
      aluFlags(b, op);
    }, { sequence: true, weight: opc === 0x82 ? 0.3 : 1 });
  }
}

// ---------------------------------------------------------------- INC DEC NOT NEG TEST
for (let r = 0; r < 8; r++) {
  form(hex(0x40 + r), `INC ${['eAX', 'eCX', 'eDX', 'eBX', 'eSP', 'eBP', 'eSI', 'eDI'][r]}`, (b) => {
    if (b.sequence && (r === ESP || r === ESI || r === EDI)) { b.rejected = true; return; }
    b.osize(); b.op(0x40 + r); b.flags(0, STATUS & ~CF);
  }, { sequence: true, weight: 0.25 });
  form(hex(0x48 + r), `DEC ${['eAX', 'eCX', 'eDX', 'eBX', 'eSP', 'eBP', 'eSI', 'eDI'][r]}`, (b) => {
    if (b.sequence && (r === ESP || r === ESI || r === EDI)) { b.rejected = true; return; }
    b.osize(); b.op(0x48 + r); b.flags(0, STATUS & ~CF);
  }, { sequence: true, weight: 0.25 });
}
for (const [sub, name] of [[0, 'INC'], [1, 'DEC']] as const) {
  form(`FE/${sub}`, `${name} Eb`, (b) => { b.op(0xfe); const rm = b.modrm(sub, 1, { writes: true }); seedMemory(b, rm, 1); maybeLock(b, true, rm); b.flags(0, STATUS & ~CF); }, { sequence: true });
  form(`FF/${sub}`, `${name} Ev`, (b) => { const s = b.osize(); b.op(0xff); const rm = b.modrm(sub, s, { writes: true }); seedMemory(b, rm, s); maybeLock(b, true, rm); b.flags(0, STATUS & ~CF); }, { sequence: true });
}
for (const [opc, size] of [[0xf6, 1], [0xf7, 0]] as const) {
  const v = size === 1 ? 'Eb' : 'Ev';
  const sz = (b: CaseBuilder): number => (size === 1 ? 1 : b.osize());
  form(`${hex(opc)}/2`, `NOT ${v}`, (b) => { const s = sz(b); b.op(opc); const rm = b.modrm(2, s, { writes: true }); seedMemory(b, rm, s); maybeLock(b, true, rm); }, { sequence: true });
  form(`${hex(opc)}/3`, `NEG ${v}`, (b) => { const s = sz(b); b.op(opc); const rm = b.modrm(3, s, { writes: true }); seedMemory(b, rm, s); maybeLock(b, true, rm); b.flags(0, STATUS); }, { sequence: true });
  for (const sub of [0, 1]) {
    form(`${hex(opc)}/${sub}`, `TEST ${v},I${size === 1 ? 'b' : 'z'}${sub === 1 ? ' (alias /1)' : ''}`, (b) => {
      const s = sz(b); b.op(opc); const rm = b.modrm(sub, s); seedMemory(b, rm, s); b.imm(s, boundaryValue(b.rng)); b.flags(0, STATUS, AF);
    }, { sequence: true, weight: sub === 1 ? 0.3 : 1 });
  }
  form(`${hex(opc)}/4`, `MUL ${v}`, (b) => { const s = sz(b); b.op(opc); const rm = b.modrm(4, s); seedMemory(b, rm, s); b.flags(0, STATUS, SF | ZF | AF | PF); }, { sequence: true });
  form(`${hex(opc)}/5`, `IMUL ${v}`, (b) => { const s = sz(b); b.op(opc); const rm = b.modrm(5, s); seedMemory(b, rm, s); b.flags(0, STATUS, SF | ZF | AF | PF); }, { sequence: true });
  for (const [sub, name] of [[6, 'DIV'], [7, 'IDIV']] as const) {
    form(`${hex(opc)}/${sub}`, `${name} ${v}`, (b) => {
      const s = sz(b);
      const signed = sub === 7;
      const bits = s * 8;
      // Half the time build a dividend whose quotient fits; otherwise boundary values (incl. #DE).
      let divisor = boundaryValue(b.rng) & sizeMask(s);
      if (b.rng.bool(0.1)) divisor = 0;
      let high: bigint, low: bigint;
      if (divisor !== 0 && b.rng.bool(0.6)) {
        const d = signed ? BigInt.asIntN(bits, BigInt(divisor)) : BigInt(divisor);
        const range = 1n << BigInt(bits - (signed ? 1 : 0));
        let q = BigInt(b.rng.u32()) % range;
        if (signed && b.rng.bool()) q = -q;
        const absD = d < 0n ? -d : d;
        let r = absD > 1n ? BigInt(b.rng.u32()) % absD : 0n;
        const dividend0 = q * d;
        if (signed && dividend0 < 0n) r = -r;
        const dividend = BigInt.asUintN(bits * 2, dividend0 + r);
        high = dividend >> BigInt(bits);
        low = dividend & ((1n << BigInt(bits)) - 1n);
      } else {
        high = BigInt(boundaryValue(b.rng) & sizeMask(s));
        low = BigInt(boundaryValue(b.rng) & sizeMask(s));
      }
      if (s === 1) b.fixPart(EAX, 2, Number((high << 8n) | low));
      else { b.fixPart(EAX, s, Number(low)); b.fixPart(EDX, s, Number(high)); }
      b.op(opc);
      const rm = b.modrm(sub, s, { writes: false });
      if (rm.mem) b.patch(rm.address, s, divisor);
      else if (rm.reg !== EAX && rm.reg !== EDX && !(s === 1 && (rm.reg === 4))) {
        const r = s === 1 ? rm.reg & 3 : rm.reg;
        const shift = s === 1 && rm.reg >= 4 ? 8 : 0;
        if (!b.isFixed(r)) b.regs[r] = ((b.regs[r] as number) & ~(sizeMask(s) << shift)) | (divisor << shift);
      }
      b.flags(0, 0, STATUS);
    }, { weight: 2 });
  }
}
// TEST AL,Ib (A8) and TEST eAX,Iz (A9): AF is undefined, as for the other TEST forms.
form('A8', 'TEST AL,Ib', (b) => { b.op(0xa8); b.imm(1, boundaryValue(b.rng)); b.flags(0, STATUS, AF); }, { sequence: true });
form('A9', 'TEST eAX,Iz', (b) => { const s = b.osize(); b.op(0xa9); b.imm(s, boundaryValue(b.rng)); b.flags(0, STATUS, AF); }, { sequence: true });

// ---------------------------------------------------------------- IMUL 2/3 operands
form('0F AF', 'IMUL Gv,Ev', (b) => { const s = b.osize(); rmForm(b, [0x0f, 0xaf], s, false, true); b.flags(0, STATUS, SF | ZF | AF | PF); }, { sequence: true });
form('69', 'IMUL Gv,Ev,Iz', (b) => { const s = b.osize(); rmForm(b, [0x69], s, false, true); b.imm(s, boundaryValue(b.rng)); b.flags(0, STATUS, SF | ZF | AF | PF); }, { sequence: true });
form('6B', 'IMUL Gv,Ev,Ib', (b) => { const s = b.osize(); rmForm(b, [0x6b], s, false, true); b.imm(1, boundaryValue(b.rng)); b.flags(0, STATUS, SF | ZF | AF | PF); }, { sequence: true });

// ---------------------------------------------------------------- shifts and rotates
const SHIFT = ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAL', 'SAR'];
const COUNTS = [0, 1, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 255];
function shiftFlags(b: CaseBuilder, kind: number, size: number, count: number | null): void {
  if (count === null) {
    // CL in a sequence: the count is only known at run time, so assume the worst.
    b.flags(STATUS, 0, STATUS);
    return;
  }
  const c = count & 31;
  if (c === 0) return;
  if (kind < 4) {
    b.flags(kind >= 2 ? CF : 0, CF | OF, c === 1 ? 0 : OF);
    return;
  }
  const cfUndefined = kind !== 7 && c >= size * 8 ? CF : 0;
  b.flags(0, STATUS, AF | (c === 1 ? 0 : OF) | cfUndefined);
}
for (let kind = 0; kind < 8; kind++) {
  const name = SHIFT[kind] as string;
  for (const [opc, size, countKind] of [[0xc0, 1, 'imm'], [0xc1, 0, 'imm'], [0xd0, 1, 'one'], [0xd1, 0, 'one'], [0xd2, 1, 'cl'], [0xd3, 0, 'cl']] as const) {
    form(`${hex(opc)}/${kind}`, `${name} ${size === 1 ? 'Eb' : 'Ev'},${countKind === 'imm' ? 'Ib' : countKind === 'one' ? '1' : 'CL'}`, (b) => {
      const s = size === 1 ? 1 : b.osize();
      let count: number | null = countKind === 'one' ? 1 : b.rng.bool(0.8) ? b.rng.pick(COUNTS) : b.rng.below(256);
      if (countKind === 'cl') {
        if (b.sequence) count = null;
        else b.fixPart(ECX, 1, count as number);
      }
      b.op(opc);
      const rm = b.modrm(kind, s, { writes: true });
      seedMemory(b, rm, s);
      if (countKind === 'cl' && !rm.mem && count !== null && (rm.reg === ECX || rm.reg === ECX + 4 && s === 1)) {
        // The operand is CL/CX/ECX itself (or CH): the count is whatever that register holds.
        count = b.regs[ECX] as number & 0xff;
      }
      if (countKind === 'imm') b.imm(1, count as number);
      shiftFlags(b, kind, s, count);
    }, { sequence: true, weight: kind === 6 ? 0.3 : 0.6 });
  }
}
for (const [opc, name, left, cl] of [[0xa4, 'SHLD', true, false], [0xa5, 'SHLD', true, true], [0xac, 'SHRD', false, false], [0xad, 'SHRD', false, true]] as const) {
  void left;
  form(`0F ${hex(opc)}`, `${name} Ev,Gv,${cl ? 'CL' : 'Ib'}`, (b) => {
    const s = b.sequence ? 4 : b.osize();
    // Counts above 16 on a 16-bit operand give an undefined result: not generated (docs/quirks.md).
    let count: number | null = b.rng.pick(COUNTS.filter((c) => s === 4 || (c & 31) <= 16));
    if (cl) {
      if (b.sequence) count = null;
      else b.fixPart(ECX, 1, count);
    }
    const reg = b.anyReg();
    b.op(0x0f, opc);
    const rm = b.modrm(reg, s, { writes: true });
    seedMemory(b, rm, s);
    if (!cl) b.imm(1, count ?? 0);
    if (count === null) { b.flags(STATUS, 0, STATUS); return; }
    const c = count & 31;
    if (c !== 0) b.flags(0, STATUS, AF | (c === 1 ? 0 : OF));
  }, { sequence: true });
}

// ---------------------------------------------------------------- MOV, LEA, XCHG, MOVZX/MOVSX, CBW, CWD
form('88', 'MOV Eb,Gb', (b) => { rmForm(b, [0x88], 1, true, false); }, { sequence: true });
form('89', 'MOV Ev,Gv', (b) => { const s = b.osize(); rmForm(b, [0x89], s, true, false); }, { sequence: true });
form('8A', 'MOV Gb,Eb', (b) => { rmForm(b, [0x8a], 1, false, true); }, { sequence: true });
form('8B', 'MOV Gv,Ev', (b) => { const s = b.osize(); rmForm(b, [0x8b], s, false, true); }, { sequence: true });
form('C6/0', 'MOV Eb,Ib', (b) => { b.op(0xc6); b.modrm(0, 1, { writes: true }); b.imm(1, boundaryValue(b.rng)); }, { sequence: true });
form('C7/0', 'MOV Ev,Iz', (b) => { const s = b.osize(); b.op(0xc7); b.modrm(0, s, { writes: true }); b.imm(s, boundaryValue(b.rng)); }, { sequence: true });
for (let r = 0; r < 8; r++) {
  form(hex(0xb0 + r), 'MOV r8,Ib', (b) => { b.op(0xb0 + r); b.imm(1, boundaryValue(b.rng)); }, { sequence: true, weight: 0.2 });
  form(hex(0xb8 + r), 'MOV r,Iv', (b) => {
    if (b.sequence && (r === ESP || r === ESI || r === EDI)) { b.rejected = true; return; }
    const s = b.osize(); b.op(0xb8 + r); b.imm(s, boundaryValue(b.rng));
  }, { sequence: true, weight: 0.2 });
}
for (const [opc, name] of [[0xa0, 'MOV AL,Ob'], [0xa1, 'MOV eAX,Ov'], [0xa2, 'MOV Ob,AL'], [0xa3, 'MOV Ov,eAX']] as const) {
  form(hex(opc), name, (b) => {
    const s = opc & 1 ? (b.sequence ? 4 : b.osize()) : 1;
    const addr = b.rng.range(REGION_START, REGION_END - s);
    const a16 = !b.sequence && b.rng.bool(0.25);
    if (a16) b.prefix(0x67);
    maybeSegment(b);
    b.op(opc);
    b.imm(a16 ? 2 : 4, addr);
    if (opc < 0xa2 && b.rng.bool(0.6)) b.patch(addr, s, boundaryValue(b.rng));
  }, { sequence: true });
}
form('8D', 'LEA Gv,M', (b) => {
  if (!b.sequence) b.osize();
  const reg = b.destReg();
  b.op(0x8d);
  b.memory(reg, { size: 1, anyAddress: true });
}, { sequence: true, weight: 3 });
form('86', 'XCHG Eb,Gb', (b) => { rmForm(b, [0x86], 1, true, true); }, { sequence: true });
form('87', 'XCHG Ev,Gv', (b) => {
  const s = b.osize();
  if (b.sequence) {
    // Both operands are written: keep them off the pointer registers.
    const reg = b.destReg();
    b.op(0x87);
    const rm = b.modrm(reg, s, { writes: true });
    seedMemory(b, rm, s);
    return;
  }
  rmForm(b, [0x87], s, true, true);
}, { sequence: true });
for (let r = 0; r < 8; r++) {
  form(hex(0x90 + r), r === 0 ? 'NOP' : 'XCHG eAX,r', (b) => {
    if (b.sequence && (r === ESP || r === ESI || r === EDI)) { b.rejected = true; return; }
    if (r !== 0) b.osize();
    b.op(0x90 + r);
  }, { sequence: true, weight: 0.2 });
}
form('F3 90', 'PAUSE', (b) => { b.op(0xf3, 0x90); }, { weight: 0.1 });
form('0F 1F', 'NOP Ev', (b) => { const s = b.osize(); b.op(0x0f, 0x1f); b.modrm(0, s, { anyAddress: true }); }, { weight: 0.3 });
for (const [opc, name, srcSize] of [[0xb6, 'MOVZX Gv,Eb', 1], [0xb7, 'MOVZX Gv,Ew', 2], [0xbe, 'MOVSX Gv,Eb', 1], [0xbf, 'MOVSX Gv,Ew', 2]] as const) {
  form(`0F ${hex(opc)}`, name, (b) => {
    if (!b.sequence) b.osize();
    const reg = b.destReg();
    b.op(0x0f, opc);
    const rm = b.modrm(reg, srcSize);
    seedMemory(b, rm, srcSize);
  }, { sequence: true });
}
form('98', 'CBW/CWDE', (b) => { b.osize(); b.op(0x98); }, { sequence: true, weight: 0.5 });
form('99', 'CWD/CDQ', (b) => { b.osize(); b.op(0x99); }, { sequence: true, weight: 0.5 });

// ---------------------------------------------------------------- flags instructions
form('F5', 'CMC', (b) => { b.op(0xf5); b.flags(CF, CF); }, { sequence: true, weight: 0.3 });
form('F8', 'CLC', (b) => { b.op(0xf8); b.flags(0, CF); }, { sequence: true, weight: 0.3 });
form('F9', 'STC', (b) => { b.op(0xf9); b.flags(0, CF); }, { sequence: true, weight: 0.3 });
form('FC', 'CLD', (b) => { b.op(0xfc); b.flags(0, DF); }, { sequence: true, weight: 0.3 });
form('FD', 'STD', (b) => { b.op(0xfd); b.flags(0, DF); }, { sequence: true, weight: 0.3 });
form('9E', 'SAHF', (b) => { b.op(0x9e); b.flags(0, SF | ZF | AF | PF | CF); }, { sequence: true, weight: 0.5 });
form('9F', 'LAHF', (b) => { b.op(0x9f); b.flags(SF | ZF | AF | PF | CF, 0); }, { sequence: true, weight: 0.5 });
form('D6', 'SALC (undocumented)', (b) => { b.op(0xd6); b.flags(CF, 0); }, { sequence: true, weight: 0.3 });

// ---------------------------------------------------------------- BCD
form('27', 'DAA', (b) => { b.op(0x27); b.flags(AF | CF, STATUS, OF); }, { sequence: true });
form('2F', 'DAS', (b) => { b.op(0x2f); b.flags(AF | CF, STATUS, OF); }, { sequence: true });
form('37', 'AAA', (b) => { b.op(0x37); b.flags(AF, STATUS, OF | SF | ZF | PF); }, { sequence: true });
form('3F', 'AAS', (b) => { b.op(0x3f); b.flags(AF, STATUS, OF | SF | ZF | PF); }, { sequence: true });
form('D4', 'AAM Ib', (b) => {
  const base = b.rng.bool(0.6) ? 10 : b.rng.bool(0.15) && !b.sequence ? 0 : b.rng.range(1, 255);
  b.op(0xd4, base); b.flags(0, STATUS, OF | AF | CF);
}, { sequence: true });
form('D5', 'AAD Ib', (b) => { b.op(0xd5, b.rng.bool(0.6) ? 10 : b.rng.below(256)); b.flags(0, STATUS, OF | AF | CF); }, { sequence: true });

// ---------------------------------------------------------------- conditions: Jcc SETcc CMOVcc
/** A 1-byte INC of a writable register: the code a conditional jump skips. */
function filler(b: CaseBuilder): number {
  return 0x40 + b.rng.pick([EAX, ECX, EDX, EBX, EBP]);
}
for (let cc = 0; cc < 16; cc++) {
  form(hex(0x70 + cc), 'Jcc rel8', (b) => {
    const skip = b.rng.pick([0, 1, 2]);
    b.op(0x70 + cc, skip);
    for (let i = 0; i < skip; i++) b.op(filler(b));
    b.flags(CONDITION_FLAGS[cc] as number, 0);
  }, { sequence: true, weight: 0.4 });
  form(`0F ${hex(0x80 + cc)}`, 'Jcc rel32', (b) => {
    const skip = b.rng.pick([0, 1, 2]);
    b.op(0x0f, 0x80 + cc);
    b.imm(4, skip);
    for (let i = 0; i < skip; i++) b.op(filler(b));
    b.flags(CONDITION_FLAGS[cc] as number, 0);
  }, { sequence: true, weight: 0.4 });
  form(`0F ${hex(0x90 + cc)}`, 'SETcc Eb', (b) => {
    b.op(0x0f, 0x90 + cc);
    // The reg field is ignored by the CPU; vary it.
    b.modrm(b.rng.bool(0.8) ? 0 : b.rng.below(8), 1, { writes: true });
    b.flags(CONDITION_FLAGS[cc] as number, 0);
  }, { sequence: true, weight: 0.4 });
  form(`0F ${hex(0x40 + cc)}`, 'CMOVcc Gv,Ev', (b) => {
    const s = b.sequence ? 4 : b.osize();
    rmForm(b, [0x0f, 0x40 + cc], s, false, true);
    b.flags(CONDITION_FLAGS[cc] as number, 0);
  }, { sequence: true, weight: 0.4 });
}

// ---------------------------------------------------------------- bit instructions
const BT = [[0xa3, 'BT', false], [0xab, 'BTS', true], [0xb3, 'BTR', true], [0xbb, 'BTC', true]] as const;
BT.forEach(([opc, name, writes], sub) => {
  form(`0F ${hex(opc)}`, `${name} Ev,Gv`, (b) => {
    const s = b.osize();
    const reg = b.anyReg();
    if (b.rng.bool(0.5) || b.sequence) {
      b.op(0x0f, opc);
      b.op(0xc0 | (reg << 3) | (writes ? b.destReg(s) : b.anyReg()));
    } else {
      // Memory form: the bit offset in the register is signed and may reach outside the operand.
      if (reg === ESP) { b.rejected = true; return; }
      const bits = s * 8;
      const offset = b.rng.range(-0x100 * 8, 0x100 * 8);
      b.fixPart(reg, s, offset);
      b.op(0x0f, opc);
      const step = Math.floor(offset / bits) * s;
      const lo = Math.max(REGION_START, REGION_START - step);
      const hi = Math.min(REGION_END - s, REGION_END - s - step);
      const address = b.memory(reg, { size: s, lo, hi });
      if (b.rng.bool(0.5)) b.patch(address + step, s, boundaryValue(b.rng));
      maybeLock(b, writes, { mem: true, reg: -1, address });
    }
    b.flags(0, CF, OF | SF | AF | PF);
  }, { sequence: true });
  form(`0F BA/${sub + 4}`, `${name} Ev,Ib`, (b) => {
    const s = b.osize();
    b.op(0x0f, 0xba);
    const rm = b.modrm(sub + 4, s, { writes });
    seedMemory(b, rm, s);
    maybeLock(b, writes, rm);
    b.imm(1, b.rng.below(256));
    b.flags(0, CF, OF | SF | AF | PF);
  }, { sequence: true });
});
for (const [opc, name] of [[0xbc, 'BSF'], [0xbd, 'BSR']] as const) {
  form(`0F ${hex(opc)}`, `${name} Gv,Ev`, (b) => {
    const s = b.osize();
    const reg = b.destReg();
    const zero = b.rng.bool(0.2);
    b.op(0x0f, opc);
    const rm = b.modrm(reg, s);
    if (rm.mem) b.patch(rm.address, s, zero ? 0 : boundaryValue(b.rng) || 1);
    const source = rm.mem ? null : (b.regs[rm.reg] as number) & sizeMask(s);
    if (zero || source === 0) b.undefinedRegs |= 1 << reg; // destination undefined when the source is 0
    b.flags(0, ZF, CF | OF | SF | AF | PF);
  });
}
form('0F C8+r', 'BSWAP r32', (b) => {
  const r = b.destReg();
  b.op(0x0f, 0xc8 + r);
}, { sequence: true, weight: 1 });

// ---------------------------------------------------------------- XADD CMPXCHG CMPXCHG8B
form('0F C0', 'XADD Eb,Gb', (b) => { rmForm(b, [0x0f, 0xc0], 1, true, true, true); b.flags(0, STATUS); }, { sequence: true });
form('0F C1', 'XADD Ev,Gv', (b) => {
  const s = b.osize();
  const reg = b.destReg(s);
  b.op(0x0f, 0xc1);
  const rm = b.modrm(reg, s, { writes: true });
  seedMemory(b, rm, s);
  maybeLock(b, true, rm);
  b.flags(0, STATUS);
}, { sequence: true });
for (const [opc, size] of [[0xb0, 1], [0xb1, 0]] as const) {
  form(`0F ${hex(opc)}`, `CMPXCHG ${size === 1 ? 'Eb,Gb' : 'Ev,Gv'}`, (b) => {
    const s = size === 1 ? 1 : b.osize();
    const equal = !b.sequence && b.rng.bool(0.5);
    const value = boundaryValue(b.rng) & sizeMask(s);
    if (equal) b.fixPart(EAX, s, value);
    const reg = b.anyReg();
    b.op(0x0f, opc);
    const rm = b.modrm(reg, s, { writes: true });
    if (rm.mem) b.patch(rm.address, s, equal ? value : boundaryValue(b.rng));
    else if (equal && (s !== 1 ? rm.reg !== EAX : rm.reg !== 0) && !b.isFixed(s === 1 ? rm.reg & 3 : rm.reg)) {
      const r = s === 1 ? rm.reg & 3 : rm.reg;
      const shift = s === 1 && rm.reg >= 4 ? 8 : 0;
      b.regs[r] = (((b.regs[r] as number) & ~(sizeMask(s) << shift)) | (value << shift)) >>> 0;
    }
    maybeLock(b, true, rm);
    b.flags(0, STATUS);
  }, { sequence: true });
}
form('0F C7/1', 'CMPXCHG8B Mq', (b) => {
  const equal = b.rng.bool(0.5);
  const lo = boundaryValue(b.rng), hi = boundaryValue(b.rng);
  if (equal) { b.fix(EAX, lo); b.fix(EDX, hi); }
  b.op(0x0f, 0xc7);
  const address = b.memory(1, { size: 8 });
  b.patch(address, 4, equal ? lo : boundaryValue(b.rng));
  b.patch(address + 4, 4, equal ? hi : boundaryValue(b.rng));
  maybeLock(b, true, { mem: true, reg: -1, address });
  b.flags(0, ZF);
}, { weight: 2 });

// ---------------------------------------------------------------- stack
for (let r = 0; r < 8; r++) {
  form(hex(0x50 + r), 'PUSH r', (b) => { if (!b.sequence) b.osize(); b.op(0x50 + r); }, { sequence: true, weight: 0.3 });
  form(hex(0x58 + r), 'POP r', (b) => {
    if (b.sequence && (r === ESP || r === ESI || r === EDI)) { b.rejected = true; return; }
    const s = b.sequence ? 4 : b.osize();
    if (!b.sequence && b.rng.bool(0.5)) b.patch(b.regs[ESP] as number, s, boundaryValue(b.rng));
    b.op(0x58 + r);
  }, { sequence: true, weight: 0.3 });
}
form('68', 'PUSH Iz', (b) => { const s = b.sequence ? 4 : b.osize(); b.op(0x68); b.imm(s, boundaryValue(b.rng)); }, { sequence: true });
form('6A', 'PUSH Ib', (b) => { if (!b.sequence) b.osize(); b.op(0x6a); b.imm(1, boundaryValue(b.rng)); }, { sequence: true });
form('FF/6', 'PUSH Ev', (b) => { const s = b.sequence ? 4 : b.osize(); b.op(0xff); const rm = b.modrm(6, s); seedMemory(b, rm, s); }, { sequence: true });
form('8F/0', 'POP Ev', (b) => {
  const s = b.osize();
  b.patch(b.regs[ESP] as number, s, boundaryValue(b.rng));
  b.op(0x8f);
  // With ESP as base the address is computed after the pop: keep room for that.
  b.modrm(0, s, { writes: true, lo: REGION_START, hi: REGION_END - 8 });
});
form('60', 'PUSHA', (b) => { b.osize(); b.op(0x60); });
form('61', 'POPA', (b) => {
  const s = b.osize();
  for (let i = 0; i < 8; i += 2) b.patch((b.regs[ESP] as number) + i * s, s * 2 > 12 ? 4 : s * 2, boundaryValue(b.rng));
  b.op(0x61);
});
form('9C', 'PUSHF', (b) => { if (!b.sequence) b.osize(); b.op(0x9c); b.flags(STATUS | DF, 0); }, { sequence: true });
form('9D', 'POPF', (b) => {
  const s = b.osize();
  b.patch(b.regs[ESP] as number, s, b.rng.u32() & POPF_SOURCE_MASK);
  b.op(0x9d);
}, { weight: 2 });
form('C8', 'ENTER Iw,Ib', (b) => {
  const s = b.osize();
  b.fix(EBP, STACK_START + 0x300 + b.rng.below(0xa00));
  const level = b.rng.bool(0.5) ? 0 : b.rng.bool(0.7) ? b.rng.range(1, 4) : b.rng.range(5, 31);
  b.op(0xc8); b.imm(2, b.rng.bool(0.5) ? b.rng.below(0x40) : b.rng.below(0x200)); b.imm(1, b.rng.bool(0.9) ? level : 32 + level);
  void s;
});
form('C9', 'LEAVE', (b) => {
  b.osize();
  b.fix(EBP, STACK_START + 0x100 + b.rng.below(0xe00));
  b.patch(b.regs[EBP] as number, 4, boundaryValue(b.rng));
  b.op(0xc9);
});

// ---------------------------------------------------------------- control transfer (snippet end)
form('EB', 'JMP rel8', (b) => { const k = b.rng.pick([0, 1, 2]); b.op(0xeb, k); for (let i = 0; i < k; i++) b.op(filler(b)); }, { sequence: true, weight: 0.3 });
form('E9', 'JMP rel32', (b) => { const k = b.rng.pick([0, 1, 2]); b.op(0xe9); b.imm(4, k); for (let i = 0; i < k; i++) b.op(filler(b)); }, { sequence: true, weight: 0.3 });
form('E8', 'CALL rel32', (b) => { const k = b.rng.pick([0, 1, 2]); b.op(0xe8); b.imm(4, k); for (let i = 0; i < k; i++) b.op(filler(b)); }, { sequence: true, weight: 0.5 });
form('FF/2', 'CALL Ev', (b) => {
  if (b.rng.bool(0.5)) { const r = b.rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]); b.fixEndAddress(r); b.op(0xff, 0xd0 | r); return; }
  b.op(0xff);
  const address = b.memory(2, { size: 4, mem16ok: false });
  b.patchEndAddress(address);
});
form('FF/4', 'JMP Ev', (b) => {
  if (b.rng.bool(0.5)) { const r = b.rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]); b.fixEndAddress(r); b.op(0xff, 0xe0 | r); return; }
  b.op(0xff);
  const address = b.memory(4, { size: 4, mem16ok: false });
  b.patchEndAddress(address);
});
form('C3', 'RET', (b) => { b.patchEndAddress(b.regs[ESP] as number); b.op(0xc3); });
form('C2', 'RET Iw', (b) => { b.patchEndAddress(b.regs[ESP] as number); b.op(0xc2); b.imm(2, b.rng.pick([0, 2, 4, 8, b.rng.below(0x100)])); });
for (const [opc, name] of [[0xe0, 'LOOPNE'], [0xe1, 'LOOPE'], [0xe2, 'LOOP'], [0xe3, 'JECXZ']] as const) {
  form(hex(opc), `${name} rel8`, (b) => {
    const a16 = b.rng.bool(0.25);
    if (a16) b.prefix(0x67);
    b.fix(ECX, b.rng.pick([0, 1, 2, 0x10000, 0x10001, 0xffff, 0xffffffff, boundaryValue(b.rng)]));
    const k = b.rng.pick([0, 1]);
    b.op(opc, k);
    for (let i = 0; i < k; i++) b.op(filler(b));
    b.flags(opc < 0xe2 ? ZF : 0, 0);
  });
}

// ---------------------------------------------------------------- string instructions
const STRING = [
  [0xa4, 'MOVS', true, true, false], [0xa6, 'CMPS', true, true, true], [0xaa, 'STOS', false, true, false],
  [0xac, 'LODS', true, false, false], [0xae, 'SCAS', false, true, true],
] as const;
for (const [opc0, name, usesSource, usesDest, compares] of STRING) {
  for (const wide of [false, true]) {
    const opc = opc0 + (wide ? 1 : 0);
    form(hex(opc), `${name}${wide ? 'D/W' : 'B'}`, (b) => {
      const rng = b.rng;
      const s = wide ? b.osize() : 1;
      const a16 = rng.bool(0.2);
      if (a16) b.prefix(0x67);
      const rep = rng.bool(0.75) ? (compares ? rng.pick([0xf3, 0xf2]) : 0xf3) : 0;
      if (rep) b.prefix(rep);
      const count = rep ? rng.pick([0, 1, 2, 3, 4, 5, 8, 13]) : 1;
      const down = rng.bool(0.4);
      b.eflags = down ? b.eflags | DF : b.eflags & ~DF;
      const span = Math.max(count, 1) * s;
      const place = (): number => {
        const start = down ? rng.range(REGION_START + span, REGION_END - s) : rng.range(REGION_START, REGION_END - span);
        return rng.bool(0.5) ? start & ~(s - 1) : start;
      };
      const keepUpper = (r: number, v: number): number => (a16 ? (((b.regs[r] as number) & 0xffff0000) | v) >>> 0 : v);
      if (rep) b.fix(ECX, a16 ? (((b.regs[ECX] as number) & 0xffff0000) | count) >>> 0 : count);
      const src = place();
      const dst = place();
      if (usesSource) b.fix(ESI, keepUpper(ESI, src)); else if (rng.bool(0.5)) b.fix(ESI, keepUpper(ESI, src));
      if (usesDest) b.fix(EDI, keepUpper(EDI, dst));
      if (usesSource && rng.bool(0.1)) b.prefix(rng.pick([0x26, 0x36, 0x3e]));
      if (compares && rng.bool(0.6)) {
        // Mostly equal data so REPE runs on and REPNE stops: fill both sides alike, one difference maybe.
        const fillByte = rng.pick([0, 0xff, 0x80, rng.below(256)]);
        const lowest = (a: number): number => (down ? a - span + s : a);
        const bytes = Math.min(span, 12);
        const values = new Array<number>(bytes).fill(fillByte);
        if (rng.bool(0.5)) values[rng.below(bytes)] = rng.below(256);
        if (usesSource) b.patchBytes(lowest(src), values.slice());
        b.patchBytes(lowest(dst), new Array<number>(bytes).fill(fillByte));
        if (!usesSource) b.fixPart(EAX, s, fillByte * 0x01010101);
      }
      b.op(opc);
      b.flags(DF, compares ? STATUS : 0);
    }, { weight: 1.5 });
  }
}
form('D7', 'XLAT', (b) => {
  const a16 = b.rng.bool(0.25);
  if (a16) b.prefix(0x67);
  const table = b.rng.range(REGION_START, REGION_END - 256);
  b.fix(EBX, a16 ? (((b.regs[EBX] as number) & 0xffff0000) | table) >>> 0 : table);
  maybeSegment(b);
  b.op(0xd7);
});

// ---------------------------------------------------------------- misc: BOUND ARPL
form('62', 'BOUND Gv,Ma', (b) => {
  const s = b.osize();
  const reg = b.anyReg();
  if (reg === ESP) { b.rejected = true; return; }
  const lower = boundaryValue(b.rng), upper = boundaryValue(b.rng);
  b.op(0x62);
  const address = b.memory(reg, { size: 2 * s, mem16ok: true });
  b.patch(address, s, lower);
  b.patch(address + s, s, upper);
});
form('63', 'ARPL Ew,Gw', (b) => { rmForm(b, [0x63], 2, true, false); b.flags(0, ZF); });

// ---------------------------------------------------------------- exceptions: INT, #UD and #GP at CPL 3
form('CC', 'INT3', (b) => { b.op(0xcc); });
form('CE', 'INTO', (b) => { b.op(0xce); b.flags(OF, 0); });
form('F1', 'INT1 (ICEBP)', (b) => { b.op(0xf1); }, { weight: 0.3 });
form('CD', 'INT Ib', (b) => {
  let n = b.rng.below(256);
  if (n === 3 || n === 4 || n === 0x80) n = 0x21; // vectors whose gate is DPL 3 under Linux
  b.op(0xcd, n);
});
const UD: number[][] = [[0x0f, 0x0b], [0x0f, 0xb9, 0xc0], [0x0f, 0xff, 0xc0], [0xfe, 0xd0], [0xfe, 0xf8], [0xff, 0xf8], [0x8d, 0xc0], [0xf0, 0x40], [0xf0, 0x90], [0xf0, 0x89, 0xc0], [0x0f, 0xa6], [0x0f, 0xa7], [0x0f, 0x04], [0x0f, 0x0a]];
form('#UD', 'undefined opcodes', (b) => { b.op(...b.rng.pick(UD)); });
const GP: number[][] = [
  [0xf4], [0xfa], [0xfb], [0xe4, 0x60], [0xe5, 0x70], [0xe6, 0x80], [0xe7, 0x40], [0xec], [0xed], [0xee], [0xef], [0x6c], [0x6d], [0x6e], [0x6f],
  [0x0f, 0x06], [0x0f, 0x08], [0x0f, 0x09], [0x0f, 0x20, 0xc0], [0x0f, 0x22, 0xd8], [0x0f, 0x21, 0xc0], [0x0f, 0x23, 0xc0], [0x0f, 0x30], [0x0f, 0x32],
  [0x0f, 0x00, 0xd0], [0x0f, 0x00, 0xd8], [0x0f, 0x01, 0xf0],
];
form('#GP', 'privileged at CPL 3', (b) => { b.op(...b.rng.pick(GP)); });

export const FORMS: readonly Form[] = forms;
export const SEQUENCE_FORMS: readonly Form[] = forms.filter((f) => f.sequence);
void EDI; void ESI; void DATA_START; void PF;
