import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../../../../guest/debian/build-initramfs.sh', import.meta.url));
/** build-initramfs.sh's exit status for "cannot be had on this machine right now" (EX_TEMPFAIL). */
const EXIT_UNAVAILABLE = 75;
/** coreutils timeout's exit status when the time ran out, and when it had to SIGKILL. */
const EXIT_TIMED_OUT = 124;
const EXIT_KILLED = 137;

/** The Debian guest: where its kernel and initramfs are, or why there is none. */
export type DebianGuest =
  | { readonly available: true; readonly cache: string; readonly release: string; readonly seconds: number }
  | { readonly available: false; readonly reason: string };

/**
 * Downloads (once, into `cache`) Debian's linux-image-686 and busybox-static for i386 and builds the
 * busybox initramfs, through guest/debian/build-initramfs.sh. The script reports what this machine
 * cannot provide — an unreachable archive, a missing host package or i386 architecture that only
 * root could add, an unwritable cache — with its own exit status, and so does running out of
 * `timeoutMs` (an archive that does not answer); those become `available: false` with the reason.
 * Any other failure is a bug and throws with the script's output.
 */
export function prepareDebianGuest(cache: string, timeoutMs: number): DebianGuest {
  const started = Date.now();
  // coreutils timeout signals the script's whole process group, apt-get's children included, so a
  // stuck download does not outlive the test holding apt's locks; spawnSync's own limit is a backstop.
  const seconds = Math.ceil(timeoutMs / 1000);
  const result = spawnSync('timeout', ['--kill-after=10', String(seconds), 'bash', BUILD_SCRIPT], {
    encoding: 'utf8', env: { ...process.env, TYPEVISOR_DEBIAN_CACHE: cache }, timeout: timeoutMs + 30_000, killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = result.stderr ?? '';
  const timedOut = result.status === EXIT_TIMED_OUT || (result.status === EXIT_KILLED && Date.now() - started >= timeoutMs)
    || (result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT');
  if (timedOut) {
    return { available: false, reason: `build-initramfs.sh did not finish in ${seconds} s (a slow or silent Debian archive?); its last output: ${lastLine(stderr)}` };
  }
  if (result.error !== undefined) return { available: false, reason: `cannot run timeout/bash ${BUILD_SCRIPT}: ${result.error.message}` };
  if (result.status === EXIT_UNAVAILABLE) {
    return { available: false, reason: lastLine(stderr).replace(/^UNAVAILABLE \[build-initramfs\]: /, '') };
  }
  if (result.status !== 0) {
    throw new Error(`guest/debian/build-initramfs.sh failed (exit ${result.status ?? result.signal}):\n${stderr}`);
  }
  const release = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  return { available: true, cache, release, seconds: (Date.now() - started) / 1000 };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() || '(none)';
}
