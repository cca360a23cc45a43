/**
 * The benchmark suite on one platform: each run boots a fresh guest and measures, in order, the
 * boot to the shell prompt, host memory at the prompt, the CPU workloads, console throughput and
 * (with a disk) virtio-blk reads; start latency is measured on separate fresh guests. All times are
 * host times between console events, so every platform is measured the same way.
 */
import type { BenchmarkRuns } from '@typevisor/perf-model';
import { BenchError } from './errors.js';
import type { GuestPlatform, GuestSession } from './platform.js';
import type { Workload } from './workloads.js';
import {
  BLK_RANDOM_WORKLOAD, BLK_SEQ_WORKLOAD, CONSOLE_WORKLOAD, CPU_WORKLOADS, RANDOM_READS, SEQ_READ_MIB, SHELL_PROMPT, cleanConsoleOutput, markCommand,
} from './workloads.js';

/** The benchmark groups a run selects by default. */
export const BENCHMARK_GROUPS = ['boot', 'memory', 'cpu', 'console', 'blk', 'start'] as const;
/**
 * Groups that run only when named in `--only`, because they take long: `boot-debian` boots Debian's
 * stock `linux-image-686` to its shell (minutes in typevisor).
 */
export const OPT_IN_GROUPS = ['boot-debian'] as const;
/** One benchmark group. */
export type BenchmarkGroup = (typeof BENCHMARK_GROUPS)[number] | (typeof OPT_IN_GROUPS)[number];

/** Report names, units and directions of the benchmarks. */
export const BENCHMARKS = {
  boot: { benchmark: 'boot-to-shell', unit: 's', lowerIsBetter: true },
  rss: { benchmark: 'memory.rss-per-vm', unit: 'MiB', lowerIsBetter: true },
  arrayBuffers: { benchmark: 'memory.arraybuffers-per-vm', unit: 'MiB', lowerIsBetter: true },
  mips: { benchmark: 'cpu.guest-mips', unit: 'MIPS', lowerIsBetter: false },
  console: { benchmark: 'console.throughput', unit: 'KiB/s', lowerIsBetter: false },
  blkSeq: { benchmark: 'blk.seq-read', unit: 'MiB/s', lowerIsBetter: false },
  blkRandom: { benchmark: 'blk.rand-read-4k', unit: 'reads/s', lowerIsBetter: false },
  start: { benchmark: 'start-latency', unit: 's', lowerIsBetter: true },
  startToPrompt: { benchmark: 'start-latency.to-prompt', unit: 's', lowerIsBetter: true },
  bootDebian: { benchmark: 'boot-to-shell.debian-686', unit: 's', lowerIsBetter: true },
} as const;

/** A benchmark's report name, unit and direction. */
export interface BenchmarkSpec {
  readonly benchmark: string;
  readonly unit: string;
  readonly lowerIsBetter: boolean;
}

/** Unit of the CPU workload timings. */
export const CPU_UNIT = 's';

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Fresh guests to boot (and start-latency samples to take). */
  readonly runs: number;
  readonly groups: ReadonlySet<BenchmarkGroup>;
  /** Scratch disk image for the virtio-blk benchmarks (null: skip them). */
  readonly disk: string | null;
  /** Seconds one guest may take to reach its prompt, or one command to finish. */
  readonly timeoutSeconds: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** What one platform measured over all runs. */
export interface PlatformResult {
  readonly platform: string;
  readonly description: string;
  readonly runs: BenchmarkRuns[];
  /** Per run: guest instructions retired (C) during the CPU workloads, or null without a counter. */
  readonly cpuInstructions: number[] | null;
  /** Per run: host seconds (T) the CPU workloads took together. */
  readonly cpuSeconds: number[];
  /** Start-latency samples in seconds. */
  readonly startLatencies: number[];
  /** Benchmarks skipped and why. */
  readonly notes: string[];
}

/** The outcome of one marked command. */
export interface CommandTiming {
  readonly seconds: number;
  /** Instructions retired between the markers, or null. */
  readonly instructions: number | null;
  /** Console bytes between the markers (the command's output as the host received it). */
  readonly bytes: number;
}

let nextMarker = 0;

/**
 * Runs `workload` at the shell prompt, times it between its begin and end markers, checks its output
 * and waits for the next prompt.
 */
