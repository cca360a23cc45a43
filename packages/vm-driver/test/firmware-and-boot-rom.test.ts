import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOOT_ROM_BASE, BootImageError, buildBootRom, planFirmwareBoot } from '../src/index.js';

function hasTool(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function disassemble(bytes: Uint8Array, bits: 16 | 32, origin: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bootrom-'));
  const file = join(dir, 'code.bin');
  writeFileSync(file, bytes);
  return execFileSync('ndisasm', ['-b', String(bits), '-o', String(origin), file], { encoding: 'utf8' });
}

describe('firmware ROM', () => {
  it('maps the ROM at the top of 4 GiB and its last 128 KiB below 1 MiB', () => {
    const rom = new Uint8Array(256 * 1024);
    const plan = planFirmwareBoot(rom);
    expect(plan.entry).toBeNull();
    expect(plan.roms.map((r) => [r.address, r.bytes.length])).toEqual([[0xfffc0000, 256 * 1024], [0xe0000, 128 * 1024]]);
    expect(plan.roms[1]!.bytes.byteOffset).toBe(128 * 1024);
    expect(planFirmwareBoot(new Uint8Array(64 * 1024)).roms[1]!.address).toBe(0xf0000);
  });

  it('rejects unusable ROMs', () => {
    expect(() => planFirmwareBoot(new Uint8Array(8))).toThrow(BootImageError);
    expect(() => planFirmwareBoot(new Uint8Array(17 * 1024 * 1024))).toThrow(/at most 16 MiB/);
    expect(() => planFirmwareBoot(new Uint8Array(100))).toThrow(/multiple of 16/);
  });
});

describe('boot ROM (reset vector to 32-bit entry)', () => {
  const entry = { entry: 0x100000, eax: 0x2badb002, ebx: 0x7000, ecx: 0, edx: 0, esi: 0x7000, edi: 0, ebp: 0, esp: 0x7000 };
  const rom = buildBootRom(entry);

  it('is 4 KiB at the top of 4 GiB with a GDT holding flat code 0x10 and data 0x18', () => {
    expect(rom.address).toBe(BOOT_ROM_BASE);
    expect(rom.bytes.length).toBe(0x1000);
    const view = new DataView(rom.bytes.buffer);
    expect(view.getUint16(0x100, true)).toBe(31);
    expect(view.getUint32(0x102, true)).toBe(0xfffff110);
    expect([...rom.bytes.subarray(0x120, 0x128)]).toEqual([0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0]);
    expect([...rom.bytes.subarray(0x128, 0x130)]).toEqual([0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0]);
  });

  it.skipIf(!hasTool('ndisasm'))('disassembles to the expected mode switch', () => {
    const reset = disassemble(rom.bytes.subarray(0xff0, 0xff3), 16, 0xfff0);
    expect(reset).toMatch(/jmp 0xf000/);
    const real = disassemble(rom.bytes.subarray(0, 0x21), 16, 0xf000);
    expect(real).toMatch(/cli[\s\S]*in al,0x92[\s\S]*out 0x92,al[\s\S]*lgdt \[cs:0xf100\][\s\S]*mov eax,cr0[\s\S]*or al,0x1[\s\S]*mov cr0,eax[\s\S]*jmp dword 0x10:0xfffff021/);
    const protectedMode = disassemble(rom.bytes.subarray(0x21, 0x21 + 15 + 40 + 7), 32, 0xfffff021);
    expect(protectedMode).toMatch(/mov eax,0x18[\s\S]*mov ss,eax[\s\S]*mov esp,0x7000[\s\S]*mov esi,0x7000[\s\S]*mov ebx,0x7000[\s\S]*mov eax,0x2badb002[\s\S]*jmp 0x10:0x100000/);
  });
});
