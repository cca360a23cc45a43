/**
 * A platform the suite can measure: something that boots the default guest with its serial console
 * connected to a {@link GuestConsole}. typevisor is one (in this package); v86 and QEMU live in the
 * private bench workspace package, which implements the same interface.
 */
import type { GuestConsole } from './guest-console.js';
import type { BenchmarkSpec } from './suite.js';

/** What a platform supports beyond booting and the console. */
export interface PlatformFeatures {
  /** The guest sees a virtio-blk disk at /dev/vda (a scratch disk of {@link DISK_MIB} MiB). */
  readonly virtioBlk: boolean;
  /** The platform counts guest instructions retired (for R = C/T). */
  readonly instructionCounter: boolean;
}

/** One booted guest. */
export interface GuestSession {
  readonly console: GuestConsole;
  /** Host ms (same clock as the console) when the platform was asked to boot. */
  readonly startedAtMs: number;
  /** Guest instructions retired so far, or null when the platform does not count them. */
  instructions(): number | null;
  /**
   * Guest instructions retired so far by class (`alu`, `dataTransfer`, `branch`, `string`, `fpu`,
   * `system`), when the platform was asked to count them.
   */
  instructionMix?(): Readonly<Record<string, number>>;
  /** Host memory this guest costs right now, in MiB (resident set, and ArrayBuffer bytes when in-process). */
  memoryMiB(): Promise<{ readonly rss: number; readonly arrayBuffers: number | null }>;
  /** Stops the guest and frees what it holds. */
  stop(): Promise<void>;
}

/** One start-latency measurement, in seconds. */
export interface StartLatencySample {
  /** From "create" to the first console byte: the start latency (its p50 is C′ of P = R/C′). */
  readonly firstByte: number;
  /** From "create" to the shell prompt of the same guest, or null when the platform stops at the first byte. */
  readonly prompt: number | null;
  /** Further start figures of the same platform measured another way, each reported as its own row. */
  readonly extra?: readonly { readonly spec: BenchmarkSpec; readonly seconds: number }[];
}

/** Something that boots the default guest. */
export interface GuestPlatform {
  /** Name in reports: `typevisor`, `v86`, `qemu-tcg`. */
  readonly name: string;
  readonly features: PlatformFeatures;
  /** A human description (version, machine type) for the report's host section. */
  readonly description: string;
  /** Boots a fresh guest. `disk` is a scratch image path when the platform supports virtio-blk. */
  boot(options: { readonly disk: string | null }): Promise<GuestSession>;
  /**
   * Start latency of one fresh guest that is then stopped: from "create" to its first console byte
   * (and to its prompt where the platform waits for it).
   */
  startLatency(): Promise<StartLatencySample>;
  /**
   * Host memory of one guest at its prompt measured in a fresh process, when the platform can do that.
   * In-process platforms need it: earlier guests of the same process leave memory behind that GC
   * does not reliably give back, which makes in-process deltas meaningless after the first guest.
   */
  memoryProbe?(): Promise<{ readonly rss: number; readonly arrayBuffers: number | null }>;
}

/**
 * Resident set and ArrayBuffer memory of this process in MiB. With `--expose-gc` it first collects
 * garbage a few times across event-loop turns, so a stopped guest's buffers (freed by V8's background
 * sweeper) are gone before the count; without it the figures include whatever garbage is left.
 */
export async function processMemoryMiB(): Promise<{ rss: number; arrayBuffers: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss / 1048576, arrayBuffers: usage.arrayBuffers / 1048576 };
}
