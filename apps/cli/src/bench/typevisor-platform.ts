/**
 * typevisor as a benchmark platform: the default guest in a `Machine` in this process (boot, CPU,
 * console, virtio-blk, memory), and the start latency through `VmManager` (one worker per VM) when
 * a driver worker module is available.
 */
import { readFileSync } from 'node:fs';
import type { CharBackend } from '@typevisor/devices';
import { Machine, MachineCounter } from '@typevisor/vm-driver';
import { FileBlockBackend } from '@typevisor/vm-driver/node';
import { VmManager } from '@typevisor/vm-manager';
import { BenchError } from './errors.js';
import { GuestConsole } from './guest-console.js';
import type { GuestPlatform, GuestSession, StartLatencySample } from './platform.js';
import { processMemoryMiB } from './platform.js';
import type { BenchmarkSpec } from './suite.js';
import { SHELL_PROMPT } from './workloads.js';

/** How long a VmManager VM may take from start to its prompt in the start-latency benchmark. */
const PROMPT_TIMEOUT_MS = 300_000;

/**
 * The in-process figure reported beside the VmManager start latency: `new Machine()` + `start()` to
 * the first serial byte, without a worker (what start latency meant before the manager's worker existed).
 */
export const IN_PROCESS_START: BenchmarkSpec = { benchmark: 'start-latency.in-process-machine', unit: 's', lowerIsBetter: true };

/** The guest every platform boots. */
export interface GuestImages {
  readonly kernel: string;
  readonly initrd: string;
  readonly cmdline: string;
  /** Guest RAM in MiB. */
  readonly memoryMiB: number;
}

/** Options of {@link typevisorPlatform}. */
export interface TypevisorPlatformOptions {
  readonly guest: GuestImages;
  /**
   * The VM manager's driver worker module (a bundled `driver-worker` .js/.mjs). With it, start latency
   * is `VmManager.create` + `start` until the first console byte; without it, `new Machine` +
   * `start()` until the first serial byte in this process.
   */
  readonly managerWorkerUrl: URL | string | null;
  /** Count retired instructions by class in the booted guests ({@link GuestSession.instructionMix}). */
  readonly instructionMix?: boolean;
}

const MIX_CLASSES = ['alu', 'dataTransfer', 'branch', 'string', 'fpu', 'system'] as const;

/** How {@link typevisorPlatform} measures start latency. */
export function startLatencyMethod(options: TypevisorPlatformOptions): string {
  return options.managerWorkerUrl === null
    ? 'new Machine() + start() to first serial byte, in-process (no VmManager driver worker module given)'
    : 'VmManager create + start (a worker per VM) to first console byte (start-latency) and to the shell prompt (start-latency.to-prompt); ' +
      'new Machine() + start() to first serial byte in-process as start-latency.in-process-machine';
}

