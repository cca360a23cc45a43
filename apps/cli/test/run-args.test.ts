import { describe, expect, it } from 'vitest';
import { CliUsageError, DEFAULT_MEMORY_BYTES, parseRunArgs, parseSize } from '../src/index.js';

function usageError(argv: string[]): CliUsageError {
  try {
    parseRunArgs(argv);
  } catch (error) {
    if (error instanceof CliUsageError) return error;
    throw error;
  }
  throw new Error('expected a CliUsageError');
}

describe('typevisor run arguments', () => {
  it('has QEMU-like defaults', () => {
    expect(parseRunArgs([])).toEqual({
      kernel: null, initrd: null, append: null, memoryBytes: DEFAULT_MEMORY_BYTES, bios: null, disks: [],
      net: { kind: 'none' }, serial: { kind: 'stdio' }, debugcon: { kind: 'none' }, clock: 'realtime', verbose: false, noReboot: false, help: false,
    });
  });

  it('parses every flag', () => {
    const options = parseRunArgs([
      '--kernel', 'bzImage', '--initrd', 'rd.gz', '--append', 'console=ttyS0 quiet', '--mem', '256M',
      '--disk', 'a.img', '--disk', 'b.img,ro', '--net', 'switch:lan', '--serial', 'file:out.log',
      '--debugcon', 'stdio', '--clock', 'deterministic', '--verbose', '--no-reboot',
    ]);
    expect(options).toMatchObject({
      kernel: 'bzImage', initrd: 'rd.gz', append: 'console=ttyS0 quiet', memoryBytes: 256 * 1024 * 1024,
      disks: [{ path: 'a.img', readOnly: false }, { path: 'b.img', readOnly: true }],
      net: { kind: 'switch', name: 'lan' }, serial: { kind: 'file', path: 'out.log' }, debugcon: { kind: 'stdio' },
      clock: 'deterministic', verbose: true, noReboot: true,
    });
    expect(parseRunArgs(['--bios', 'rom.bin', '-m', '1G'])).toMatchObject({ bios: 'rom.bin', memoryBytes: 1024 ** 3 });
  });

  it('reads sizes as MiB by default, with K/M/G suffixes', () => {
    expect(parseSize('--mem', '64')).toBe(64 * 1024 * 1024);
    expect(parseSize('--mem', '65536K')).toBe(64 * 1024 * 1024);
    expect(parseSize('--mem', '2G')).toBe(2 * 1024 ** 3);
    expect(parseSize('--mem', '512MiB')).toBe(512 * 1024 * 1024);
  });

  it.each<[string[], string, RegExp]>([
    [['--mem', 'lots'], '--mem', /"lots" is not a size/],
    [['--clock', 'fast'], '--clock', /"fast" is not a clock/],
    [['--serial', 'tcp:1234'], '--serial', /use stdio, file:PATH or none/],
    [['--debugcon', 'file:'], '--debugcon', /is not a target/],
    [['--net', 'tap0'], '--net', /use none or switch:NAME/],
    [['--disk', 'a.img,rw'], '--disk', /unknown disk option "rw"/],
    [['--disk', ',ro'], '--disk', /has no file name/],
    [['--bios', 'rom', '--kernel', 'k'], '--bios', /cannot be combined with --kernel/],
    [['--bios', 'rom', '--append', 'x'], '--append', /needs a kernel/],
    [['--frobnicate'], '--frobnicate', /Unknown option/],
    [['--kernel'], '--kernel', /argument missing|requires|value/i],
    [['extra'], 'run', /positional/i],
  ])('rejects %j naming %s', (argv, flag, message) => {
    const error = usageError(argv);
    expect(error.flag).toBe(flag);
    expect(error.message).toMatch(message);
  });
});
