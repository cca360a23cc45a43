/**
 * x87 micro-benchmark: millions of instructions per second of single x87 instructions executed
 * through `Fpu.execute` with a flat fake host (no decoder, no MMU). Node-only.
 *
 * Run from the repo root:
 *   npx esbuild packages/cpu-x86/scripts/bench-fpu.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/bench-fpu.mjs && node /tmp/bench-fpu.mjs [filter]
 *
 * Arithmetic cases reload ST(0) (and ST(1)) through the register file before every instruction so
 * each iteration does the same work on the same operands; that reload is a few typed-array stores.
 */
import { Fpu } from '../src/fpu/fpu.js';
import type { FpuHost } from '../src/fpu/fpu-host.js';

/** Flat 64 KiB memory; never faults. */
class BenchHost implements FpuHost {
  readonly mem = new Uint8Array(0x10000);
  private readonly view = new DataView(this.mem.buffer);
  readonly cr0 = 0x21;
  read8(a: number): number {
    return this.mem[a]!;
  }
  read16(a: number): number {
    return this.view.getUint16(a, true);
  }
  read32(a: number): number {
    return this.view.getUint32(a, true);
  }
  write8(a: number, v: number): void {
    this.mem[a] = v;
  }
  write16(a: number, v: number): void {
    this.view.setUint16(a, v, true);
  }
  write32(a: number, v: number): void {
    this.view.setUint32(a, v >>> 0, true);
  }
  raise(vector: number): never {
    throw new Error(`unexpected CPU exception ${vector} in the benchmark`);
  }
  putF64(a: number, x: number): void {
    this.view.setFloat64(a, x, true);
  }
}

const CW_AT = 0x100;
const MEM_AT = 0x200;

/** An extended value: sign|exponent and significand halves. */
type Ext = readonly [sx: number, hi: number, lo: number];

/** Full 64-bit significands (results of earlier extended-precision work). */
const X_EXT: Ext = [0x3fff + 3, 0xb504f333, 0xf9de6484];
const Y_EXT: Ext = [0x3fff, 0x8000002a, 0x7c1b35a9];
/** Values that are exactly doubles (low 11 significand bits zero). */
const X_DBL: Ext = [0x3fff + 3, 0xb504f333, 0xf9de6000];
const Y_DBL: Ext = [0x3fff, 0x8000002a, 0x7c1b3800];

interface Case {
  readonly name: string;
  readonly cw: number;
  /** Instructions per iteration (for per-instruction rates). */
  readonly per: number;
  setup(fpu: Fpu, host: BenchHost): void;
  step(fpu: Fpu, host: BenchHost): void;
}

function exec(fpu: Fpu, host: BenchHost, esc: number, modrm: number, ea = MEM_AT): void {
  fpu.execute(host, esc, modrm, ea, true, true, 0x1000, 0x1b, 0x23);
}

function setSt(fpu: Fpu, i: number, v: Ext): void {
  const r = fpu.registers;
  const p = r.phys(i);
  r.sx[p] = v[0];
  r.hi[p] = v[1];
  r.lo[p] = v[2];
}

