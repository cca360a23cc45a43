/**
 * The benchmark suite: the default guest on typevisor, v86 and QEMU (TCG), and its busybox natively.
 *
 *   node --expose-gc bench/dist/run.mjs --platforms typevisor,v86,qemu,native --runs 3 --out report.json
 *
 * Checks prerequisites and says how to get what is missing; installs nothing (bench/setup.sh does).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport } from '@typevisor/perf-model';
import {
  BENCHMARKS, BENCHMARK_GROUPS, MissingPrerequisiteError, OPT_IN_GROUPS, SHELL_PROMPT, assembleReport, benchGuest, benchmarkRow, createScratchDisk, debianGuest,
  hostFacts, measureBootToShell, parseGroups, runSuite, startLatencyMethod, typevisorPlatform,
} from '@typevisor/cli/bench';
import type { DebianGuest, GuestPlatform, PlatformResult } from '@typevisor/cli/bench';
import { tuneEngineForGuests } from '@typevisor/vm-driver/node';
import { appendHistory } from './history.js';
import { prepareNativeBusybox, runNative } from './native-platform.js';
import { qemuPlatform } from './qemu-platform.js';
import type { QemuMachine } from './qemu-platform.js';
import { v86Platform } from './v86-platform.js';

const PLATFORMS = ['typevisor', 'v86', 'qemu', 'native'] as const;
type PlatformName = (typeof PLATFORMS)[number];

const HELP = `Usage: node --expose-gc bench/dist/run.mjs [options]   (build first: node bench/build.mjs)

  --platforms LIST     comma-separated: ${PLATFORMS.join(',')} (default all)
  --runs N             fresh guests per platform (default 3)
  --only LIST          benchmark groups: ${BENCHMARK_GROUPS.join(',')} (default all of these),
                       or the opt-in ${OPT_IN_GROUPS.join(',')} (Debian's stock linux-image-686 to its
                       shell; slow: minutes per boot in typevisor; guest/debian/build-initramfs.sh)
  --out FILE           write the JSON report (schema typevisor.bench/1)
  --history FILE       append the report to this history (e.g. docs/bench-history.json)
  --qemu-machine M     microvm (default; has virtio-blk) or pc
  --timeout SECONDS    longest boot or single command (default 900)
`;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      platforms: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' }, out: { type: 'string' }, history: { type: 'string' },
      'qemu-machine': { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      // Internal: boot one guest of this platform, print its memory at the prompt as JSON, exit.
      'memory-probe': { type: 'string' },
    },
  });
  const platforms = (values.platforms ?? PLATFORMS.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const p of platforms) if (!(PLATFORMS as readonly string[]).includes(p)) throw new Error(`--platforms: unknown platform "${p}"; choose from ${PLATFORMS.join(', ')}`);
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: "${values.runs}" is not a positive whole number`);
  const timeout = Number(values.timeout ?? 900);
  if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`--timeout: "${values.timeout}" is not a positive whole number`);
  const qemuMachine = values['qemu-machine'] ?? 'microvm';
  if (qemuMachine !== 'microvm' && qemuMachine !== 'pc') throw new Error(`--qemu-machine: use microvm or pc, not "${qemuMachine}"`);
  return {
    platforms: platforms as PlatformName[], runs, groups: parseGroups(values.only), out: values.out ?? null, history: values.history ?? null,
    qemuMachine: qemuMachine as QemuMachine, timeout, help: values.help ?? false, memoryProbe: values['memory-probe'] ?? null,
  };
}

/** Runs this script again with `--memory-probe` so one guest's memory is measured in a fresh process. */
function memoryInChild(platform: string): Promise<{ rss: number; arrayBuffers: number | null }> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', script, '--platforms', platform === 'typevisor' ? 'typevisor' : platform, '--memory-probe', platform],
      { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`memory probe of ${platform} failed: ${stderr.trim() || error.message}`));
        resolve(JSON.parse(stdout) as { rss: number; arrayBuffers: number | null });
      });
  });
}

