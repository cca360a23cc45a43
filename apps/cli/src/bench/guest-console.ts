/**
 * The benchmark's view of a guest's serial console: bytes arrive from any platform (typevisor, v86,
 * QEMU), the harness waits for marker strings and types commands. Every wait has a deadline, so a
 * guest that hangs fails the benchmark with a message instead of hanging the host.
 */
import { BenchError } from './errors.js';

/** A string seen on the console, and when. */
export interface ConsoleMatch {
  /** Host milliseconds (the console's clock) when the byte completing the match arrived. */
  readonly atMs: number;
  /** Everything the guest printed between the previous match and this one. */
  readonly before: string;
  /** Console bytes received in total up to and including the match. */
  readonly bytesAt: number;
}

interface Waiter {
  readonly needle: string;
  readonly what: string;
  readonly resolve: (match: ConsoleMatch) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Collects console output and answers "when did the guest print X". Bytes are decoded as Latin-1
 * (one char per byte) so byte counts stay exact. Only one wait may be pending at a time, which is
 * how a console conversation goes anyway.
 */
export class GuestConsole {
  #text = '';
  #scanFrom = 0;
  #bytes = 0;
  #firstByteAtMs: number | null = null;
  #waiter: Waiter | null = null;
  #closed: string | null = null;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #now: () => number;

  /**
   * @param send delivers typed bytes to the guest's console input.
   * @param now the host clock in milliseconds (default `performance.now`).
   */
  constructor(send: (bytes: Uint8Array) => void, now: () => number = () => performance.now()) {
    this.#send = send;
    this.#now = now;
  }

  /** Console bytes received so far. */
  get bytesReceived(): number {
    return this.#bytes;
  }

  /** When the first byte arrived (host ms), or null. */
  get firstByteAtMs(): number | null {
    return this.#firstByteAtMs;
  }

  /** Everything received and not yet consumed by a match (for error messages and logs). */
  get pending(): string {
    return this.#text;
  }

  /** Feeds bytes the guest wrote. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#firstByteAtMs === null) this.#firstByteAtMs = this.#now();
    this.#bytes += bytes.length;
    let chunk = '';
    for (let i = 0; i < bytes.length; i += 4096) chunk += String.fromCharCode(...bytes.subarray(i, i + 4096));
    this.#text += chunk;
    const waiter = this.#waiter;
    // Only search when the chunk could complete the needle: bulk output (the console throughput test)
    // then costs one includes() per chunk instead of a scan of the whole buffer.
    if (waiter !== null && chunk.includes(waiter.needle[waiter.needle.length - 1])) this.#check(waiter);
  }

  /** Types `text` on the guest console. */
  send(text: string): void {
    if (this.#closed !== null) throw new BenchError(`cannot type on a closed console (${this.#closed})`);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    this.#send(bytes);
  }

  /**
   * Resolves when `needle` appears in output not consumed yet; consumes the output up to its end.
   * Rejects after `timeoutMs` or when the console closes (the guest or its process ended).
   */
  expect(needle: string, timeoutMs: number, what: string = JSON.stringify(needle)): Promise<ConsoleMatch> {
    if (needle.length === 0) throw new BenchError('expect() needs a non-empty string to wait for');
    if (this.#waiter !== null) throw new BenchError(`already waiting for ${this.#waiter.what}; waits are one at a time`);
    if (this.#closed !== null) return Promise.reject(new BenchError(`console closed (${this.#closed}) before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new BenchError(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}; last output: ${JSON.stringify(this.#text.slice(-300))}`));
      }, timeoutMs);
      this.#waiter = { needle, what, resolve, reject, timer };
      this.#check(this.#waiter);
    });
  }

  /** Ends the conversation: a pending wait fails with `reason`. */
  close(reason: string): void {
    if (this.#closed !== null) return;
    this.#closed = reason;
    const waiter = this.#waiter;
    if (waiter === null) return;
    this.#waiter = null;
    clearTimeout(waiter.timer);
    waiter.reject(new BenchError(`console closed (${reason}) while waiting for ${waiter.what}; last output: ${JSON.stringify(this.#text.slice(-300))}`));
  }

  #check(waiter: Waiter): void {
    const at = this.#text.indexOf(waiter.needle, Math.max(0, this.#scanFrom - waiter.needle.length));
    if (at < 0) {
      this.#scanFrom = this.#text.length;
      return;
    }
    const end = at + waiter.needle.length;
    const before = this.#text.slice(0, at);
    // Bytes after the match that are already here were received before it was noticed.
    const bytesAt = this.#bytes - (this.#text.length - end);
    this.#text = this.#text.slice(end);
    this.#scanFrom = 0;
    this.#waiter = null;
    clearTimeout(waiter.timer);
    waiter.resolve({ atMs: this.#now(), before, bytesAt });
  }
}
