/**
 * The native baseline: the guest's own busybox (i386, static, extracted from the initramfs) run
 * directly on the host, for the CPU workloads and for process start latency (the native analogue
 * of a VM start).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCHMARKS, BenchError, CPU_UNIT, CPU_WORKLOADS, MissingPrerequisiteError, NATIVE, cleanConsoleOutput } from '@typevisor/cli/bench';
import type { GuestImages, PlatformResult } from '@typevisor/cli/bench';
import { extractFromInitramfs } from './cpio.js';

/** Applets the workloads call, linked to busybox in a private PATH. */
const APPLETS = ['sh', 'dd', 'sha256sum', 'awk', 'yes', 'head', 'echo', 'true'];

/** A host directory holding the guest's busybox and its applet links. */
export interface NativeBusybox {
  readonly binary: string;
  readonly bin: string;
  readonly version: string;
  dispose(): void;
}

/** Extracts busybox from the guest initramfs and checks that the host can run it. */
export function prepareNativeBusybox(guest: GuestImages): NativeBusybox {
  const dir = mkdtempSync(join(os.tmpdir(), 'typevisor-native-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const binary = join(bin, 'busybox');
  writeFileSync(binary, extractFromInitramfs(new Uint8Array(readFileSync(guest.initrd)), 'bin/busybox'));
  chmodSync(binary, 0o755);
  for (const applet of APPLETS) symlinkSync('busybox', join(bin, applet));
  const probe = spawnSync(binary, [], { encoding: 'utf8' });
  const version = /BusyBox v[^\n]*/.exec(probe.stdout ?? '')?.[0];
  if (probe.error !== undefined || version === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new MissingPrerequisiteError('a host that runs i386 static binaries', `the guest's busybox did not run natively (${probe.error?.message ?? `status ${probe.status}`})`);
  }
  return { binary, bin, version, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function runTimed(busybox: NativeBusybox, command: string): Promise<{ seconds: number; output: string; firstByteSeconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByte = 0;
    let output = '';
    const child = spawn(busybox.binary, ['sh', '-c', command], { env: { PATH: busybox.bin, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      if (firstByte === 0) firstByte = performance.now();
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const ended = performance.now();
      if (code !== 0) reject(new BenchError(`native \`${command}\` exited with status ${code}`));
      else resolve({ seconds: (ended - started) / 1000, output, firstByteSeconds: (firstByte - started) / 1000 });
    });
  });
}

/** Runs the CPU workloads and the start-latency probe natively, `runs` times each. */
export async function runNative(busybox: NativeBusybox, runs: number, options: { cpu: boolean; start: boolean; log: (line: string) => void }): Promise<PlatformResult> {
  const table = new Map<string, { benchmark: string; platform: string; unit: string; lowerIsBetter: boolean; runs: number[] }>();
  const add = (spec: { benchmark: string; unit: string; lowerIsBetter: boolean }, value: number) => {
    const row = table.get(spec.benchmark) ?? { ...spec, platform: NATIVE, runs: [] };
    row.runs.push(value);
    table.set(spec.benchmark, row);
  };
  const cpuSeconds: number[] = [];
  const startLatencies: number[] = [];
  for (let run = 1; run <= runs; run++) {
    if (options.cpu) {
      let total = 0;
      for (const workload of CPU_WORKLOADS) {
        const { seconds, output } = await runTimed(busybox, workload.command);
        workload.check(cleanConsoleOutput(output));
        add({ benchmark: workload.name, unit: CPU_UNIT, lowerIsBetter: true }, seconds);
        total += seconds;
      }
      cpuSeconds.push(total);
      options.log(`native: run ${run}/${runs}: CPU workloads ${total.toFixed(3)} s`);
    }
    if (options.start) {
      const { firstByteSeconds } = await runTimed(busybox, 'echo started');
      add(BENCHMARKS.start, firstByteSeconds);
      startLatencies.push(firstByteSeconds);
    }
  }
  return {
    platform: NATIVE,
    description: `${busybox.version} from the guest initramfs, run on the host (process spawn included in each timing)`,
    runs: [...table.values()],
    cpuInstructions: null,
    cpuSeconds,
    startLatencies,
    notes: ['native: no boot, console, disk or per-VM memory; start-latency is spawn of `busybox sh -c "echo started"` to its first output byte'],
  };
}
