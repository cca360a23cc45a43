import { parseArgs } from 'node:util';
import { CliUsageError } from '../errors.js';
import { BENCHMARK_GROUPS, OPT_IN_GROUPS } from './suite.js';
import type { BenchmarkGroup } from './suite.js';

/** Parsed `typevisor bench` options. */
export interface BenchOptions {
  /** Fresh guests per platform (median with min–max over them). */
  readonly runs: number;
  readonly groups: ReadonlySet<BenchmarkGroup>;
  /** Where to write the JSON report, or null. */
  readonly json: string | null;
  readonly kernel: string | null;
  readonly initrd: string | null;
  readonly append: string | null;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly quiet: boolean;
  /** Count typevisor's retired instructions by class during the CPU workloads (report notes). */
  readonly instructionMix: boolean;
  readonly help: boolean;
}

/** Help text of `typevisor bench`. */
export const BENCH_HELP = `Usage: typevisor bench [options]

Boots the default guest (guest/images) in typevisor several times and measures boot to the shell
prompt, host memory per VM, the CPU workloads (sha256sum of 16 MiB, an awk loop), console
throughput, virtio-blk reads and start latency; prints the perf-model table (median, min-max, R/P).
v86, QEMU and native comparisons: the scripts in bench/ (docs/benchmarks.md).

Options:
  --runs N           fresh guests per benchmark (default 3)
  --only LIST        comma-separated groups: ${BENCHMARK_GROUPS.join(',')} (default all of
                     these), or ${OPT_IN_GROUPS.join(',')}: Debian's stock linux-image-686 booted to
                     its shell (slow: minutes; build it first with guest/debian/build-initramfs.sh)
  --json FILE        also write the report (schema typevisor.bench/1) to FILE
  --kernel FILE      guest kernel (default: the default guest's bzImage)
  --initrd FILE      guest initrd (default: the default guest's initramfs.cpio.gz)
  --append TEXT      kernel command line (default: console=ttyS0 panic=-1)
  --mem MIB          guest RAM in MiB (default 128)
  --timeout SECONDS  longest boot or single command (default 900)
  --instruction-mix  count typevisor's retired instructions by class (ALU, data transfer, branch,
                     string, x87, system) during the CPU workloads and add the mix to the report's
                     notes; costs typevisor a few percent of guest speed
  --quiet            no progress lines on stderr
  -h, --help         this help
`;

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new CliUsageError(flag, `"${text}" is not a positive whole number`);
  return value;
}

/** Parses the groups of `--only` (comma-separated); without it, every group except the opt-in ones. */
export function parseGroups(text: string | undefined): ReadonlySet<BenchmarkGroup> {
  if (text === undefined) return new Set(BENCHMARK_GROUPS);
  const known: readonly string[] = [...BENCHMARK_GROUPS, ...OPT_IN_GROUPS];
  const groups = new Set<BenchmarkGroup>();
  for (const name of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!known.includes(name)) {
      throw new CliUsageError('--only', `unknown benchmark group "${name}"; choose from ${known.join(', ')}`);
    }
    groups.add(name as BenchmarkGroup);
  }
  if (groups.size === 0) throw new CliUsageError('--only', 'names no benchmark group');
  return groups;
}

/** Parses the arguments after `typevisor bench`. Throws {@link CliUsageError} naming the bad flag. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        runs: { type: 'string' },
        only: { type: 'string' },
        json: { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        append: { type: 'string' },
        mem: { type: 'string' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean' },
        'instruction-mix': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliUsageError('bench', `${(error as Error).message} (typevisor bench --help)`);
  }
  return {
    runs: positiveInteger('--runs', values.runs, 3),
    groups: parseGroups(values.only),
    json: values.json ?? null,
    kernel: values.kernel ?? null,
    initrd: values.initrd ?? null,
    append: values.append ?? null,
    memoryMiB: positiveInteger('--mem', values.mem, 128),
    timeoutSeconds: positiveInteger('--timeout', values.timeout, 900),
    quiet: values.quiet ?? false,
    instructionMix: values['instruction-mix'] ?? false,
    help: values.help ?? false,
  };
}