/** The `--memory-probe` mode: boot one guest, wait for its prompt, print its memory as JSON. */
async function probeMemory(platforms: GuestPlatform[], name: string, timeoutSeconds: number): Promise<number> {
  const platform = platforms.find((p) => p.name === name);
  if (platform === undefined) throw new Error(`--memory-probe ${name}: that platform is not selected`);
  const session = await platform.boot({ disk: null });
  try {
    await session.console.expect(SHELL_PROMPT, timeoutSeconds * 1000, 'the shell prompt');
    process.stdout.write(JSON.stringify(await session.memoryMiB()));
  } finally {
    await session.stop();
  }
  return 0;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const loadAtStart = Math.round(os.loadavg()[0] * 100) / 100;
  const guest = benchGuest({ kernel: null, initrd: null, append: null, memoryMiB: 128 });
  const workerUrl = new URL('./driver-worker.mjs', import.meta.url);
  const typevisorOptions = { guest, managerWorkerUrl: existsSync(fileURLToPath(workerUrl)) ? workerUrl : null };
  // As the typevisor command does (its bench command runs in a process tuned the same way). The
  // flags are process-wide, so v86's JavaScript in this process runs with them too.
  const engineFlags = options.platforms.includes('typevisor') ? tuneEngineForGuests() : [];

  // Prerequisites first, all of them, so a missing one is reported before an hour of benchmarks.
  const platforms: GuestPlatform[] = [];
  const debianPlatforms: GuestPlatform[] = [];
  let debian: DebianGuest | null = null;
  let native: ReturnType<typeof prepareNativeBusybox> | null = null;
  const missing: string[] = [];
  for (const name of options.platforms) {
    try {
      if (name === 'typevisor') platforms.push(typevisorPlatform(typevisorOptions));
      if (name === 'v86') platforms.push(await v86Platform(guest));
      if (name === 'qemu') platforms.push(qemuPlatform(guest, options.qemuMachine));
      if (name === 'native') native = prepareNativeBusybox(guest);
      if (options.groups.has('boot-debian') && name !== 'native') {
        debian ??= debianGuest();
        if (name === 'typevisor') debianPlatforms.push(typevisorPlatform({ guest: debian, managerWorkerUrl: null }));
        if (name === 'v86') debianPlatforms.push(await v86Platform(debian));
        if (name === 'qemu') debianPlatforms.push(qemuPlatform(debian, options.qemuMachine));
      }
    } catch (error) {
      if (!(error instanceof MissingPrerequisiteError)) throw error;
      missing.push(`${name}: ${error.message}`);
    }
  }
  if (missing.length > 0) {
    process.stderr.write(`bench: prerequisites missing (run bash bench/setup.sh, see docs/benchmarks.md):\n${missing.map((m) => `  - ${m}`).join('\n')}\n`);
    native?.dispose();
    return 2;
  }
  if (options.memoryProbe !== null) return probeMemory(platforms, options.memoryProbe, options.timeout);
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') log('note: run node with --expose-gc for steadier per-VM memory figures');
  for (const platform of platforms) if (platform.name === 'typevisor' || platform.name === 'v86') platform.memoryProbe = () => memoryInChild(platform.name);

  const disk = options.groups.has('blk') ? createScratchDisk() : null;
  const results: PlatformResult[] = [];
  try {
    for (const platform of platforms) {
      results.push(await runSuite(platform, { runs: options.runs, groups: options.groups, disk: disk?.path ?? null, timeoutSeconds: options.timeout, log }));
    }
    if (native !== null) results.push(await runNative(native, options.runs, { cpu: options.groups.has('cpu'), start: options.groups.has('start'), log }));
    for (const platform of debianPlatforms) {
      const result = results.find((r) => r.platform === platform.name);
      if (result === undefined) throw new Error(`boot-debian: no result row for ${platform.name}`);
      try {
        const seconds = await measureBootToShell(platform, { runs: options.runs, timeoutSeconds: options.timeout, log });
        result.runs.push(benchmarkRow(platform.name, BENCHMARKS.bootDebian, seconds));
        result.notes.push(`boot-debian on ${platform.description}`);
      } catch (error) {
        // One platform failing to boot this kernel must not lose the others' numbers.
        const reason = error instanceof Error ? error.message : String(error);
        log(`${platform.name}: boot-debian failed: ${reason}`);
        result.notes.push(`boot-debian: failed: ${reason}`);
      }
    }
  } finally {
    disk?.dispose();
    native?.dispose();
  }
  const report = assembleReport({
    results,
    host: {
      ...hostFacts(), loadAverage1mAtStart: loadAtStart, commit: gitCommit(), runs: options.runs,
      guest: `${guest.kernel.replace(/.*\/guest\//, 'guest/')} + initramfs.cpio.gz (${guest.cmdline}), ${guest.memoryMiB} MiB`,
      'typevisor.startLatency': startLatencyMethod(typevisorOptions),
      ...(engineFlags.length === 0 ? {} : { 'typevisor.v8Flags': `${engineFlags.join(' ')} (process-wide, set at run time as the typevisor command does)` }),
      ...(debian === null ? {} : {
        'guest.debian': `Debian linux-image-${debian.release} (${debian.kernel}) + busybox initramfs (${debian.initrd}), ${debian.cmdline}, ${debian.memoryMiB} MiB; ` +
          'boot-to-shell.debian-686 is measured like boot-to-shell',
      }),
      ...(options.platforms.includes('qemu') ? { 'note.qemu-tcg.model': 'no R/P/Q: QEMU TCG exposes no retired-instruction count (only with -icount, which changes its timing)' } : {}),
    },
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (options.out !== null) {
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    log(`report written to ${options.out}`);
  }
  if (options.history !== null) log(`history ${options.history}: ${appendHistory(options.history, report)} reports`);
  return 0;
}

main().then((status) => process.exit(status), (error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
