import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BENCHMARKS, BENCHMARK_GROUPS, DEBIAN_MEMORY_MIB, GuestConsole, IN_PROCESS_START, MissingPrerequisiteError, assembleReport, benchmarkRow, debianGuest,
  measureBootToShell, parseBenchArgs, parseGroups, runSuite,
} from '@typevisor/cli/bench';
import type { GuestPlatform, GuestSession, StartLatencySample } from '@typevisor/cli/bench';

/** A platform whose guests print `output` as soon as they boot and whose start latencies are `samples`, in order. */
function scriptedPlatform(samples: StartLatencySample[], output = 'Linux booting\r\n/ # '): GuestPlatform & { stopped: number } {
  let clock = 1000;
  const platform = {
    name: 'scripted',
    description: 'a scripted platform',
    features: { virtioBlk: false, instructionCounter: false },
    stopped: 0,
    async boot(): Promise<GuestSession> {
      const console = new GuestConsole(() => undefined, () => clock);
      const startedAtMs = clock;
      clock += 2500;
      queueMicrotask(() => console.receive(new TextEncoder().encode(output)));
      return {
        console, startedAtMs, instructions: () => null,
        memoryMiB: async () => ({ rss: 0, arrayBuffers: null }),
        async stop() {
          platform.stopped++;
        },
      };
    },
    async startLatency(): Promise<StartLatencySample> {
      const sample = samples.shift();
      if (sample === undefined) throw new Error('no more scripted samples');
      return sample;
    },
  };
  return platform;
}

const log = () => undefined;

describe('start latency through the manager', () => {
  it('reports the first byte as start-latency, the prompt and in-process figures as rows of their own, and takes C′ from the first byte', async () => {
    const platform = scriptedPlatform([
      { firstByte: 0.5, prompt: 6, extra: [{ spec: IN_PROCESS_START, seconds: 3 }] },
      { firstByte: 0.7, prompt: 7, extra: [{ spec: IN_PROCESS_START, seconds: 4 }] },
      { firstByte: 0.6, prompt: 8, extra: [{ spec: IN_PROCESS_START, seconds: 5 }] },
    ]);
    const result = await runSuite(platform, { runs: 3, groups: new Set(['start']), disk: null, timeoutSeconds: 5, log });
    const rows = Object.fromEntries(result.runs.map((row) => [row.benchmark, row.runs]));
    expect(rows).toEqual({ 'start-latency': [0.5, 0.7, 0.6], 'start-latency.to-prompt': [6, 7, 8], 'start-latency.in-process-machine': [3, 4, 5] });
    expect(result.startLatencies).toEqual([0.5, 0.7, 0.6]);
  });

  it('leaves out the prompt row when the platform stops at the first byte', async () => {
    const result = await runSuite(scriptedPlatform([{ firstByte: 0.3, prompt: null }]), { runs: 1, groups: new Set(['start']), disk: null, timeoutSeconds: 5, log });
    expect(result.runs.map((row) => row.benchmark)).toEqual(['start-latency']);
  });

  it('uses the p50 of the first-byte latencies as C′ in P = R/C′', () => {
    const report = assembleReport({
      results: [{
        platform: 'typevisor', description: '', notes: [], cpuInstructions: [2e9], cpuSeconds: [100], startLatencies: [0.5, 0.7, 0.6],
        runs: [benchmarkRow('typevisor', BENCHMARKS.start, [0.5, 0.7, 0.6]), benchmarkRow('typevisor', IN_PROCESS_START, [3, 4, 5])],
      }],
      host: {},
    });
    const figures = report.model.typevisor;
    expect(figures?.r.value).toBeCloseTo(20, 6);
    // 20 MIPS over a p50 start latency of 0.6 s (histogram buckets: within 1 %), not over the in-process 4 s.
    expect(figures?.p.value).toBeGreaterThan((20 / 0.6) * 0.99);
    expect(figures?.p.value).toBeLessThan((20 / 0.6) * 1.01);
  });
});

describe('boot-debian', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('is opt-in: not in the default groups, accepted by --only', () => {
    expect(parseGroups(undefined).has('boot-debian')).toBe(false);
    expect([...parseGroups('boot-debian,start')]).toEqual(['boot-debian', 'start']);
    expect([...parseBenchArgs(['--only', 'boot-debian']).groups]).toEqual(['boot-debian']);
    expect(BENCHMARK_GROUPS as readonly string[]).not.toContain('boot-debian');
  });

  it('finds the images the build script left in its cache, or says how to build them', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-debian-'));
    expect(() => debianGuest({ TYPEVISOR_DEBIAN_CACHE: dir ?? '' })).toThrow(MissingPrerequisiteError);
    expect(() => debianGuest({ TYPEVISOR_DEBIAN_CACHE: dir ?? '' })).toThrow(/guest\/debian\/build-initramfs\.sh/);
    writeFileSync(path.join(dir, 'vmlinuz'), 'k');
    writeFileSync(path.join(dir, 'initramfs.cpio.gz'), 'i');
    writeFileSync(path.join(dir, 'KERNEL_VERSION'), '6.1.0-50-686\n');
    expect(debianGuest({ TYPEVISOR_DEBIAN_CACHE: dir })).toEqual({
      kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initramfs.cpio.gz'), cmdline: 'console=ttyS0 panic=-1', memoryMiB: DEBIAN_MEMORY_MIB, release: '6.1.0-50-686',
    });
  });

  it('times each fresh boot to its prompt and stops every guest', async () => {
    const platform = scriptedPlatform([]);
    const seconds = await measureBootToShell(platform, { runs: 2, timeoutSeconds: 5, log });
    expect(seconds).toEqual([2.5, 2.5]);
    expect(platform.stopped).toBe(2);
  });

  it('fails a boot that never reaches the prompt, and still stops the guest', async () => {
    const platform = scriptedPlatform([], 'Kernel panic - not syncing\r\n');
    await expect(measureBootToShell(platform, { runs: 1, timeoutSeconds: 0.05, log })).rejects.toThrow(/shell prompt/);
    expect(platform.stopped).toBe(1);
  });

  it('refuses a non-finite boot time', () => {
    expect(() => benchmarkRow('x', BENCHMARKS.bootDebian, [Number.NaN])).toThrow(/boot-to-shell\.debian-686/);
  });
});
