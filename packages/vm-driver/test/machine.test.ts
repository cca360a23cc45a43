import { describe, expect, it } from 'vitest';
import { MemoryBlockBackend } from '@typevisor/devices';
import type { CharBackend } from '@typevisor/devices';
import { BootImageError, Machine, MachineCounter, MachineStateError, PORTS, SLP_TYP_S5, defaultHostScheduler } from '../src/index.js';
import type { CpuEngineContext, MachineConfig, MachineExit, MachineOptions } from '../src/index.js';
import { FakeCpu } from './helpers/fake-cpu.js';
import type { Step } from './helpers/fake-cpu.js';
import { fakeBzImage, fakeMultibootAout } from './helpers/images.js';

const MiB = 1024 * 1024;
const kernel = fakeMultibootAout(Uint8Array.of(0xf4));

function collect(): CharBackend & { text(): string } {
  const bytes: number[] = [];
  return { write: (b) => bytes.push(...b), setReceiver() {}, text: () => String.fromCharCode(...bytes) };
}

function machineWith(
  script: Step[], config: Partial<MachineConfig> = {}, onInterrupt?: (vector: number) => Step[], options: MachineOptions = {},
): { machine: Machine; cpu: () => FakeCpu } {
  let cpu: FakeCpu | null = null;
  const machine = new Machine(
    { memorySize: 32 * MiB, kernel, clock: 'deterministic', ...config },
    { ...options, cpu: (context: CpuEngineContext) => (cpu = new FakeCpu(context, script, onInterrupt)) },
  );
  return { machine, cpu: () => cpu! };
}

