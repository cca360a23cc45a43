/**
 * The real machine behind a VM worker: builds a `@typevisor/vm-driver` Machine from a protocol
 * `VmConfig` (reading the kernel, initrd and disks from host paths) and adapts it to the worker's
 * {@link VmDriverPort}. Reboot rebuilds the machine from the same configuration (a cold reset) while
 * the console session goes on.
 */
import { readFileSync } from 'node:fs';
// typevisor-allow-import: the guest's entropy source and the frame type of a NIC come from the devices package
import { CryptoEntropySource, type CharBackend } from '@typevisor/devices';
import { Machine, type MachineConfig, type MachineSnapshot } from '@typevisor/vm-driver';
import { DefaultGuestNotFoundError, FileBlockBackend, findDefaultGuest } from '@typevisor/vm-driver/node';
import { VmError, type VmConfig } from '@typevisor/vm-protocol';
import type { SnapshotContent } from '../snapshot/snapshot-file.js';
import { PanicDetector } from './panic-detector.js';
import type { DriverEvent, DriverFactory, FramePort, VmDriverPort } from './vm-driver-port.js';

function readHostFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new VmError('invalid_request', `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function parseMac(mac: string | undefined): Uint8Array | undefined {
  return mac === undefined ? undefined : Uint8Array.from(mac.split(':'), (h) => parseInt(h, 16));
}

/** Builds the vm-driver configuration for a protocol config; host files are opened here. */
function machineConfig(config: VmConfig, nets: readonly FramePort[], serial: CharBackend): MachineConfig {
  const guest = config.kernel === undefined ? findDefaultGuest() : null;
  const kernelPath = config.kernel ?? guest?.kernel;
  const initrdPath = config.initrd ?? (config.kernel === undefined ? guest?.initrd : undefined);
  const base: MachineConfig = {
    memorySize: config.memoryMiB * 1024 * 1024,
    cmdline: config.cmdline ?? guest?.cmdline ?? 'console=ttyS0 panic=-1',
    serial,
    entropy: new CryptoEntropySource(),
    clock: config.clock ?? 'realtime',
    disks: (config.disks ?? []).map((d) => ({ backend: FileBlockBackend.open(d.path, { readOnly: d.readOnly ?? false }) })),
    nets: nets.map((port, i) => {
      const mac = parseMac(config.nets?.[i]?.mac);
      return mac === undefined ? { backend: port } : { backend: port, mac };
    }),
  };
  const withKernel = kernelPath === undefined ? base : { ...base, kernel: readHostFile(kernelPath, 'kernel') };
  const withInitrd = initrdPath === undefined ? withKernel : { ...withKernel, initrd: readHostFile(initrdPath, 'initrd') };
  return config.bios === undefined ? withInitrd : { ...withInitrd, firmware: readHostFile(config.bios, 'firmware') };
}

/** Creates machines for the VM worker. */
export const machineDriverFactory: DriverFactory = (config, nets, restore) => {
  const listeners: ((event: DriverEvent) => void)[] = [];
  const emit = (event: DriverEvent) => listeners.forEach((l) => l(event));
  let input: ((bytes: Uint8Array) => void) | null = null;
  const panics = new PanicDetector((message) => emit({ kind: 'guestPanic', message }));
  const serial: CharBackend = {
    write: (bytes: Uint8Array) => {
      emit({ kind: 'console', bytes: bytes.slice() });
      panics.scan(bytes);
    },
    setReceiver: (receiver: ((bytes: Uint8Array) => void) | null) => {
      input = receiver;
    },
  };
  let stopping = false;
  const build = (): Machine => {
    let machine: Machine;
    try {
      machine = new Machine(machineConfig(config, nets, serial));
    } catch (error) {
      if (error instanceof DefaultGuestNotFoundError) throw new VmError('invalid_request', error.message);
      throw VmError.from(error, 'invalid_request');
    }
    machine.on((event) => {
      if (event.type !== 'exit' || stopping || current !== machine) return;
      const exit = event.exit;
      switch (exit.reason) {
        case 'poweroff':
        case 'reset':
        case 'stopped':
          emit({ kind: 'exited', code: 0 });
          break;
        case 'debug-exit':
          emit({ kind: 'exited', code: exit.exitCode });
          break;
        case 'triple-fault':
          emit({ kind: 'tripleFault', eip: machine.cpu.getRegisters?.().eip ?? 0 });
          break;
        case 'internal-error':
          emit({ kind: 'failed', message: exit.message });
          break;
      }
    });
    return machine;
  };
  let current = build();
  if (restore) {
    const saved = restore.machine as Omit<MachineSnapshot, 'ram'>;
    current.restoreState({ ...saved, ram: restore.memory });
  }
  // A restored machine is in its `created` state until resumed: resume starts it.
  let started = false;

  const driver: VmDriverPort = {
    start: () => {
      current.start();
      started = true;
    },
    pause: () => current.pause(),
    resume: () => {
      if (!started) {
        current.start();
        started = true;
      } else current.resume();
    },
    stop: () => {
      stopping = true;
      current.stop();
    },
    reboot: () => {
      const old = current;
      current = build();
      old.stop();
      current.start();
      started = true;
    },
    sendCtrlAltDel: () => current.sendCtrlAltDel(),
    consoleInput: (bytes) => input?.(bytes),
    resizeConsole: () => undefined,
    snapshot: (): SnapshotContent => {
      const { ram, ...machine } = current.saveState();
      return { config, machine, memory: ram };
    },
    instructionsRetired: () => current.cpu.instructionsRetired,
    onEvent: (listener) => void listeners.push(listener),
  };
  return driver;
};
