/**
 * What the benchmarks type into the guest's busybox shell, and how their output is checked. The same
 * commands run on every platform (and natively, through the same busybox binary), so the timings
 * compare like with like; each result is checked, so a broken guest cannot produce a fast number.
 */
import { BenchError } from './errors.js';

/** The default guest's shell prompt (PS1 `\w \$ ` in `/` as root). */
export const SHELL_PROMPT = '/ # ';

/** Text the default guest's /init prints just before starting the shell. */
export const GUEST_BANNER = 'typevisor guest ready';

/** A command wrapped in begin/end markers, and the marker strings to wait for. */
export interface MarkedCommand {
  /** The line to type (with its trailing newline). */
  readonly line: string;
  /** What the guest prints right before the command's output. */
  readonly begin: string;
  /** What the guest prints right after the command's output. */
  readonly end: string;
}

/**
 * Wraps `command` so its output can be cut out of the console stream. The markers are computed by the
 * shell (`$((id+1))`), so the echo of the typed line, which may be wrapped by line editing, never
 * matches them.
 */
export function markCommand(command: string, id: number): MarkedCommand {
  if (!Number.isInteger(id) || id < 0) throw new BenchError(`marker id must be a non-negative integer, got ${id}`);
  if (command.includes('\n')) throw new BenchError('a marked command must be one line');
  const shown = id + 1;
  return {
    line: `echo @@B${id}+1=$((${id}+1))@@; ${command}; echo @@E${id}+1=$((${id}+1))@@\n`,
    begin: `@@B${id}+1=${shown}@@`,
    end: `@@E${id}+1=${shown}@@`,
  };
}

/** Removes the carriage returns a tty adds (onlcr) and kernel log lines the console interleaves. */
export function cleanConsoleOutput(text: string): string {
  return text.replace(/\r/g, '').replace(/^\[ *\d+\.\d+\] .*\n/gm, '');
}

/** A guest command with a known answer. */
export interface Workload {
  /** Benchmark name in the report. */
  readonly name: string;
  /** The busybox shell command (runs in the guest, and natively under `busybox sh -c`). */
  readonly command: string;
  /** Throws when `output` (the cleaned text between the markers) is not the known answer. */
  check(output: string): void;
}

function expectLine(name: string, output: string, wanted: string): void {
  if (!output.split('\n').some((line) => line.trim().startsWith(wanted))) {
    throw new BenchError(`${name}: expected a line starting with ${wanted}, got ${JSON.stringify(output.slice(0, 400))}`);
  }
}

/** SHA-256 of 16 MiB of zero bytes (what `sha256sum` must print). */
export const SHA256_OF_16MIB_ZEROS = '080acf35a507ac9849cfcba47dc2ad83e01b75663a516279c8b9d243b719643e';

/** Sum of i² for 0 <= i < n, as the decimal awk prints (exact below 2^53). */
export function sumOfSquares(n: number): string {
  const big = BigInt(n);
  return (((big - 1n) * big * (2n * big - 1n)) / 6n).toString();
}

/** Iterations of the awk loop. */
export const AWK_ITERATIONS = 300_000;

/** The CPU workloads: hashing (integer, memory, pipes) and an interpreter loop (floating point). */
export const CPU_WORKLOADS: readonly Workload[] = [
  {
    name: 'cpu.sha256-16MiB',
    command: 'dd if=/dev/zero bs=1M count=16 2>/dev/null | sha256sum',
    check: (output) => expectLine('cpu.sha256-16MiB', output, SHA256_OF_16MIB_ZEROS),
  },
  {
    name: 'cpu.awk-loop',
    command: `awk 'BEGIN{s=0;for(i=0;i<${AWK_ITERATIONS};i++)s+=i*i;print s}'`,
    check: (output) => expectLine('cpu.awk-loop', output, sumOfSquares(AWK_ITERATIONS)),
  },
];

/** Bytes `yes` writes to the console in the throughput test (before the tty's \n -> \r\n). */
export const CONSOLE_BYTES = 256 * 1024;

/** Floods the console: `CONSOLE_BYTES` of "y\n". The host counts what arrives. */
export const CONSOLE_WORKLOAD: Workload = {
  name: 'console.throughput',
  command: `yes | head -c ${CONSOLE_BYTES}`,
  check(output) {
    const lines = output.split('\n').filter((line) => line === 'y').length;
    // Kernel messages could replace a few lines; losing more means the console dropped output.
    if (lines < (CONSOLE_BYTES / 2) * 0.99) throw new BenchError(`console.throughput: expected ${CONSOLE_BYTES / 2} lines of "y", got ${lines}`);
  },
};

/** Size of the scratch disk the block benchmarks read (MiB). */
export const DISK_MIB = 64;
/** MiB read sequentially (from the start of the disk). */
export const SEQ_READ_MIB = 32;
/** 4 KiB random reads per run (in the second half of the disk, which the sequential test did not cache). */
export const RANDOM_READS = 64;

/**
 * Deterministic 4 KiB block numbers in the second half of the disk, all different (a
 * multiplicative-congruential walk), so random reads cannot be served from the guest's page cache.
 */
export function randomBlocks(count: number, diskMiB: number = DISK_MIB, seed = 12345): number[] {
  const blocksPerHalf = (diskMiB * 256) / 2;
  if (count > blocksPerHalf) throw new BenchError(`cannot pick ${count} different blocks in ${blocksPerHalf}`);
  const seen = new Set<number>();
  let state = seed >>> 0;
  while (seen.size < count) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    seen.add(blocksPerHalf + (state % blocksPerHalf));
  }
  return [...seen];
}

/** Sequential read of the virtio-blk disk /dev/vda. */
export const BLK_SEQ_WORKLOAD: Workload = {
  name: 'blk.seq-read',
  command: `dd if=/dev/vda of=/dev/null bs=1M count=${SEQ_READ_MIB} 2>&1 | grep -c records`,
  check: (output) => expectLine('blk.seq-read', output, '2'),
};

/** Random 4 KiB reads of /dev/vda, one `dd` process per read (busybox has no fio). */
export const BLK_RANDOM_WORKLOAD: Workload = {
  name: 'blk.rand-read-4k',
  command: `n=0; for b in ${randomBlocks(RANDOM_READS).join(' ')}; do dd if=/dev/vda of=/dev/null bs=4k count=1 skip=$b 2>/dev/null && n=$((n+1)); done; echo reads=$n`,
  check: (output) => expectLine('blk.rand-read-4k', output, `reads=${RANDOM_READS}`),
};
