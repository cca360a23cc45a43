/**
 * What the worker needs from one machine. The real implementation adapts `@typevisor/vm-driver`'s
 * Machine; tests use fakes. Everything here runs inside the VM's own worker.
 */
import type { VmConfig } from '@typevisor/vm-protocol';
import type { SnapshotContent } from '../snapshot/snapshot-file.js';

/** Something the machine tells the manager. */
export type DriverEvent =
  | { readonly kind: 'console'; readonly bytes: Uint8Array }
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'tripleFault'; readonly eip: number }
  | { readonly kind: 'guestPanic'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

/** The host end of one guest NIC: frames cross the worker boundary through it. */
export interface FramePort {
  send(frame: Uint8Array): void;
  setReceiver(receiver: ((frame: Uint8Array) => void) | null): void;
}

/** One machine, driven by the worker. */
export interface VmDriverPort {
  start(): void;
  pause(): void;
  resume(): void;
  stop(): void;
  reboot(): void;
  sendCtrlAltDel(): void;
  consoleInput(bytes: Uint8Array): void;
  resizeConsole(cols: number, rows: number): void;
  /** The machine's state; called only while paused. */
  snapshot(): SnapshotContent;
  instructionsRetired(): number;
  onEvent(listener: (event: DriverEvent) => void): void;
}

/** Builds a machine from a configuration, optionally restoring saved state into it (then paused). */
export type DriverFactory = (config: VmConfig, nets: readonly FramePort[], restore?: SnapshotContent) => Promise<VmDriverPort> | VmDriverPort;
