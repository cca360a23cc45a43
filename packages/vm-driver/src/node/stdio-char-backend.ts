import type { CharBackend } from '@typevisor/devices';

/** The escape key: Ctrl-A, as in QEMU's `-serial mon:stdio`. */
export const ESCAPE_BYTE = 0x01;

/** Minimal view of the streams this backend uses, so tests can pass fakes. */
export interface StdioStreams {
  readonly stdin: {
    readonly isTTY?: boolean;
    setRawMode?(raw: boolean): unknown;
    on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
    off(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
    resume(): unknown;
    pause(): unknown;
  };
  readonly stdout: { write(chunk: Uint8Array): unknown };
}

/** Options of {@link StdioCharBackend}. */
export interface StdioCharBackendOptions {
  /** Called when the user types Ctrl-A X. */
  readonly onQuit: () => void;
  /** Streams to use; defaults to the process's. */
  readonly streams?: StdioStreams;
}

/**
 * The host terminal as a guest console: raw mode (so Ctrl-C reaches the guest), guest output to
 * stdout. Ctrl-A is an escape: Ctrl-A X quits typevisor, Ctrl-A Ctrl-A sends one Ctrl-A to the guest,
 * anything else after Ctrl-A is dropped. Call {@link StdioCharBackend.close} to restore the terminal.
 */
export class StdioCharBackend implements CharBackend {
  private receiver: ((bytes: Uint8Array) => void) | null = null;
  private escaped = false;
  private readonly streams: StdioStreams;
  private readonly onQuit: () => void;
  private readonly onData = (chunk: Uint8Array): void => this.input(chunk);
  private listening = false;

  constructor(options: StdioCharBackendOptions) {
    this.onQuit = options.onQuit;
    this.streams = options.streams ?? { stdin: process.stdin, stdout: process.stdout };
  }

  write(bytes: Uint8Array): void {
    this.streams.stdout.write(bytes);
  }

  setReceiver(receiver: ((bytes: Uint8Array) => void) | null): void {
    this.receiver = receiver;
    const { stdin } = this.streams;
    if (receiver !== null && !this.listening) {
      if (stdin.isTTY === true) stdin.setRawMode?.(true);
      stdin.on('data', this.onData);
      stdin.resume();
      this.listening = true;
    } else if (receiver === null && this.listening) {
      this.close();
    }
  }

  /** Stops reading stdin and leaves raw mode. */
  close(): void {
    if (!this.listening) return;
    const { stdin } = this.streams;
    stdin.off('data', this.onData);
    if (stdin.isTTY === true) stdin.setRawMode?.(false);
    stdin.pause();
    this.listening = false;
  }

  private input(chunk: Uint8Array): void {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.escaped) {
        this.escaped = false;
        if (byte === 0x78 || byte === 0x58) {
          this.flush(out);
          this.onQuit();
          return;
        }
        if (byte === ESCAPE_BYTE) out.push(ESCAPE_BYTE);
      } else if (byte === ESCAPE_BYTE) {
        this.escaped = true;
      } else {
        out.push(byte);
      }
    }
    this.flush(out);
  }

  private flush(out: number[]): void {
    if (out.length > 0 && this.receiver !== null) this.receiver(Uint8Array.from(out));
  }
}