/** Two-register setup (ST0 = x, ST1 = y) and a register-form instruction on fresh operands. */
function registerCase(name: string, cw: number, modrm: number, x: Ext, y: Ext, esc = 0xd8): Case {
  return {
    name,
    cw,
    per: 1,
    setup(fpu, host) {
      exec(fpu, host, 0xd9, 0xee); // FLDZ
      exec(fpu, host, 0xd9, 0xee);
      setSt(fpu, 0, x);
      setSt(fpu, 1, y);
    },
    step(fpu, host) {
      setSt(fpu, 0, x);
      exec(fpu, host, esc, modrm);
    },
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [pcName, cw, x, y] of [['PC=64', 0x037f, X_EXT, Y_EXT], ['PC=53', 0x027f, X_DBL, Y_DBL]] as const) {
    out.push(registerCase(`FADD st,st1   ${pcName}`, cw, 0xc1, x, y));
    out.push(registerCase(`FSUB st,st1   ${pcName}`, cw, 0xe1, x, y));
    out.push(registerCase(`FMUL st,st1   ${pcName}`, cw, 0xc9, x, y));
    out.push(registerCase(`FDIV st,st1   ${pcName}`, cw, 0xf1, x, y));
    out.push(registerCase(`FSQRT         ${pcName}`, cw, 0xfa, x, y, 0xd9));
  }
  out.push({
    name: 'FLD m64 + FSTP m64 (per instruction)',
    cw: 0x037f,
    per: 2,
    setup(_fpu, host) {
      host.putF64(MEM_AT, 1234.5678);
    },
    step(fpu, host) {
      exec(fpu, host, 0xdd, 0x05); // FLD m64
      exec(fpu, host, 0xdd, 0x1d); // FSTP m64
    },
  });
  out.push({
    name: 'FLD st0 + FSTP m64 of a 64-bit value (inexact store)',
    cw: 0x037f,
    per: 2,
    setup(fpu, host) {
      exec(fpu, host, 0xd9, 0xee);
      setSt(fpu, 0, X_EXT);
    },
    step(fpu, host) {
      exec(fpu, host, 0xd9, 0xc0); // FLD ST(0)
      exec(fpu, host, 0xdd, 0x1d, MEM_AT + 16); // FSTP m64
    },
  });
  out.push({
    name: 'FILD m64 + FISTP m64 (per instruction)',
    cw: 0x037f,
    per: 2,
    setup(_fpu, host) {
      host.write32(MEM_AT, 0x9abcdef1);
      host.write32(MEM_AT + 4, 0x00345678);
    },
    step(fpu, host) {
      exec(fpu, host, 0xdf, 0x2d); // FILD m64
      exec(fpu, host, 0xdf, 0x3d); // FISTP m64
    },
  });
  out.push({
    name: 'FIST m32 of a fraction (rounds)',
    cw: 0x037f,
    per: 1,
    setup(fpu, host) {
      exec(fpu, host, 0xd9, 0xee);
      setSt(fpu, 0, [0x3fff + 20, 0xb504f333, 0xf9de6484]);
    },
    step(fpu, host) {
      exec(fpu, host, 0xdb, 0x15, MEM_AT + 32); // FIST m32
    },
  });
  out.push({
    name: 'awk s+=i*i: FILD m32, FMUL st0,st0, FADD m64, FSTP m64 (per instruction)',
    cw: 0x037f,
    per: 4,
    setup(_fpu, host) {
      host.putF64(MEM_AT + 8, 0.1);
      host.write32(MEM_AT, 12345);
    },
    step(fpu, host) {
      host.write32(MEM_AT, (host.read32(MEM_AT) + 1) & 0xffff);
      exec(fpu, host, 0xdb, 0x05); // FILD m32
      exec(fpu, host, 0xd8, 0xc8); // FMUL ST0, ST0
      exec(fpu, host, 0xdc, 0x05, MEM_AT + 8); // FADD m64
      exec(fpu, host, 0xdd, 0x1d, MEM_AT + 8); // FSTP m64
    },
  });
  return out;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function measure(c: Case): number {
  const host = new BenchHost();
  const fpu = new Fpu();
  host.write16(CW_AT, c.cw);
  exec(fpu, host, 0xd9, 0x2d, CW_AT); // FLDCW
  c.setup(fpu, host);
  for (let i = 0; i < 200_000; i++) c.step(fpu, host); // warm up the JIT
  let n = 0;
  const start = cpuMs();
  let elapsed = 0;
  while (elapsed < 400) {
    for (let i = 0; i < 20_000; i++) c.step(fpu, host);
    n += 20_000;
    elapsed = cpuMs() - start;
  }
  return (n * c.per) / elapsed / 1000;
}

const filter = process.argv[2] ?? '';
for (const c of cases()) {
  if (!c.name.includes(filter)) continue;
  console.log(`${c.name.padEnd(78)} ${measure(c).toFixed(2).padStart(8)} M ops/s`);
}
