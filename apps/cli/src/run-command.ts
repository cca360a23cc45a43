import { readFileSync } from 'node:fs';
import { NetworkSwitch } from '@typevisor/devices';
import type { CharBackend } from '@typevisor/devices';
import { BootImageError, Machine, MachineConfigError, countersToObject } from '@typevisor/vm-driver';
import type { MachineConfig, MachineExit } from '@typevisor/vm-driver';
import { FileBlockBackend, FileCharBackend, StdioCharBackend } from '@typevisor/vm-driver/node';
import { findDefaultGuest } from './default-guest.js';
import { CliUsageError } from './errors.js';
import type { CharTarget, RunOptions } from './run-args.js';

/** Where the command writes its own messages. */
export interface CommandOutput {
  readonly stdout: { write(chunk: string | Uint8Array): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** Guest output that looks like a shell prompt at the end of a line: "/ # ", "~ $ ". */
const PROMPT = /(?:^|\n)[^\n]{0,40}[#$] $/;

function readInput(flag: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliUsageError(flag, `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
}

/** Machine config field -> the flag that sets it. */
function flagOf(field: string): string {
  if (field === 'memorySize') return '--mem';
  if (field === 'cmdline') return '--append';
  if (field === 'firmware') return '--bios';
  if (field.startsWith('disks')) return '--disk';
  if (field.startsWith('nets')) return '--net';
  if (field === 'initrd' || field === 'kernel' || field === 'serial' || field === 'debugcon' || field === 'clock') return `--${field}`;
  return `(${field})`;
}

/** The exit status of the process for a machine exit. */
export function exitStatusOf(exit: MachineExit): number {
  switch (exit.reason) {
    case 'poweroff':
    case 'reset':
    case 'stopped':
      return 0;
    case 'debug-exit':
      return exit.exitCode & 0xff;
    case 'triple-fault':
    case 'internal-error':
      return 1;
  }
}

/** Boots one machine as `typevisor run` describes and resolves with the process exit status. */
export async function runCommand(options: RunOptions, output: CommandOutput): Promise<number> {
  const log = (line: string): void => void output.stderr.write(`[typevisor] ${line}\n`);
  const closers: (() => void)[] = [];
  let machine: Machine | null = null;
  const quit = (): void => machine?.stop();
  let stdio: StdioCharBackend | null = null;
  const charBackend = (target: CharTarget, input: boolean): CharBackend | null => {
    if (target.kind === 'none') return null;
    if (target.kind === 'file') {
      const backend = new FileCharBackend(target.path);
      closers.push(() => backend.close());
      return backend;
    }
    if (!input) return { write: (bytes) => void output.stdout.write(bytes), setReceiver() {} };
    stdio ??= new StdioCharBackend({ onQuit: quit });
    const backend = stdio;
    closers.push(() => backend.close());
    return backend;
  };

  // A signal stops the machine normally, so the terminal leaves raw mode and files are closed.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, quit);
  closers.push(() => {
    for (const signal of signals) process.off(signal, quit);
  });
  try {
    let kernelPath = options.kernel;
    let initrdPath = options.initrd;
    let cmdline = options.append;
    if (kernelPath === null && options.bios === null) {
      const guest = findDefaultGuest();
      kernelPath = guest.kernel;
      initrdPath ??= guest.initrd;
      cmdline ??= guest.cmdline;
      if (options.verbose) log(`default guest from ${guest.directory}`);
    }
    const startedAt = performance.now();
    let promptSeen = false;
    let tail = '';
    const serialTarget = charBackend(options.serial, true);
    const serial: CharBackend | null = serialTarget === null || !options.verbose ? serialTarget : {
      write(bytes) {
        serialTarget.write(bytes);
        if (promptSeen) return;
        tail = (tail + new TextDecoder().decode(bytes)).slice(-80);
        if (PROMPT.test(tail)) {
          promptSeen = true;
          const virtualS = machine === null ? 0 : machine.clock.now() / 1e9;
          log(`first shell prompt after ${((performance.now() - startedAt) / 1000).toFixed(2)} s host, ${virtualS.toFixed(2)} s guest time`);
        }
      },
      setReceiver: (receiver) => serialTarget.setReceiver(receiver),
    };
    const disks = options.disks.map((disk) => {
      let backend: FileBlockBackend;
      try {
        backend = FileBlockBackend.open(disk.path, { readOnly: disk.readOnly });
      } catch (error) {
        throw new CliUsageError('--disk', error instanceof Error ? error.message : String(error));
      }
      closers.push(() => backend.close());
      return { backend };
    });
    const nets = options.net.kind === 'switch' ? [{ backend: new NetworkSwitch().connect(options.net.name) }] : [];
    const config: MachineConfig = {
      memorySize: options.memoryBytes,
      ...(kernelPath !== null ? { kernel: readInput('--kernel', kernelPath) } : {}),
      ...(initrdPath !== null ? { initrd: readInput('--initrd', initrdPath) } : {}),
      ...(cmdline !== null ? { cmdline } : {}),
      ...(options.bios !== null ? { firmware: readInput('--bios', options.bios) } : {}),
      disks,
      nets,
      serial,
      debugcon: charBackend(options.debugcon, false),
      clock: options.clock,
    };
    const boot = (): Machine => {
      try {
        // An interactive deterministic guest should not spin through idle time on the host's CPU.
        return new Machine(config, { paceIdle: options.serial.kind === 'stdio', instructionMix: options.verbose });
      } catch (error) {
        if (error instanceof MachineConfigError) throw new CliUsageError(flagOf(error.field), error.message);
        if (error instanceof BootImageError) {
          const flag = options.bios !== null ? '--bios' : error.message.includes('initrd') ? '--initrd' : '--kernel';
          const file = flag === '--bios' ? options.bios : flag === '--initrd' ? initrdPath : kernelPath;
          throw new CliUsageError(flag, `${file}: ${error.message}`);
        }
        throw error;
      }
    };
    machine = boot();
    if (options.verbose) {
      for (const line of machine.bootPlan.summary) log(line);
      for (const slot of machine.virtio) log(`${slot.name} at 0x${slot.base.toString(16)} IRQ ${slot.irq}`);
      log(`${options.memoryBytes / 1048576} MiB RAM, ${options.clock} clock${machine.acpi ? ', ACPI' : ''}`);
    }
    let exit: MachineExit;
    for (;;) {
      machine.start();
      exit = await machine.exited;
      if (exit.reason !== 'reset' || options.noReboot) break;
      // A reset is a new machine from the same images: fresh RAM, devices and CPU (host backends stay).
      log('the guest reset; booting again (--no-reboot stops instead)');
      machine = boot();
    }
    if (options.verbose) {
      log(`run loop: ${JSON.stringify(countersToObject(machine.counters))}`);
      const perf = Object.entries(machine.perf.snapshot().counters).filter(([, value]) => value !== 0);
      log(`counters: ${JSON.stringify(Object.fromEntries(perf))}`);
    }
    switch (exit.reason) {
      case 'triple-fault':
      case 'internal-error':
        log(`guest stopped: ${exit.message}`);
        break;
      case 'reset':
        log('the guest reset; stopping (--no-reboot)');
        break;
      case 'debug-exit':
        if (options.verbose) log(`debug exit, status ${exit.exitCode}`);
        break;
      default:
        if (options.verbose) log(`guest ${exit.reason}`);
    }
    return exitStatusOf(exit);
  } finally {
    for (const close of closers.reverse()) close();
  }
}
