import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '@typevisor/vm-driver';
import { DefaultGuestNotFoundError, findDefaultGuest } from '@typevisor/vm-driver/node';

describe('findDefaultGuest', () => {
  it('finds the repository guest images above the calling file', () => {
    const guest = findDefaultGuest({}, new URL(import.meta.url).pathname);
    expect(guest.kernel).toMatch(/guest\/images\/bzImage$/);
    expect(guest.initrd).toMatch(/guest\/images\/initramfs\.cpio\.gz$/);
    expect(guest.cmdline).toContain('console=ttyS0');
  });

  it('prefers TYPEVISOR_GUEST_DIR, and says what to do when nothing is found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'typevisor-guest-'));
    writeFileSync(join(dir, 'bzImage'), 'k');
    writeFileSync(join(dir, 'initramfs.cpio.gz'), 'i');
    expect(findDefaultGuest({ TYPEVISOR_GUEST_DIR: dir }, '/').directory).toBe(dir);
    expect(() => findDefaultGuest({}, '/')).toThrow(DefaultGuestNotFoundError);
    expect(() => findDefaultGuest({}, '/')).toThrow(/TYPEVISOR_GUEST_DIR/);
  });
});

describe('Machine.sendCtrlAltDel', () => {
  it('types Ctrl, Alt, Delete and their releases on the keyboard in scan code set 1', () => {
    const firmware = new Uint8Array(64 * 1024).fill(0xf4);
    const machine = new Machine({ memorySize: 16 * 1024 * 1024, firmware });
    machine.sendCtrlAltDel();
    const data = machine.board.i8042.dataPort;
    const bytes: number[] = [];
    for (let i = 0; i < 8; i++) bytes.push(data.read(0, 1));
    expect(bytes).toEqual([0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d]);
  });
});