function readImage(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new BenchError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The typevisor platform. */
export function typevisorPlatform(options: TypevisorPlatformOptions): GuestPlatform {
  const { guest } = options;
  const kernel = readImage(guest.kernel, 'kernel');
  const initrd = readImage(guest.initrd, 'initrd');

  async function boot({ disk }: { readonly disk: string | null }): Promise<GuestSession> {
    const baseline = await processMemoryMiB();
    let receiver: ((bytes: Uint8Array) => void) | null = null;
    const console = new GuestConsole((bytes) => {
      if (receiver === null) throw new BenchError('the guest UART has no receiver yet');
      receiver(bytes);
    });
    const serial: CharBackend = { write: (bytes) => console.receive(bytes), setReceiver: (r) => void (receiver = r) };
    const backend = disk === null ? null : FileBlockBackend.open(disk, { readOnly: true });
    const startedAtMs = performance.now();
    const machine = new Machine({
      memorySize: guest.memoryMiB * 1048576, kernel, initrd, cmdline: guest.cmdline, serial,
      ...(backend === null ? {} : { disks: [{ backend }] }),
    }, { instructionMix: options.instructionMix === true });
    void machine.exited.then((exit) => console.close(`typevisor machine exited: ${exit.reason}${'message' in exit ? ` (${exit.message})` : ''}`));
    machine.start();
    return {
      console,
      startedAtMs,
      instructions: () => machine.counters[MachineCounter.instructions],
      ...(options.instructionMix === true ? {
        instructionMix: () => {
          const counters = machine.perf.snapshot().counters;
          return Object.fromEntries(MIX_CLASSES.map((name) => [name, counters[`instructions.${name}`] ?? 0]));
        },
      } : {}),
      async memoryMiB() {
        const now = await processMemoryMiB();
        return { rss: now.rss - baseline.rss, arrayBuffers: now.arrayBuffers - baseline.arrayBuffers };
      },
      async stop() {
        machine.stop();
        await machine.exited;
        backend?.close();
      },
    };
  }

  /** `new Machine()` + `start()` in this process until the first serial byte, in seconds. */
  async function machineStartLatency(): Promise<number> {
    let firstByteMs = 0;
    let done: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => (done = resolve));
    const serial: CharBackend = {
      write() {
        if (firstByteMs === 0) firstByteMs = performance.now();
        done();
      },
      setReceiver() {},
    };
    const started = performance.now();
    const machine = new Machine({ memorySize: guest.memoryMiB * 1048576, kernel, initrd, cmdline: guest.cmdline, serial });
    machine.start();
    await Promise.race([seen, machine.exited.then((exit) => Promise.reject(new BenchError(`typevisor exited before printing anything: ${exit.reason}`)))]);
    machine.stop();
    await machine.exited;
    return (firstByteMs - started) / 1000;
  }

  /**
   * `VmManager.create` + `start` (a fresh worker running the VM) until the VM's first console byte and
   * until its shell prompt, in seconds; the manager, and with it the worker, is then shut down.
   */
  async function managerStartLatency(workerUrl: URL | string): Promise<{ firstByte: number; prompt: number }> {
    const manager = new VmManager({ workerUrl });
    const id = `bench-${process.pid}-${Date.now()}`;
    const console = new GuestConsole(() => undefined);
    let firstByteMs = 0;
    const unsubscribe = manager.onEvent((vm, event) => {
      if (vm !== id) return;
      if (event.name === 'guestPanic' || event.name === 'tripleFault' || event.name === 'workerDied' || event.name === 'exited') {
        console.close(`the VmManager VM ended before its prompt (${event.name}: ${JSON.stringify(event)})`);
      }
    });
    try {
      const started = performance.now();
      await manager.create(id, { memoryMiB: guest.memoryMiB, kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline });
      manager.attachConsole(id, (bytes) => {
        if (firstByteMs === 0) firstByteMs = performance.now();
        console.receive(bytes);
      }, { replay: true });
      await manager.start(id);
      const prompt = await console.expect(SHELL_PROMPT, PROMPT_TIMEOUT_MS, 'the shell prompt of the VmManager VM');
      return { firstByte: (firstByteMs - started) / 1000, prompt: (prompt.atMs - started) / 1000 };
    } finally {
      unsubscribe();
      await manager.shutdown();
    }
  }

  async function startLatency(): Promise<StartLatencySample> {
    if (options.managerWorkerUrl === null) return { firstByte: await machineStartLatency(), prompt: null };
    const { firstByte, prompt } = await managerStartLatency(options.managerWorkerUrl);
    return { firstByte, prompt, extra: [{ spec: IN_PROCESS_START, seconds: await machineStartLatency() }] };
  }

  return {
    name: 'typevisor',
    description: `typevisor in-process Machine, ${guest.memoryMiB} MiB; start latency: ${startLatencyMethod(options)}`,
    features: { virtioBlk: true, instructionCounter: true },
    boot,
    startLatency,
  };
}
