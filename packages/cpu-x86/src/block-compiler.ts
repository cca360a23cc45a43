/**
 * Compiles hot basic blocks into JavaScript functions: straight-line code that calls each
 * instruction's handler directly, with the block's EIP arithmetic, retired count and exit checks
 * folded into constants. The block loop (interpreter.ts) pays, per instruction, two typed-array
 * loads and an indirect call through the handler table that mispredicts on varied code; a compiled
 * block has direct calls that V8 can inline, and checks for a taken branch or a chunk break only
 * after the instructions that can cause one.
 *
 * Only blocks that ran HOT_RUNS times (by default) are compiled, because V8's parse and compile cost (tens of
 * microseconds per block) only pays back on code that loops: compiling every block on first use
 * was measured to slow the Linux boot down. A compiled block is valid exactly as long as its block
 * entry (buildBlock resets it), so self-modifying code and page remaps need nothing more.
 *
 * The generated text is built only from numbers and fixed identifiers (never guest data). Where code
 * generation is forbidden (a Content Security Policy without 'unsafe-eval'), compiling turns itself
 * off and blocks keep running in the block loop.
 */
import type { CpuCore } from './core.js';
import { HANDLERS } from './decoder/decode.js';
import { ALU_EVGV_R32, ALU_GRP1_R32, ALU_GVEV_R32 } from './exec/alu.js';
import { CpuStat } from './stats.js';

/** A compiled block: runs the whole block (or up to its first exit) and returns the instructions retired. */
export type CompiledBlock = (c: CpuCore) => number;

/** Block runs before a block is compiled, by default (CpuOptions.compileThreshold). */
export const HOT_RUNS = 16384;

/** Handlers that never move EIP off the fall-through (they complete or throw a fault). */
const KEEPS_EIP = new Uint8Array(HANDLERS.length).fill(1);
/** Handlers that never set chunkBreak when their ModRM is a register form (no memory, no system state). */
const REGISTER_PURE = new Uint8Array(HANDLERS.length);
/** Handlers that never set chunkBreak at all (no memory operand, no system state). */
const PURE = new Uint8Array(HANDLERS.length);
{
  const byName = (names: string): number[] => names.split(/\s+/).filter((n) => n !== '').map((name) => {
    const i = HANDLERS.findIndex((h) => h.name === name);
    if (i < 0) throw new Error(`block-compiler: no handler named ${name}`);
    return i;
  });
  for (const i of byName(`undefinedOpcode tooLong jo jno jb jae je jne jbe ja js jns jp jnp jl jge jle jg loop
      callRel jmpRel retNear retFar callEv jmpEv callFarAp callFarEv jmpFarAp jmpFarEv int3 intN into int1 iretOp
      hlt sysenter sysexit movs cmps stos lods scas ins outs`)) KEEPS_EIP[i] = 0;
  for (const i of byName(`incReg decReg movRegIb movRegIz xchgAx lea nop cbw cwd sahf lahf testALIb testAXIz
      aluALIb aluAXIz clc stc cld std cmc bswap salc`)) PURE[i] = 1;
  // The specialised 32-bit register-form ALU handlers (decode.ts) touch registers and flags only.
  for (const h of [...ALU_EVGV_R32, ...ALU_GVEV_R32, ...ALU_GRP1_R32]) PURE[HANDLERS.indexOf(h)] = 1;
  for (const i of byName(`aluEbGb aluEvGv aluGbEb aluGvEv grp1Eb grp1Ev testEbGb testEvGv xchgEbGb xchgEvGv movEbGb
      movEvGv movGbEb movGvEv grp2Eb grp2Ev setcc cmovcc imulGvEvI imulGvEv btEvGv btEvIb shxd movzxb movzxw movsxb
      movsxw bsf bsr testEbIb notEb negEb mulEb imulEb divEb idivEb testEvIz notEv negEv mulEv imulEv divEv idivEv
      incEb decEb incEv decEv movEbIb movEvIz`)) REGISTER_PURE[i] = 1;
}

let codegenAvailable = true;

/**
 * Compiles the block of `count` decoded instructions starting at pool slot `start`, for code whose
 * EIP wraps with `ipMask`. Returns null when code generation is not available.
 */
export function compileBlock(c: CpuCore, start: number, count: number, ipMask: number): CompiledBlock | null {
  if (!codegenAvailable) return null;
  const wrap = (offset: number): string => ipMask === -1 ? `(e + ${offset}) | 0` : `(e + ${offset}) & ${ipMask}`;
  const used: number[] = [];
  const local = new Map<number, string>();
  const lines: string[] = ['const e = c.eip, r = c.retired;'];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const d = start + i;
    const h = c.dH[d];
    let name = local.get(h);
    if (name === undefined) {
      name = `h${used.length}`;
      local.set(h, name);
      used.push(h);
    }
    offset += c.dLen[d];
    if (i > 0) lines.push(`c.curEip = ${wrap(offset - c.dLen[d])};`);
    lines.push(`c.eip = ${wrap(offset)}; ${name}(c, ${d}); c.retired = r + ${i + 1};`);
    if (i === count - 1) break;
    if (KEEPS_EIP[h] === 0) lines.push(`if (c.eip !== (${wrap(offset)})) return ${i + 1};`);
    const pure = PURE[h] !== 0 || (REGISTER_PURE[h] !== 0 && c.dRm[d] >= 0xc0);
    if (!pure) lines.push(`if (c.chunkBreak) return ${i + 1};`);
  }
  lines.push(`return ${count};`);
  const params = used.map((_, i) => `h${i}`);
  try {
    // Generated from numbers only (see above).
    const factory = new Function(...params, `'use strict'; return function block(c) {\n${lines.join('\n')}\n};`) as
      (...handlers: unknown[]) => CompiledBlock;
    c.stats[CpuStat.BlocksCompiled]++;
    return factory(...used.map((h) => HANDLERS[h]));
  } catch {
    codegenAvailable = false;
    return null;
  }
}