export async function runWorkload(session: GuestSession, workload: Workload, timeoutSeconds: number): Promise<CommandTiming> {
  const marked = markCommand(workload.command, nextMarker++);
  const { console } = session;
  console.send(marked.line);
  const begin = await console.expect(marked.begin, timeoutSeconds * 1000, `the start of ${workload.name}`);
  const beginInstructions = session.instructions();
  const end = await console.expect(marked.end, timeoutSeconds * 1000, `the end of ${workload.name}`);
  const endInstructions = session.instructions();
  workload.check(cleanConsoleOutput(end.before));
  await console.expect(SHELL_PROMPT, timeoutSeconds * 1000, `the prompt after ${workload.name}`);
  return {
    seconds: (end.atMs - begin.atMs) / 1000,
    instructions: beginInstructions === null || endInstructions === null ? null : endInstructions - beginInstructions,
    bytes: end.bytesAt - marked.end.length - begin.bytesAt,
  };
}

class RunTable {
  readonly #rows = new Map<string, BenchmarkRuns & { runs: number[] }>();
  constructor(readonly platform: string) {}

  add(spec: BenchmarkSpec, value: number): void {
    if (!Number.isFinite(value)) throw new BenchError(`${this.platform} ${spec.benchmark}: measured ${value}`);
    let row = this.#rows.get(spec.benchmark);
    if (row === undefined) {
      row = { ...spec, platform: this.platform, runs: [] };
      this.#rows.set(spec.benchmark, row);
    }
    row.runs.push(value);
  }