/** Waits (polling the event loop) until `condition` holds; fails after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 5000) throw new Error('condition not reached in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const out = (port: number, value: number, size: 1 | 2 | 4 = 1): Step => ({ op: 'out', port, value, size });
const print = (text: string): Step[] => [...text].map((c) => out(PORTS.debugcon.base, c.charCodeAt(0)));

describe('Machine run loop with a fake CPU', () => {
  it('prints through the debug console and stops with the debug exit code', async () => {
    const debugcon = collect();
    const { machine, cpu } = machineWith([...print('hi\n'), out(PORTS.debugExit.base, 0x21)], { debugcon });
    expect(machine.state).toBe('created');
    expect(cpu().resets).toBe(1);
    expect(cpu().a20).toBe(true);
    machine.start();
    const exit = await machine.exited;
    expect(exit).toEqual({ reason: 'debug-exit', exitCode: 0x43 });
    expect(debugcon.text()).toBe('hi\n');
    expect(machine.state).toBe('stopped');
    expect(machine.counters[MachineCounter.instructions]).toBe(4);
  });

  it('powers off when the guest writes SLP_TYP=S5 | SLP_EN to PM1a_CNT', async () => {
    const { machine } = machineWith([out(PORTS.pm1aControl.base, (SLP_TYP_S5 << 10) | (1 << 13), 2), { op: 'spin', count: 10 }]);
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'poweroff' });
  });

  it('routes PIT IRQ0 through the PIC and skips idle time in deterministic mode', async () => {
    const vectors: number[] = [];
    const times: number[] = [];
    const picInit = [out(0x20, 0x11), out(0x21, 0x20), out(0x21, 0x04), out(0x21, 0x01), out(0x21, 0xfe), out(0xa0, 0x11), out(0xa1, 0x28), out(0xa1, 0x02), out(0xa1, 0x01), out(0xa1, 0xff)];
    const pitInit = [out(0x43, 0x34), out(0x40, 1193 & 0xff), out(0x40, 1193 >> 8)]; // mode 2, ~1 ms
    const { machine } = machineWith([...picInit, ...pitInit, { op: 'hlt' }], {}, (vector) => {
      vectors.push(vector);
      times.push(machine.clock.now());
      const eoi = out(0x20, 0x20);
      return vectors.length < 5 ? [eoi, { op: 'hlt' }] : [eoi, out(PORTS.debugExit.base, 0)];
    });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    expect(vectors).toEqual([0x20, 0x20, 0x20, 0x20, 0x20]);
    // Ticks every 1193 PIT cycles at 1.193182 MHz (~1 ms of virtual time) from a few dozen instructions.
    const period = (1193 / 1_193_182) * 1e9;
    for (let i = 1; i < times.length; i++) expect(Math.abs(times[i]! - times[i - 1]! - period)).toBeLessThan(1000);
    expect(machine.counters[MachineCounter.instructions]).toBeLessThan(40);
    expect(machine.counters[MachineCounter.idleHalts]).toBeGreaterThanOrEqual(5); // the PIT also wakes for OUT's falling edges
    expect(machine.counters[MachineCounter.interrupts]).toBe(5);
  });

  it('a timer armed inside a slice fires at its deadline, not at the end of the slice', async () => {
    const picInit = [out(0x20, 0x11), out(0x21, 0x20), out(0x21, 0x04), out(0x21, 0x01), out(0x21, 0xfe)];
    // PIT channel 0, mode 0 (interrupt on terminal count) after 1193 cycles: ~1 ms, 100,000
    // instructions at the deterministic 100 MIPS. Then a long stretch of guest code: the slice
    // that armed the timer was sized for a 1,000,000-instruction cap, not for this deadline.
    const pitOneShot = [out(0x43, 0x30), out(0x40, 1193 & 0xff), out(0x40, 1193 >> 8)];
    let armedAt = -1;
    const { machine, cpu } = machineWith([...picInit, ...pitOneShot, { op: 'call', fn: (c) => { armedAt = c.instructionsRetired; } },
      { op: 'spin', count: 3_000_000 }, out(PORTS.debugExit.base, 0)], {}, undefined, { sliceInstructions: 1_000_000 });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    const seen = cpu().firstInterruptSeenAt!;
    const expected = armedAt + (1193 / 1_193_182) * 1e9 * 0.1;
    expect(Math.abs(seen - expected)).toBeLessThan(200);
  });

  it('reports a triple fault with the fault and registers', async () => {
    const { machine } = machineWith([{ op: 'spin', count: 3 }, { op: 'stop', reason: 'shutdown' }]);
    machine.start();
    const exit = await machine.exited;
    expect(exit.reason).toBe('triple-fault');
    expect((exit as Extract<MachineExit, { reason: 'triple-fault' }>).message).toMatch(/triple fault.*vector 8.*eip=0x1234/);
  });

  it('turns a host exception into an internal error exit', async () => {
    const { machine } = machineWith([{ op: 'throw', message: 'boom' }]);
    machine.start();
    expect(await machine.exited).toMatchObject({ reason: 'internal-error', message: 'internal error: boom' });
  });

  it('pauses, resumes and stops, refusing illegal transitions with MachineStateError', async () => {
    const { machine } = machineWith([{ op: 'spin', count: 1e12 }]);
    const states: string[] = [];
    machine.on((event) => { if (event.type === 'state') states.push(event.state); });
    expect(() => machine.pause()).toThrow(MachineStateError);
    machine.start();
    expect(() => machine.start()).toThrow(/cannot start a machine that is running/);
    await until(() => machine.counters[MachineCounter.instructions] > 0);
    machine.pause();
    const frozen = machine.clock.now();
    const retired = machine.counters[MachineCounter.instructions];
    expect(retired).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(machine.counters[MachineCounter.instructions]).toBe(retired);
    expect(machine.clock.now()).toBe(frozen);
    const snapshot = machine.saveState();
    expect(snapshot.devices.map((d) => d.name)).toEqual(['pic', 'ioapic', 'lapic', 'pit', 'port92', 'i8042', 'rtc', 'uart']);
    expect(() => machine.restoreState({ ...snapshot, version: 2 as 1 })).toThrow(/snapshot version 2/);
    machine.resume();
    await until(() => machine.counters[MachineCounter.instructions] > retired);
    machine.stop();
    expect(await machine.exited).toEqual({ reason: 'stopped' });
    expect(states).toEqual(['running', 'paused', 'running', 'stopped']);
  });

  it('sleeps while the guest is idle in real-time mode instead of spinning', async () => {
    const { machine } = machineWith([{ op: 'hlt' }], { clock: 'realtime' });
    machine.clock.setTimer(30e6, () => machine.stop());
    machine.start();
    await machine.exited;
    expect(machine.counters[MachineCounter.slices]).toBeLessThan(5);
    expect(machine.counters[MachineCounter.idleHostMs]).toBeGreaterThan(20);
  });

  it('wakes from an idle sleep for a timer armed from the host side while it sleeps (paced console input)', async () => {
    const { machine } = machineWith([{ op: 'hlt' }], { clock: 'realtime' });
    machine.clock.setTimer(5000e6, () => machine.stop()); // the guest's next timer: 5 s away
    machine.start();
    await until(() => machine.counters[MachineCounter.idleHalts] > 0);
    const armed = performance.now();
    let firedAfterMs = -1;
    machine.clock.setTimer(machine.clock.now() + 1e6, () => {
      firedAfterMs = performance.now() - armed;
      machine.stop();
    });
    await machine.exited;
    expect(firedAfterMs).toBeGreaterThanOrEqual(0);
    expect(firedAfterMs).toBeLessThan(2000); // not at the 5 s timer the sleep was set for
  });

  it('rejects a bad kernel before creating a CPU', () => {
    let created = false;
    const build = (): Machine => new Machine({ memorySize: 32 * MiB, kernel: new Uint8Array(10000) }, { cpu: (ctx) => { created = true; return new FakeCpu(ctx, []); } });
    expect(build).toThrow(BootImageError);
    expect(build).toThrow(/neither a Linux bzImage .* nor a multiboot v1 kernel/);
    expect(created).toBe(false);
    expect(() => new Machine({ memorySize: 16 * MiB, kernel: fakeBzImage() }, { cpu: (ctx) => new FakeCpu(ctx, []) })).toThrow(/give it more memory/);
  });

  it('maps virtio-mmio windows, describes them in ACPI, and can list them on the command line', () => {
    const disk = new MemoryBlockBackend({ size: 1 * MiB });
    const { machine } = machineWith([], { kernel: fakeBzImage(), memorySize: 64 * MiB, disks: [{ backend: disk }], acpi: false, cmdline: 'console=ttyS0' });
    expect(machine.cmdline).toBe('console=ttyS0 virtio_mmio.device=0x1000@0xd0000000:5');
    expect(machine.memory.readPhys32(0xd0000000)).toBe(0x74726976); // "virt"
    expect(machine.memory.readPhys32(0xd0000008)).toBe(2); // block device
    expect(machine.acpi).toBeNull();
    const withAcpi = machineWith([], { kernel: fakeBzImage(), memorySize: 64 * MiB, disks: [{ backend: disk }] }).machine;
    expect(withAcpi.cmdline).toBe('');
    expect(withAcpi.acpi).not.toBeNull();
    expect(new TextDecoder().decode(withAcpi.memory.ram.subarray(0xe0000, 0xe0008))).toBe('RSD PTR ');
    // The boot ROM holds the reset vector.
    expect(withAcpi.memory.readPhys8(0xfffffff0)).toBe(0xe9);
  });
});

describe('deterministic idle pacing', () => {
  it('skips idle time at once by default, and sleeps it off with paceIdle', async () => {
    for (const paceIdle of [false, true]) {
      let cpu: FakeCpu | null = null;
      const machine = new Machine(
        { memorySize: 32 * MiB, kernel, clock: 'deterministic' },
        { paceIdle, cpu: (context) => (cpu = new FakeCpu(context, [{ op: 'hlt' }])) },
      );
      expect(cpu).not.toBeNull();
      machine.clock.setTimer(300e6, () => machine.stop()); // 300 ms of virtual time
      const started = performance.now();
      machine.start();
      await machine.exited;
      const hostMs = performance.now() - started;
      expect(machine.clock.now()).toBe(300e6);
      if (paceIdle) expect(hostMs).toBeGreaterThanOrEqual(290);
      else expect(hostMs).toBeLessThan(250); // generous: the build machine is often overloaded
    }
  });
});

describe('snapshot hooks', () => {
  it('carries RAM, time and every device (virtio included) into a second machine', async () => {
    const disk = new MemoryBlockBackend({ size: 1 * MiB });
    const config: Partial<MachineConfig> = { disks: [{ backend: disk }] };
    const picInit = [out(0x20, 0x11), out(0x21, 0x30), out(0x21, 0x04), out(0x21, 0x01), out(0x21, 0xfe)];
    const { machine } = machineWith([...picInit, out(0x70, 0x0a), { op: 'spin', count: 1e9 }], config);
    machine.memory.ram[0x5000] = 0x77;
    machine.start();
    await until(() => machine.counters[MachineCounter.instructions] > 0);
    machine.pause();
    const snapshot = machine.saveState();
    expect(snapshot.devices.map((d) => d.name)).toContain('virtio-blk0');
    const other = machineWith([], config).machine;
    other.restoreState(snapshot);
    expect(other.memory.ram[0x5000]).toBe(0x77);
    expect(other.clock.now()).toBe(machine.clock.now());
    expect(other.saveState().devices).toEqual(snapshot.devices);
    const smaller = machineWith([], { ...config, memorySize: 16 * MiB }).machine;
    expect(() => smaller.restoreState(snapshot)).toThrow(/RAM/);
    machine.stop();
  });
});

describe('perf-model counters', () => {
  it('counts instructions, port reads/writes in total and per device, and interrupts', async () => {
    const into: number[] = [];
    const { machine } = machineWith([...print('ab'), { op: 'in', port: 0x3fd, into }, out(PORTS.debugExit.base, 0)]);
    machine.start();
    await machine.exited;
    const snapshot = machine.perf.snapshot();
    expect(snapshot.counters.instructions).toBe(4);
    expect(snapshot.counters['port.writes']).toBe(3);
    expect(snapshot.counters['port.reads']).toBe(1);
    expect(snapshot.devices['debug console']).toMatchObject({ 'port.writes': 2 });
    expect(snapshot.devices['COM1 16550A']).toMatchObject({ 'port.reads': 1 });
  });
});

describe('instruction mix', () => {
  // mov ecx, 1000; l: dec ecx; jnz l; mov al, 0; out 0xF4, al (debug exit)
  const loop = fakeMultibootAout(Uint8Array.of(0xb9, 0xe8, 0x03, 0, 0, 0x49, 0x75, 0xfd, 0xb0, 0, 0xe6, 0xf4));
  const mixOf = (machine: Machine): number[] =>
    (['alu', 'dataTransfer', 'branch', 'string', 'fpu', 'system'] as const).map((c) => machine.perf.snapshot().counters[`instructions.${c}`]);

  it('counts retired instructions by class with the real CPU when asked, summing to the instruction count', async () => {
    const machine = new Machine({ memorySize: 16 * MiB, kernel: loop, clock: 'deterministic' }, { instructionMix: true });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    const [alu, dataTransfer, branch, string, fpu, system] = mixOf(machine);
    // The boot ROM runs first, so the kernel's loop is a lower bound: 1000 DEC, 1000 JNZ, 2 MOV, 1 OUT.
    expect(alu).toBeGreaterThanOrEqual(1000);
    expect(branch).toBeGreaterThanOrEqual(1000);
    expect(dataTransfer).toBeGreaterThanOrEqual(2);
    expect(system).toBeGreaterThanOrEqual(2); // the ROM's LGDT and more, and the OUT
    expect(fpu).toBe(0);
    expect(alu + dataTransfer + branch + string + fpu + system).toBe(machine.perf.snapshot().counters.instructions);
  });

  it('leaves the class counters at zero by default', async () => {
    const machine = new Machine({ memorySize: 16 * MiB, kernel: loop, clock: 'deterministic' });
    machine.start();
    await machine.exited;
    expect(machine.perf.snapshot().counters.instructions).toBeGreaterThan(2000);
    expect(mixOf(machine)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('APIC interrupt path', () => {
  it('delivers PIT IRQ0 through I/O APIC pin 2 to the local APIC (the MADT override)', async () => {
    const vectors: number[] = [];
    const mmio = (address: number, value: number): Step => ({ op: 'call', fn: (cpu) => cpu.context.memory.writePhys32(address, value) });
    const ioapicWrite = (register: number, value: number): Step[] => [mmio(0xfec00000, register), mmio(0xfec00010, value)];
    const script: Step[] = [
      // 8259s initialised and fully masked, so only the APIC path can deliver.
      out(0x20, 0x11), out(0x21, 0x20), out(0x21, 0x04), out(0x21, 0x01), out(0x21, 0xff),
      out(0xa0, 0x11), out(0xa1, 0x28), out(0xa1, 0x02), out(0xa1, 0x01), out(0xa1, 0xff),
      mmio(0xfee000f0, 0x1ff), // LAPIC SVR: software enable, spurious vector 0xFF
      ...ioapicWrite(0x10 + 2 * 2, 0x40), // redirection entry of pin 2: vector 0x40, fixed, edge, unmasked
      ...ioapicWrite(0x10 + 2 * 2 + 1, 0),
      out(0x43, 0x34), out(0x40, 0xa9), out(0x40, 0x04), // PIT mode 2, 1193 cycles
      { op: 'hlt' },
    ];
    const { machine } = machineWith(script, {}, (vector) => {
      vectors.push(vector);
      const eoi = mmio(0xfee000b0, 0);
      return vectors.length < 3 ? [eoi, { op: 'hlt' }] : [eoi, out(PORTS.debugExit.base, 0)];
    });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    expect(vectors).toEqual([0x40, 0x40, 0x40]);
  });
});

/**
 * A real-time machine on a host clock the test moves: a scripted CPU retires each slice's budget
 * (or what `retire(call, budget)` says) and `slice(call, retired)` returns the host milliseconds
 * that slice took; the guest exits through the debug-exit port after `slices` slices.
 */
