import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN_HELP, RUN_HELP, exitStatusOf, findDefaultGuest, main } from '../src/index.js';

function capture(): { out: string[]; err: string[]; io: { stdout: { write(c: string | Uint8Array): boolean }; stderr: { write(c: string): boolean } } } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err,
    io: {
      stdout: { write: (c) => out.push(typeof c === 'string' ? c : new TextDecoder().decode(c)) > 0 },
      stderr: { write: (c) => err.push(c) > 0 },
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'typevisor-cli-'));

describe('typevisor main', () => {
  it('prints help for every run flag with examples', async () => {
    const { out, io } = capture();
    expect(await main(['run', '--help'], io)).toBe(0);
    expect(out.join('')).toBe(RUN_HELP);
    for (const flag of ['--kernel', '--initrd', '--append', '--mem', '--bios', '--disk', '--net', '--serial', '--debugcon', '--clock', '--verbose']) {
      expect(RUN_HELP).toContain(flag);
    }
    expect(RUN_HELP.match(/e\.g\. /g)!.length).toBeGreaterThanOrEqual(10);
    const top = capture();
    expect(await main(['--help'], top.io)).toBe(0);
    expect(top.out.join('')).toBe(MAIN_HELP);
  });

  it.each([['serve', '--socket PATH'], ['ctl', 'snapshot ID FILE'], ['firecracker', '--api-sock PATH']])('explains %s with --help', async (command, needle) => {
    const { out, io } = capture();
    expect(await main([command, '--help'], io)).toBe(0);
    expect(out.join('')).toContain(needle);
    expect(MAIN_HELP).toContain(command);
  });

  it('names the missing flag or the unreachable server', async () => {
    const fc = capture();
    expect(await main(['firecracker'], fc.io)).toBe(2);
    expect(fc.err.join('')).toMatch(/--api-sock: required/);
    const ctl = capture();
    expect(await main(['ctl', '--socket', join(dir, 'no.sock'), 'ls'], ctl.io)).toBe(2);
    expect(ctl.err.join('')).toMatch(/cannot reach typevisor serve at .*no\.sock.*is it running\?/);
    const port = capture();
    expect(await main(['serve', '--port', '99999'], port.io)).toBe(2);
    expect(port.err.join('')).toMatch(/--port: "99999" is not a TCP port/);
  });

  it('rejects an unknown command and bad flags with exit 2 and the flag name', async () => {
    const unknown = capture();
    expect(await main(['launch'], unknown.io)).toBe(2);
    expect(unknown.err.join('')).toMatch(/typevisor: launch: unknown command/);
    const bad = capture();
    expect(await main(['run', '--mem', 'x'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/^typevisor: --mem: "x" is not a size/);
  });

  it('names the missing or unusable file', async () => {
    const missing = capture();
    expect(await main(['run', '--kernel', join(dir, 'nope')], missing.io)).toBe(2);
    expect(missing.err.join('')).toMatch(/--kernel: cannot read .*nope: no such file/);
    const notKernel = join(dir, 'random.bin');
    writeFileSync(notKernel, new Uint8Array(10000).fill(0x90));
    const bad = capture();
    expect(await main(['run', '--kernel', notKernel], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/--kernel: .*random\.bin: the kernel is neither a Linux bzImage/);
    const oddDisk = join(dir, 'odd.img');
    writeFileSync(oddDisk, new Uint8Array(1000));
    const disk = capture();
    expect(await main(['run', '--kernel', notKernel, '--disk', oddDisk], disk.io)).toBe(2);
    expect(disk.err.join('')).toMatch(/--disk: disk image .*odd\.img is 1000 bytes, not a multiple of 512/);
    const small = capture();
    expect(await main(['run', '--kernel', notKernel, '--mem', '1'], small.io)).toBe(2);
    expect(small.err.join('')).toMatch(/--mem: .*minimum of 2 MiB/);
  });

  it('maps machine exits to exit statuses', () => {
    expect(exitStatusOf({ reason: 'poweroff' })).toBe(0);
    expect(exitStatusOf({ reason: 'stopped' })).toBe(0);
    expect(exitStatusOf({ reason: 'debug-exit', exitCode: 0x21 })).toBe(0x21);
    expect(exitStatusOf({ reason: 'triple-fault', message: 'x' })).toBe(1);
    expect(exitStatusOf({ reason: 'internal-error', message: 'x' })).toBe(1);
  });

  it('finds the default guest from TYPEVISOR_GUEST_DIR or above the package, and explains when it is absent', () => {
    const images = join(dir, 'images');
    writeFileSync(join(dir, 'bzImage'), '');
    writeFileSync(join(dir, 'initramfs.cpio.gz'), '');
    expect(findDefaultGuest({ TYPEVISOR_GUEST_DIR: dir }, '/nonexistent/a/b.js')).toMatchObject({ kernel: join(dir, 'bzImage'), cmdline: 'console=ttyS0 panic=-1' });
    expect(() => findDefaultGuest({}, join(images, 'bin.js'))).toThrow(/ships with the typevisor repository .* not with the npm package/);
  });
});
