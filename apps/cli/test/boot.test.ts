import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function hasNasm(): boolean {
  try {
    execFileSync('which', ['nasm'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasNasm())('typevisor run with a tiny multiboot kernel', () => {
  it('prints through --debugcon stdio and exits with the debug exit status', async () => {
    const kernel = join(mkdtempSync(join(tmpdir(), 'cli-boot-')), 'kernel.bin');
    const source = fileURLToPath(new URL('../../../packages/vm-driver/test/fixtures/hello-multiboot.asm', import.meta.url));
    execFileSync('nasm', ['-f', 'bin', '-i', fileURLToPath(new URL('../../../packages/vm-driver/test/fixtures/', import.meta.url)), '-o', kernel, source]);
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(['run', '--kernel', kernel, '--append', 'from the cli', '--debugcon', 'stdio', '--serial', 'none', '--mem', '16M'], {
      stdout: { write: (c: string | Uint8Array) => out.push(typeof c === 'string' ? c : new TextDecoder().decode(c)) },
      stderr: { write: (c: string) => err.push(c) },
    });
    expect(err.join('')).toBe('');
    expect(out.join('')).toBe('hello from multiboot: from the cli\n');
    expect(status).toBe(0x21);
  });

  it('stops with status 0 and says so when the guest resets under --no-reboot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-reset-'));
    const source = join(dir, 'reset.asm');
    // A multiboot kernel that pulses the fast-reset bit of port 0x92.
    writeFileSync(source, [
      'bits 32', 'org 0x100000',
      'dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)',
      'dd 0x100000, 0x100000, 0, 0, start',
      'start: in al, 0x92', 'or al, 1', 'out 0x92, al', 'hlt',
    ].join('\n'));
    const kernel = join(dir, 'reset.bin');
    execFileSync('nasm', ['-f', 'bin', '-o', kernel, source]);
    const err: string[] = [];
    const status = await main(['run', '--kernel', kernel, '--serial', 'none', '--mem', '16M', '--no-reboot'], {
      stdout: { write: () => true },
      stderr: { write: (c: string) => err.push(c) },
    });
    expect(status).toBe(0);
    expect(err.join('')).toBe('[typevisor] the guest reset; stopping (--no-reboot)\n');
  });
});