function realTimeHost(
  slices: number,
  slice: (call: number, retired: number) => number,
  onSlice?: (call: number, machine: Machine) => void,
  retire: (call: number, budget: number) => number = (_call, budget) => budget,
) {
  const host = { ms: 0 };
  const scheduler = { now: () => host.ms, schedule: (callback: () => void) => defaultHostScheduler.schedule(callback, 0) };
  let calls = 0;
  let retired = 0;
  const machine: Machine = new Machine({ memorySize: 32 * MiB, kernel, clock: 'realtime' }, {
    scheduler,
    cpu: (context) => ({
      get instructionsRetired() { return retired; },
      lastException: null,
      reset() {},
      setA20() {},
      run(budget: number) {
        calls++;
        const count = retire(calls, budget);
        retired += count;
        host.ms += slice(calls, count);
        onSlice?.(calls, machine);
        if (calls === slices) context.io.write(PORTS.debugExit.base, 1, 0);
        return 'budget';
      },
    }),
  });
  return { machine, host };
}

describe('real-time host stalls', () => {
  it('keeps a 50 ms host stall out of guest time', async () => {
    // 10 MIPS; the host descheduled us once, for 50 ms.
    const { machine, host } = realTimeHost(40, (call, budget) => budget / 10_000 + (call === 20 ? 50 : 0));
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    const guestMs = machine.clock.now() / 1e6;
    expect(host.ms - guestMs).toBeGreaterThan(45);
    expect(machine.counters[MachineCounter.hiddenStallMs]).toBeGreaterThan(45);
    expect(guestMs).toBeGreaterThan(75); // 40 slices of 2 ms of guest code
  });
});