  rows(): BenchmarkRuns[] {
    return [...this.#rows.values()];
  }
}

/** Runs the selected benchmarks on `platform`. A failing run stops the platform with the error. */
export async function runSuite(platform: GuestPlatform, options: SuiteOptions): Promise<PlatformResult> {
  const { groups, log, timeoutSeconds } = options;
  const table = new RunTable(platform.name);
  const notes: string[] = [];
  const cpuInstructions: number[] | null = platform.features.instructionCounter ? [] : null;
  const cpuSeconds: number[] = [];
  const cpuMix = new Map<string, number>();
  const useDisk = groups.has('blk') && options.disk !== null && platform.features.virtioBlk;
  if (groups.has('blk') && !useDisk) {
    notes.push(platform.features.virtioBlk ? 'blk: no scratch disk given' : `blk: ${platform.name} has no virtio-blk device the default guest can use`);
  }
  if (groups.has('memory') && platform.memoryProbe === undefined && options.runs > 1) {
    notes.push('memory: measured in-process on the first guest only (no fresh-process probe)');
  }
  const needsGuest = ['boot', 'memory', 'cpu', 'console', 'blk'].some((g) => groups.has(g as BenchmarkGroup));

  for (let run = 1; needsGuest && run <= options.runs; run++) {
    log(`${platform.name}: run ${run}/${options.runs}: booting`);
    const session = await platform.boot({ disk: useDisk ? options.disk : null });
    try {
      const prompt = await session.console.expect(SHELL_PROMPT, timeoutSeconds * 1000, 'the shell prompt');
      const bootSeconds = (prompt.atMs - session.startedAtMs) / 1000;
      log(`${platform.name}: run ${run}: shell prompt after ${bootSeconds.toFixed(2)} s`);
      if (groups.has('boot')) table.add(BENCHMARKS.boot, bootSeconds);
      // Without a fresh-process probe only the first guest's in-process delta means anything: later
      // ones are blurred by what earlier guests left behind.
      if (groups.has('memory') && (platform.memoryProbe !== undefined || run === 1)) {
        const memory = platform.memoryProbe === undefined ? await session.memoryMiB() : await platform.memoryProbe();
        table.add(BENCHMARKS.rss, memory.rss);
        if (memory.arrayBuffers !== null) table.add(BENCHMARKS.arrayBuffers, memory.arrayBuffers);
      }
      if (groups.has('cpu')) {
        let instructions: number | null = 0;
        let seconds = 0;
        const mixBefore = session.instructionMix?.() ?? null;
        for (const workload of CPU_WORKLOADS) {
          const timing = await runWorkload(session, workload, timeoutSeconds);
          log(`${platform.name}: run ${run}: ${workload.name} ${timing.seconds.toFixed(2)} s`);
          table.add({ benchmark: workload.name, unit: CPU_UNIT, lowerIsBetter: true }, timing.seconds);
          seconds += timing.seconds;
          instructions = instructions === null || timing.instructions === null ? null : instructions + timing.instructions;
        }
        cpuSeconds.push(seconds);
        const mixAfter = session.instructionMix?.() ?? null;
        if (mixBefore !== null && mixAfter !== null) {
          for (const [name, count] of Object.entries(mixAfter)) cpuMix.set(name, (cpuMix.get(name) ?? 0) + count - (mixBefore[name] ?? 0));
        }
        if (cpuInstructions !== null && instructions !== null) {
          cpuInstructions.push(instructions);
          table.add(BENCHMARKS.mips, instructions / seconds / 1e6);
        }
      }
      if (groups.has('console')) {
        const timing = await runWorkload(session, CONSOLE_WORKLOAD, timeoutSeconds);
        table.add(BENCHMARKS.console, timing.bytes / 1024 / timing.seconds);
        log(`${platform.name}: run ${run}: console ${timing.bytes} bytes in ${timing.seconds.toFixed(2)} s`);
      }
      if (useDisk) {
        const seq = await runWorkload(session, BLK_SEQ_WORKLOAD, timeoutSeconds);
        table.add(BENCHMARKS.blkSeq, SEQ_READ_MIB / seq.seconds);
        const random = await runWorkload(session, BLK_RANDOM_WORKLOAD, timeoutSeconds);
        table.add(BENCHMARKS.blkRandom, RANDOM_READS / random.seconds);
        log(`${platform.name}: run ${run}: blk seq ${seq.seconds.toFixed(2)} s, ${RANDOM_READS} random reads ${random.seconds.toFixed(2)} s`);
      }
    } finally {
      await session.stop();
    }
  }

  const mixNote = instructionMixNote(cpuMix);
  if (mixNote !== null) notes.push(mixNote);

  const startLatencies: number[] = [];
  if (groups.has('start')) {
    for (let run = 1; run <= options.runs; run++) {
      const sample = await platform.startLatency();
      const extras = sample.extra ?? [];
      log(`${platform.name}: start latency ${run}/${options.runs}: ${(sample.firstByte * 1000).toFixed(0)} ms to the first byte` +
        `${sample.prompt === null ? '' : `, ${sample.prompt.toFixed(2)} s to the prompt`}${extras.map((e) => `, ${e.spec.benchmark} ${(e.seconds * 1000).toFixed(0)} ms`).join('')}`);
      startLatencies.push(sample.firstByte);
      table.add(BENCHMARKS.start, sample.firstByte);
      if (sample.prompt !== null) table.add(BENCHMARKS.startToPrompt, sample.prompt);
      for (const extra of extras) table.add(extra.spec, extra.seconds);
    }
  }
  return { platform: platform.name, description: platform.description, runs: table.rows(), cpuInstructions, cpuSeconds, startLatencies, notes };
}

/** "cpu instruction mix: alu 41.2%, ..." over the CPU workloads of every run, or null when not counted. */
export function instructionMixNote(mix: ReadonlyMap<string, number>): string | null {
  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const shares = [...mix].map(([name, count]) => `${name} ${(100 * count / total).toFixed(1)}%`);
  return `cpu: instruction mix of the CPU workloads (${(total / 1e6).toFixed(0)} M instructions): ${shares.join(', ')}`;
}

/**
 * Boots `platform`'s guest `runs` times, each fresh, and returns the seconds from asking it to start
 * to its shell prompt: the boot benchmark alone, for guests (like the Debian kernel) that run nothing
 * else.
 */
export async function measureBootToShell(platform: GuestPlatform, options: Pick<SuiteOptions, 'runs' | 'timeoutSeconds' | 'log'>): Promise<number[]> {
  const seconds: number[] = [];
  for (let run = 1; run <= options.runs; run++) {
    options.log(`${platform.name}: boot ${run}/${options.runs}: booting`);
    const session = await platform.boot({ disk: null });
    try {
      const prompt = await session.console.expect(SHELL_PROMPT, options.timeoutSeconds * 1000, 'the shell prompt');
      seconds.push((prompt.atMs - session.startedAtMs) / 1000);
      options.log(`${platform.name}: boot ${run}: shell prompt after ${(seconds[seconds.length - 1] ?? 0).toFixed(2)} s`);
    } finally {
      await session.stop();
    }
  }
  return seconds;
}

/** One row of `spec` with the values `runs` measured on `platform`, for a {@link PlatformResult}. */
export function benchmarkRow(platform: string, spec: BenchmarkSpec, runs: number[]): BenchmarkRuns {
  for (const value of runs) if (!Number.isFinite(value)) throw new BenchError(`${platform} ${spec.benchmark}: measured ${value}`);
  return { ...spec, platform, runs };
}
