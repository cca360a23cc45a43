/**
 * The small interfaces every device model is built from. A device sees register offsets, access
 * widths and values; everything it does to the outside world (raise an interrupt, emit bytes, read a
 * disk, send a frame, wait for time to pass) goes through one of these, handed in as a constructor
 * argument. That keeps each device usable alone and testable with fakes.
 */

/** Width of one register access in bytes. */
export type AccessSize = 1 | 2 | 4;

/**
 * A device register window, on the port-I/O bus or in an MMIO range. `offset` is relative to the start
 * of the window; the machine maps the window at a port or address. Reads never fail: a register that
 * does not exist reads as all ones for the width, the way an unclaimed bus cycle does.
 */
export interface IoRegion {
  /** Reads `size` bytes at `offset` within the window. Returns an unsigned value. */
  read(offset: number, size: AccessSize): number;
  /** Writes the low `size` bytes of `value` at `offset` within the window. */
  write(offset: number, size: AccessSize, value: number): void;
}

/**
 * An interrupt request line into an interrupt controller. Edge-triggered users raise and lower it;
 * level-triggered users hold it while the condition lasts.
 */
export interface IrqLine {
  /** Drives the line high (`true`) or low (`false`). Setting the current level again is a no-op. */
  setLevel(high: boolean): void;
}

/** A cancellable timer created by a {@link Clock}. */
export interface TimerHandle {
  /** Stops the timer. Cancelling a timer that already fired or was cancelled does nothing. */
  cancel(): void;
}

/**
 * The virtual clock of one machine, in nanoseconds since the machine was created. It may run in real
 * time or follow the instruction count (deterministic mode); devices cannot tell the difference and
 * must only ever use this clock, never the host's.
 */
export interface Clock {
  /** Current virtual time in nanoseconds (a float64; exact up to about 104 days). */
  now(): number;
  /** Calls `callback` once the virtual time reaches `deadlineNs`. */
  setTimer(deadlineNs: number, callback: () => void): TimerHandle;
}

/** A wall-clock source for the RTC: seconds since the Unix epoch at virtual time zero. */
export interface WallClock {
  /** Unix time in milliseconds that corresponds to virtual time zero. */
  epochMs(): number;
}

/**
 * A block device backend: a flat byte array of a fixed size. Backends are synchronous so that a
 * request completes in the same run-loop step in which the guest made it; a failure is reported by
 * throwing {@link BlockIoError}, which the device turns into an I/O error status for the guest.
 */
export interface BlockBackend {
  /** Size in bytes; a multiple of 512. */
  readonly size: number;
  /** When true the device refuses writes with a status the guest understands. */
  readonly readOnly: boolean;
  /** Fills `dst` from byte `offset`. */
  read(offset: number, dst: Uint8Array): void;
  /** Writes `src` at byte `offset`. */
  write(offset: number, src: Uint8Array): void;
  /** Makes every completed write durable (for a file: fsync). */
  flush(): void;
  /** Tells the backend the range no longer holds data; it may free space. Reads of it return zeros. */
  discard(offset: number, length: number): void;
  /** A stable identifier for the disk (at most 20 bytes are shown to the guest). */
  readonly id: string;
}

/** Raised by a {@link BlockBackend} when the host cannot complete an operation. */
export class BlockIoError extends Error {
  override readonly name = 'BlockIoError';
}

/** One Ethernet frame, without the FCS. */
export type EthernetFrame = Uint8Array;

/**
 * The host side of a network interface. The device calls `send` for every frame the guest transmits
 * and installs a receiver for frames that should reach the guest.
 */
export interface NetBackend {
  /** Delivers a frame from the guest to the network. The device does not reuse `frame` afterwards. */
  send(frame: EthernetFrame): void;
  /** Installs (or, with `null`, removes) the function that delivers frames to the guest. */
  setReceiver(receiver: ((frame: EthernetFrame) => void) | null): void;
}

/** A byte stream to and from the host: a terminal, a file, a socket. */
export interface CharBackend {
  /** Sends guest output to the host. */
  write(bytes: Uint8Array): void;
  /** Installs (or, with `null`, removes) the function that delivers host input to the device. */
  setReceiver(receiver: ((bytes: Uint8Array) => void) | null): void;
}

/** A source of cryptographically strong random bytes (virtio-rng). */
export interface EntropySource {
  /** Fills `dst` with random bytes. */
  fill(dst: Uint8Array): void;
}

/**
 * The saved state of one device: plain data (no class instances, typed arrays as plain number arrays
 * or base64 strings), with a version so that a newer typevisor can read an older snapshot.
 */
export interface DeviceState {
  /** Device kind, e.g. `"uart16550"` or `"virtio-blk"`. */
  readonly kind: string;
  /** Layout version of `data` for this kind. */
  readonly version: number;
  /** Device-specific state. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A device whose state can be saved into a snapshot and restored. Host resources are not saved. */
export interface Snapshottable {
  /** Captures the device's guest-visible state. */
  saveState(): DeviceState;
  /** Replaces the device's state; throws `DeviceStateError` if `state` is of another kind or version. */
  restoreState(state: DeviceState): void;
}

/** Raised when a saved device state cannot be restored. */
export class DeviceStateError extends Error {
  override readonly name = 'DeviceStateError';
}