describe('real-time speed changes', () => {
  it('learns no guest slower than 4 MIPS, however long the host stays overloaded', async () => {
    // 10 MIPS, and every slice descheduled for 20 ms.
    const { machine } = realTimeHost(400, (_call, budget) => budget / 10_000 + 20);
    machine.start();
    await machine.exited;
    expect(machine.clock.guestNsPerInstruction).toBeGreaterThan(200); // it did learn a slower guest
    expect(machine.clock.guestNsPerInstruction).toBeLessThanOrEqual(250);
  });

  it('learns a guest that became slower per instruction instead of hiding its time for good', async () => {
    const hiddenAt: number[] = [];
    // 10 MIPS, then 5 MIPS for good.
    const { machine } = realTimeHost(300, (call, budget) => budget / (call < 20 ? 10_000 : 5_000), (call, m) => {
      if (call === 150 || call === 300) hiddenAt.push(m.counters[MachineCounter.hiddenStallMs]);
    });
    machine.start();
    await machine.exited;
    // Some time is hidden while the average adapts; afterwards (slices 150-300) almost none.
    expect(hiddenAt[1]! - hiddenAt[0]!).toBeLessThan(1);
  });

  it('times guest instructions, not slices: short slices between full ones barely count', async () => {
    // Full slices at 1,000 MIPS, and after each a slice of 2,000 instructions (an interrupt, a
    // device write that ends the slice) at 20 ns an instruction. Host time per instruction retired
    // is (200,000 x 1 + 2,000 x 20) / 202,000 = 1.19 ns; counted per slice it would be about 10.
    const { machine, host } = realTimeHost(400, (_call, retired) => retired * (retired === 2_000 ? 20e-6 : 1e-6), undefined,
      (call, budget) => (call % 2 === 0 ? Math.min(budget, 2_000) : budget));
    machine.start();
    await machine.exited;
    expect(machine.clock.guestNsPerInstruction).toBeGreaterThan(1);
    expect(machine.clock.guestNsPerInstruction).toBeLessThan(1.5);
    // And so guest time keeps up with the host's, not 5 times ahead of it.
    expect(machine.clock.now() / 1e6 / host.ms).toBeLessThan(1.5);
  });
});
