/**
 * `typevisor bench`: the typevisor part of the benchmark suite (boot, memory, CPU workloads, console,
 * virtio-blk, start latency) with a perf-model report. The pieces are exported for the comparison
 * scripts in bench/, which run the same suite on v86, QEMU and natively.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatReport } from '@typevisor/perf-model';
import type { BenchmarkReport } from '@typevisor/perf-model';
import { findDefaultGuest } from '../default-guest.js';
import { CliUsageError } from '../errors.js';
import { BENCH_HELP, parseBenchArgs } from './args.js';
import { assembleReport } from './assemble.js';
import { createScratchDisk, hostFacts } from './host.js';
import { debianGuest } from './debian-guest.js';
import { BENCHMARKS, benchmarkRow, measureBootToShell, runSuite } from './suite.js';
import { startLatencyMethod, typevisorPlatform } from './typevisor-platform.js';
import type { GuestImages } from './typevisor-platform.js';

export { BENCH_HELP, parseBenchArgs, parseGroups } from './args.js';
export type { BenchOptions } from './args.js';
export { NATIVE, assembleReport, measurementOf, p50Seconds } from './assemble.js';
export type { AssembleOptions } from './assemble.js';
export { BenchError, MissingPrerequisiteError } from './errors.js';
export { GuestConsole } from './guest-console.js';
export type { ConsoleMatch } from './guest-console.js';
export { createScratchDisk, hostFacts } from './host.js';
export { processMemoryMiB } from './platform.js';
export type { GuestPlatform, GuestSession, PlatformFeatures, StartLatencySample } from './platform.js';
export { BENCHMARKS, BENCHMARK_GROUPS, CPU_UNIT, OPT_IN_GROUPS, benchmarkRow, measureBootToShell, runSuite, instructionMixNote, runWorkload } from './suite.js';
export type { BenchmarkGroup, BenchmarkSpec, CommandTiming, PlatformResult, SuiteOptions } from './suite.js';
export { DEBIAN_CACHE_DEFAULT, DEBIAN_MEMORY_MIB, debianGuest } from './debian-guest.js';
export type { DebianGuest } from './debian-guest.js';
export { IN_PROCESS_START, startLatencyMethod, typevisorPlatform } from './typevisor-platform.js';
export type { GuestImages, TypevisorPlatformOptions } from './typevisor-platform.js';
export {
  AWK_ITERATIONS, BLK_RANDOM_WORKLOAD, BLK_SEQ_WORKLOAD, CONSOLE_BYTES, CONSOLE_WORKLOAD, CPU_WORKLOADS, DISK_MIB, GUEST_BANNER,
  RANDOM_READS, SEQ_READ_MIB, SHA256_OF_16MIB_ZEROS, SHELL_PROMPT, cleanConsoleOutput, markCommand, randomBlocks, sumOfSquares,
} from './workloads.js';
export type { MarkedCommand, Workload } from './workloads.js';

/** Where `typevisor bench` writes. */
export interface BenchOutput {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** Host-side choices of {@link runBenchCommand} that are not flags. */
export interface BenchCommandDeps {
  readonly output?: BenchOutput;
  /** The VmManager driver worker module; default: @typevisor/vm-manager's built `driver-worker.js` if it exists. */
  readonly managerWorkerUrl?: URL | string | null;
}

/** The built VM manager driver worker next to the installed @typevisor/vm-manager, if there is one. */
function installedDriverWorker(): URL | null {
  try {
    const url = new URL('./driver-worker.js', import.meta.resolve('@typevisor/vm-manager'));
    return existsSync(fileURLToPath(url)) ? url : null;
  } catch {
    return null;
  }
}

/** Resolves the guest images from the flags and the default guest. */
export function benchGuest(options: { kernel: string | null; initrd: string | null; append: string | null; memoryMiB: number }): GuestImages {
  if (options.kernel !== null) {
    if (options.initrd === null) throw new CliUsageError('--initrd', 'is needed with --kernel (the benchmarks run busybox from the initrd)');
    return { kernel: options.kernel, initrd: options.initrd, cmdline: options.append ?? 'console=ttyS0 panic=-1', memoryMiB: options.memoryMiB };
  }
  const guest = findDefaultGuest();
  return { kernel: guest.kernel, initrd: options.initrd ?? guest.initrd, cmdline: options.append ?? guest.cmdline, memoryMiB: options.memoryMiB };
}

/**
 * Runs `typevisor bench` with `argv` (the arguments after `bench`), prints the report table and
 * resolves with the exit status: 0 done, 1 a benchmark failed, 2 a usage error.
 */
export async function runBenchCommand(argv: string[], deps: BenchCommandDeps = {}): Promise<number> {
  const output = deps.output ?? { stdout: process.stdout, stderr: process.stderr };
  let disk: { path: string; dispose(): void } | null = null;
  try {
    const options = parseBenchArgs(argv);
    if (options.help) {
      output.stdout.write(BENCH_HELP);
      return 0;
    }
    const guest = benchGuest(options);
    const managerWorkerUrl = deps.managerWorkerUrl === undefined ? installedDriverWorker() : deps.managerWorkerUrl;
    const platformOptions = { guest, managerWorkerUrl, instructionMix: options.instructionMix };
    const log = options.quiet ? () => undefined : (line: string) => void output.stderr.write(`[bench] ${line}\n`);
    // Found before anything runs, so a missing Debian build is reported before minutes of benchmarks.
    const debian = options.groups.has('boot-debian') ? debianGuest() : null;
    if (options.groups.has('blk')) disk = createScratchDisk();
    const result = await runSuite(typevisorPlatform(platformOptions), {
      runs: options.runs, groups: options.groups, disk: disk?.path ?? null, timeoutSeconds: options.timeoutSeconds, log,
    });
    if (debian !== null) {
      const seconds = await measureBootToShell(typevisorPlatform({ guest: debian, managerWorkerUrl: null }), { runs: options.runs, timeoutSeconds: options.timeoutSeconds, log });
      result.runs.push(benchmarkRow(result.platform, BENCHMARKS.bootDebian, seconds));
    }
    const report: BenchmarkReport = assembleReport({
      results: [result],
      host: {
        ...hostFacts(), guest: `${guest.kernel} + ${guest.initrd} (${guest.cmdline}), ${guest.memoryMiB} MiB`, startLatency: startLatencyMethod(platformOptions),
        ...(debian === null ? {} : { 'guest.debian': `Debian linux-image-${debian.release}: ${debian.kernel} + ${debian.initrd} (${debian.cmdline}), ${debian.memoryMiB} MiB` }),
      },
    });
    output.stdout.write(`${formatReport(report)}\n`);
    if (options.json !== null) {
      writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`report written to ${options.json}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError) {
      output.stderr.write(`typevisor bench: ${error.message}\n`);
      return 2;
    }
    output.stderr.write(`typevisor bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    disk?.dispose();
  }
}
