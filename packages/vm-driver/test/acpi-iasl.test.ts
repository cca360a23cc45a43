import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MMIO, buildAcpiTables } from '../src/index.js';

function hasIasl(): boolean {
  try {
    execFileSync('which', ['iasl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Disassembles one table with ACPICA's iasl (acpica-tools), the compiler Linux's ACPICA comes from. */
function disassemble(bytes: Uint8Array, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'acpi-'));
  const file = join(dir, `${name}.dat`);
  writeFileSync(file, bytes);
  execFileSync('iasl', ['-d', file], { cwd: dir, stdio: 'pipe' });
  return readFileSync(join(dir, `${name}.dsl`), 'utf8');
}

describe.skipIf(!hasIasl())('ACPI tables through iasl -d', () => {
  const set = buildAcpiTables([{ base: MMIO.virtioBase, size: 0x1000, irq: 5 }]);
  const table = (address: number): Uint8Array => {
    const at = address - set.base;
    const length = new DataView(set.bytes.buffer, set.bytes.byteOffset).getUint32(at + 4, true);
    return set.bytes.subarray(at, at + length);
  };

  it('decodes the DSDT to the intended ASL', () => {
    const asl = disassemble(table(set.dsdt), 'dsdt').replace(/\s+/g, ' ');
    expect(asl).toContain('Scope (\\_SB) { Device (VR00) { Name (_HID, "LNRO0005")');
    expect(asl).toMatch(/Memory32Fixed \(ReadWrite, 0xD0000000, \/\/ Address Base 0x00001000, \/\/ Address Length \)/);
    expect(asl).toMatch(/Interrupt \(ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, \) \{ 0x00000005, \}/);
    expect(asl).toMatch(/Name \(\\_S5, Package \(0x04\) \/\/ _S5_: S5 System State \{ 0x05, 0x05, Zero, Zero \}\)/);
    expect(asl).not.toMatch(/Error|Invalid/);
  });

  it('decodes FADT and MADT without checksum or length complaints', () => {
    const fadt = disassemble(table(set.fadt), 'facp');
    expect(fadt).toMatch(/PM1A Control Block Address : 00000604/);
    expect(fadt).toMatch(/SCI Interrupt : 0009/);
    expect(fadt).toMatch(/Hardware Reduced \(V5\) : 0/);
    expect(fadt).not.toMatch(/Incorrect checksum|Invalid/i);
    const madt = disassemble(table(set.madt), 'apic');
    expect(madt).toMatch(/Address : FEC00000/);
    expect(madt).toMatch(/Interrupt : 00000002/);
    expect(madt).not.toMatch(/Incorrect checksum|Invalid/i);
  });
});
