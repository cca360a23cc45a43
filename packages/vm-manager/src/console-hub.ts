/**
 * One VM's console, shared: any number of readers see every byte the guest writes; at most one
 * writer at a time may type into it. Readers that attach late get a bounded scrollback first.
 */
import { VmError } from '@typevisor/vm-protocol';

/** Bytes of guest output kept for readers that attach later. */
export const SCROLLBACK_BYTES = 64 * 1024;

/** A client's attachment to a VM console. */
export interface ConsoleSession {
  /** True when this session holds the VM's one writer slot. */
  readonly writable: boolean;
  /** Sends keyboard input to the guest; throws `invalid_request` on a read-only session. */
  write(bytes: Uint8Array): void;
  /** Stops delivering output and frees the writer slot. Idempotent. */
  detach(): void;
}

/** Fans console output out to readers and arbitrates the writer. */
export class ConsoleHub {
  readonly #readers = new Set<(bytes: Uint8Array) => void>();
  readonly #input: (bytes: Uint8Array) => void;
  #writer: object | null = null;
  #scrollback = new Uint8Array(0);

  constructor(input: (bytes: Uint8Array) => void) {
    this.#input = input;
  }

  /** Delivers guest output to every reader. */
  publish(bytes: Uint8Array): void {
    const joined = new Uint8Array(Math.min(SCROLLBACK_BYTES, this.#scrollback.length + bytes.length));
    const keepOld = joined.length - Math.min(bytes.length, joined.length);
    joined.set(this.#scrollback.subarray(this.#scrollback.length - keepOld));
    joined.set(bytes.subarray(bytes.length - (joined.length - keepOld)), keepOld);
    this.#scrollback = joined;
    for (const reader of [...this.#readers]) reader(bytes);
  }

  /** Attaches a reader (and, when `write` is set, the writer). */
  attach(onOutput: (bytes: Uint8Array) => void, options: { write?: boolean; replay?: boolean } = {}): ConsoleSession {
    const token = {};
    if (options.write) {
      if (this.#writer) throw new VmError('invalid_state', 'another client is writing to this console; attach read-only or detach it first');
      this.#writer = token;
    }
    if (options.replay && this.#scrollback.length) onOutput(this.#scrollback.slice());
    this.#readers.add(onOutput);
    let attached = true;
    return {
      writable: Boolean(options.write),
      write: (bytes) => {
        if (!attached || this.#writer !== token) throw new VmError('invalid_request', 'this console session is read-only');
        this.#input(bytes);
      },
      detach: () => {
        if (!attached) return;
        attached = false;
        this.#readers.delete(onOutput);
        if (this.#writer === token) this.#writer = null;
      },
    };
  }

  /** Detaches everyone (the VM is gone). */
  close(): void {
    this.#readers.clear();
    this.#writer = null;
  }
}
