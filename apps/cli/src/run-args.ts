import { parseArgs } from 'node:util';
import { CliUsageError } from './errors.js';

/** Where a character stream goes. */
export type CharTarget = { readonly kind: 'stdio' } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'none' };

/** The network attachment. */
export type NetTarget = { readonly kind: 'none' } | { readonly kind: 'switch'; readonly name: string };

/** Parsed `typevisor run` options. */
export interface RunOptions {
  readonly kernel: string | null;
  readonly initrd: string | null;
  readonly append: string | null;
  readonly memoryBytes: number;
  readonly bios: string | null;
  readonly disks: readonly { readonly path: string; readonly readOnly: boolean }[];
  readonly net: NetTarget;
  readonly serial: CharTarget;
  readonly debugcon: CharTarget;
  readonly clock: 'realtime' | 'deterministic';
  readonly verbose: boolean;
  /** Stop on a guest reset instead of booting again (QEMU `-no-reboot`). */
  readonly noReboot: boolean;
  readonly help: boolean;
}

/** Default guest RAM: 128 MiB. */
export const DEFAULT_MEMORY_BYTES = 128 * 1024 * 1024;

/** Parses a QEMU-style size: a number of MiB, or a number with a K/M/G suffix (`512M`, `1G`). */
export function parseSize(flag: string, text: string): number {
  const match = /^(\d+)([KMG]?)(i?B)?$/i.exec(text.trim());
  if (match === null) throw new CliUsageError(flag, `"${text}" is not a size; use e.g. 128M, 1G or 256 (MiB)`);
  const unit = (match[2] ?? '').toUpperCase();
  const scale = unit === 'K' ? 1024 : unit === 'G' ? 1024 ** 3 : 1024 ** 2;
  return Number(match[1]) * scale;
}

function charTarget(flag: string, text: string): CharTarget {
  if (text === 'stdio') return { kind: 'stdio' };
  if (text === 'none') return { kind: 'none' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  throw new CliUsageError(flag, `"${text}" is not a target; use stdio, file:PATH or none`);
}

function netTarget(text: string): NetTarget {
  if (text === 'none') return { kind: 'none' };
  if (text.startsWith('switch:') && /^[\w.-]+$/.test(text.slice(7))) return { kind: 'switch', name: text.slice(7) };
  throw new CliUsageError('--net', `"${text}" is not a network; use none or switch:NAME`);
}

/** Parses the arguments after `typevisor run`. Throws {@link CliUsageError} naming the bad flag. */
export function parseRunArgs(argv: readonly string[]): RunOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        append: { type: 'string' },
        mem: { type: 'string', short: 'm' },
        bios: { type: 'string' },
        disk: { type: 'string', multiple: true },
        net: { type: 'string' },
        serial: { type: 'string' },
        debugcon: { type: 'string' },
        clock: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        'no-reboot': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-[-\w]+)/.exec(message)?.[1] ?? /option "?(-[-\w]+)/.exec(message)?.[1] ?? 'run';
    throw new CliUsageError(flag, `${message.replace(/\.$/, '')}; see typevisor run --help`);
  }
  const v = parsed.values;
  const clock = v.clock ?? 'realtime';
  if (clock !== 'realtime' && clock !== 'deterministic') throw new CliUsageError('--clock', `"${clock}" is not a clock; use realtime or deterministic`);
  if (v.bios !== undefined && v.kernel !== undefined) throw new CliUsageError('--bios', 'cannot be combined with --kernel');
  if (v.bios !== undefined && (v.initrd !== undefined || v.append !== undefined)) {
    throw new CliUsageError(v.initrd !== undefined ? '--initrd' : '--append', 'needs a kernel; it cannot be used with --bios');
  }
  const disks = (v.disk ?? []).map((spec) => {
    const [path, ...flags] = spec.split(',');
    if (path === undefined || path === '') throw new CliUsageError('--disk', `"${spec}" has no file name; use --disk FILE or --disk FILE,ro`);
    for (const flag of flags) if (flag !== 'ro') throw new CliUsageError('--disk', `unknown disk option "${flag}" in "${spec}"; the only option is ro`);
    return { path, readOnly: flags.includes('ro') };
  });
  return {
    kernel: v.kernel ?? null,
    initrd: v.initrd ?? null,
    append: v.append ?? null,
    memoryBytes: v.mem === undefined ? DEFAULT_MEMORY_BYTES : parseSize('--mem', v.mem),
    bios: v.bios ?? null,
    disks,
    net: netTarget(v.net ?? 'none'),
    serial: charTarget('--serial', v.serial ?? 'stdio'),
    debugcon: charTarget('--debugcon', v.debugcon ?? 'none'),
    clock,
    verbose: v.verbose ?? false,
    noReboot: v['no-reboot'] ?? false,
    help: v.help ?? false,
  };
}
