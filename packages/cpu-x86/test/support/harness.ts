import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu, type CpuOptions, type InterruptSource, type PortIoBus } from '@typevisor/cpu-x86';

const cache = new Map<string, Uint8Array>();

/** Assemble `source` with `nasm -f bin` (BITS and ORG given) into bytes. */
export function asm(source: string, bits: 16 | 32 = 32, org = 0): Uint8Array {
  const key = `${bits}:${org}:${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-asm-'));
  try {
    writeFileSync(join(dir, 'a.asm'), `bits ${bits}\norg 0x${org.toString(16)}\n${source}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')], { stdio: 'pipe' });
    const out = new Uint8Array(readFileSync(join(dir, 'a.bin')));
    cache.set(key, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records port writes; reads return `readValue`. */
export class RecordingIo implements PortIoBus {
  readonly writes: Array<[number, number, number]> = [];
  readValue = 0xffffffff;
  read(port: number, size: 1 | 2 | 4): number {
    void port;
    return this.readValue & (size === 4 ? -1 : (1 << (size * 8)) - 1);
  }
  write(port: number, size: 1 | 2 | 4, value: number): void { this.writes.push([port, size, value]); }
}

/** A single-vector interrupt line for tests. */
export class TestInterrupts implements InterruptSource {
  pending: number[] = [];
  hasInterrupt(): boolean { return this.pending.length > 0; }
  acknowledge(): number { return this.pending.shift() ?? 0; }
}

export interface Machine {
  cpu: Cpu;
  memory: PhysicalMemory;
  io: RecordingIo;
  irq: TestInterrupts;
}

/** `hostAreaBytes`: RAM in a WebAssembly memory behind a host area (CPU_HOST_AREA_BYTES for warm blocks). */
export function machine(options: Partial<CpuOptions> = {}, ramSize = 4 << 20, hostAreaBytes = 0): Machine {
  const memory = new PhysicalMemory({ ramSize, hostAreaBytes });
  const io = new RecordingIo();
  const irq = new TestInterrupts();
  const cpu = new Cpu({ memory, io, interrupts: irq, ...options });
  return { cpu, memory, io, irq };
}

/** Flat 32-bit CPL0 machine running `source` at 0x1000 with ESP=0x8000 (stopOnException). */
export function flat(source: string, options: Partial<CpuOptions> = {}, ramSize = 4 << 20): Machine {
  const m = machine({ stopOnException: true, ...options }, ramSize);
  m.memory.ram.set(asm(source, 32, 0x1000), 0x1000);
  m.cpu.enterFlatProtectedMode(0);
  m.cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
  return m;
}

/** Run flat code until HLT, returning the registers. */
export function runFlat(source: string, budget = 100000): ReturnType<Cpu['getRegisters']> & { stop: string; m: Machine } {
  const m = flat(source);
  const stop = m.cpu.run(budget);
  return { ...m.cpu.getRegisters(), stop, m };
}
