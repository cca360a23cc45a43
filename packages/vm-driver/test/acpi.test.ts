import { describe, expect, it } from 'vitest';
import { AcpiPmDevice, IRQ, MMIO, PORTS, Pm1Event, SLP_TYP_S5, buildAcpiTables, byteSum } from '../src/index.js';
import type { AcpiTableSet } from '../src/index.js';

/** A small reader of the table set, as an OS would walk it from the RSDP. */
class TableReader {
  private readonly view: DataView;
  constructor(readonly set: AcpiTableSet) {
    this.view = new DataView(set.bytes.buffer, set.bytes.byteOffset, set.bytes.byteLength);
  }
  u8(address: number): number { return this.set.bytes[address - this.set.base]!; }
  u16(address: number): number { return this.view.getUint16(address - this.set.base, true); }
  u32(address: number): number { return this.view.getUint32(address - this.set.base, true); }
  u64(address: number): number { return Number(this.view.getBigUint64(address - this.set.base, true)); }
  ascii(address: number, length: number): string {
    return String.fromCharCode(...this.set.bytes.subarray(address - this.set.base, address - this.set.base + length));
  }
  bytes(address: number, length: number): Uint8Array { return this.set.bytes.subarray(address - this.set.base, address - this.set.base + length); }
  /** Checks signature, length and checksum of the table at `address`, returns its bytes. */
  table(address: number, signature: string): Uint8Array {
    expect(this.ascii(address, 4)).toBe(signature);
    const length = this.u32(address + 4);
    const bytes = this.bytes(address, length);
    expect(bytes.length).toBe(length);
    expect(byteSum(bytes)).toBe(0);
    return bytes;
  }
}

/** Finds the RSDP as Linux does: a 16-byte aligned "RSD PTR " with a valid checksum. */
function scanForRsdp(set: AcpiTableSet): number {
  for (let at = 0; at + 36 <= set.bytes.length; at += 16) {
    if (String.fromCharCode(...set.bytes.subarray(at, at + 8)) === 'RSD PTR ' && byteSum(set.bytes.subarray(at, at + 20)) === 0) return set.base + at;
  }
  return -1;
}

const devices = [
  { base: MMIO.virtioBase, size: 0x1000, irq: 5 },
  { base: MMIO.virtioBase + 0x1000, size: 0x1000, irq: 6 },
];

describe('ACPI tables', () => {
  const set = buildAcpiTables(devices);
  const r = new TableReader(set);

  it('puts a v2 RSDP in the BIOS scan range with both checksums right', () => {
    const rsdp = scanForRsdp(set);
    expect(rsdp).toBe(set.rsdp);
    expect(rsdp).toBeGreaterThanOrEqual(0xe0000);
    expect(rsdp).toBeLessThan(0x100000);
    expect(r.u8(rsdp + 15)).toBe(2);
    expect(r.u32(rsdp + 20)).toBe(36);
    expect(byteSum(r.bytes(rsdp, 36))).toBe(0);
    expect(r.u32(rsdp + 16)).toBe(set.rsdt);
    expect(r.u64(rsdp + 24)).toBe(set.xsdt);
  });

  it('lists FADT and MADT in both RSDT and XSDT', () => {
    r.table(set.rsdt, 'RSDT');
    r.table(set.xsdt, 'XSDT');
    expect([r.u32(set.rsdt + 36), r.u32(set.rsdt + 40)]).toEqual([set.fadt, set.madt]);
    expect([r.u64(set.xsdt + 36), r.u64(set.xsdt + 44)]).toEqual([set.fadt, set.madt]);
  });

  it('has a full FADT with PM1a blocks, PM timer, SCI 9 and the DSDT/FACS', () => {
    const fadt = set.fadt;
    r.table(fadt, 'FACP');
    expect(r.u32(fadt + 4)).toBe(276);
    expect(r.u8(fadt + 8)).toBe(6);
    expect(r.u32(fadt + 112) & (1 << 20)).toBe(0); // not hardware-reduced
    expect(r.u16(fadt + 46)).toBe(IRQ.sci);
    expect(r.u32(fadt + 48)).toBe(0); // no SMI_CMD: always in ACPI mode
    expect(r.u32(fadt + 56)).toBe(PORTS.pm1aEvent.base);
    expect(r.u32(fadt + 64)).toBe(PORTS.pm1aControl.base);
    expect(r.u32(fadt + 76)).toBe(PORTS.pmTimer.base);
    expect([r.u8(fadt + 88), r.u8(fadt + 89), r.u8(fadt + 91)]).toEqual([4, 2, 4]);
    expect(r.u32(fadt + 40)).toBe(set.dsdt);
    expect(r.u64(fadt + 140)).toBe(set.dsdt);
    expect(r.u32(fadt + 36)).toBe(0); // FIRMWARE_CTRL must be 0 when X_FIRMWARE_CTRL is set
    expect(r.u64(fadt + 132)).toBe(set.facs);
    expect(r.u8(fadt + 172)).toBe(1); // X_PM1a_CNT in system I/O space
    expect(r.u64(fadt + 176)).toBe(PORTS.pm1aControl.base);
    expect(r.ascii(set.facs, 4)).toBe('FACS');
    expect(set.facs % 64).toBe(0);
  });

  it('describes the LAPIC, the IOAPIC and the interrupt overrides in the MADT', () => {
    const madt = r.table(set.madt, 'APIC');
    const view = new DataView(madt.buffer, madt.byteOffset, madt.byteLength);
    expect(view.getUint32(36, true)).toBe(MMIO.lapic.base);
    expect(view.getUint32(40, true) & 1).toBe(1);
    const entries: { type: number; at: number }[] = [];
    for (let at = 44; at < madt.length; at += madt[at + 1]!) entries.push({ type: madt[at]!, at });
    expect(entries.map((e) => e.type)).toEqual([0, 1, 2, 2, 4]);
    const ioapic = entries[1]!.at;
    expect(view.getUint32(ioapic + 4, true)).toBe(MMIO.ioapic.base);
    const overrides = entries.filter((e) => e.type === 2).map((e) => [madt[e.at + 3], view.getUint32(e.at + 4, true), view.getUint16(e.at + 8, true)]);
    expect(overrides).toEqual([[0, 2, 0], [9, 9, 0x000d]]);
  });

  it('describes each virtio-mmio device in AML and has \\_S5', () => {
    const dsdt = r.table(set.dsdt, 'DSDT');
    const aml = dsdt.subarray(36);
    // Scope(\_SB) { Device(VR00) { ... } Device(VR01) { ... } }
    expect(aml[0]).toBe(0x10);
    const find = (needle: number[], from = 0): number => {
      outer: for (let i = from; i <= aml.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (aml[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    };
    const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
    const device0 = find([0x5b, 0x82]);
    expect(device0).toBeGreaterThan(0);
    // PkgLength (1 byte, < 64? no: the device body is larger) then the name VR00
    const pkgLead = aml[device0 + 2]!;
    const lengthBytes = (pkgLead >> 6) + 1;
    let length = pkgLead & (lengthBytes === 1 ? 0x3f : 0x0f);
    for (let i = 1; i < lengthBytes; i++) length |= aml[device0 + 2 + i]! << (4 + 8 * (i - 1));
    const body = aml.subarray(device0 + 2, device0 + 2 + length);
    expect([...body.subarray(lengthBytes, lengthBytes + 4)]).toEqual(ascii('VR00'));
    const bodyText = [...body];
    const hid = find([0x08, ...ascii('_HID'), 0x0d, ...ascii('LNRO0005'), 0], device0);
    expect(hid).toBeGreaterThan(device0);
    expect(hid).toBeLessThan(device0 + 2 + length);
    // _CRS: Buffer containing Memory32Fixed(RW, base, 0x1000), Interrupt(consumer, edge, high, exclusive){5}, end tag
    const crs = find([0x08, ...ascii('_CRS'), 0x11], device0);
    expect(crs).toBeGreaterThan(device0);
    const descriptor = find([0x86, 0x09, 0x00, 0x01], crs);
    const view = new DataView(aml.buffer, aml.byteOffset);
    expect(view.getUint32(descriptor + 4, true)).toBe(MMIO.virtioBase);
    expect(view.getUint32(descriptor + 8, true)).toBe(0x1000);
    expect([...aml.subarray(descriptor + 12, descriptor + 21)]).toEqual([0x89, 0x06, 0x00, 0x03, 0x01, 5, 0, 0, 0]);
    expect([...aml.subarray(descriptor + 21, descriptor + 23)]).toEqual([0x79, 0x00]);
    expect(bodyText.length).toBe(length);
    // The second device has its own window and IRQ.
    const device1 = find([0x5b, 0x82], device0 + 2 + length);
    expect(device1).toBeGreaterThan(device0);
    const descriptor1 = find([0x86, 0x09, 0x00, 0x01], device1);
    expect(view.getUint32(descriptor1 + 4, true)).toBe(MMIO.virtioBase + 0x1000);
    expect(aml[descriptor1 + 17]).toBe(6);
    // Name(\_S5, Package(4) { 5, 5, 0, 0 })
    const s5 = find([0x08, 0x5c, ...ascii('_S5_'), 0x12]);
    expect(s5).toBeGreaterThan(0);
    expect([...aml.subarray(s5 + 6, s5 + 15)]).toEqual([0x12, 0x08, 0x04, 0x0a, SLP_TYP_S5, 0x0a, SLP_TYP_S5, 0x00, 0x00]);
  });
});

describe('ACPI PM device', () => {
  function make(): { pm: AcpiPmDevice; offs: number[]; sci: boolean[]; time: { ns: number } } {
    const time = { ns: 0 };
    const offs: number[] = [];
    const sci: boolean[] = [];
    const clock = { now: () => time.ns, setTimer: () => ({ cancel() {} }) };
    const pm = new AcpiPmDevice(clock, { setLevel: (h) => sci.push(h) }, () => offs.push(1));
    return { pm, offs, sci, time };
  }

  it('reports SCI_EN and powers off on SLP_TYP=S5 | SLP_EN only', () => {
    const { pm, offs } = make();
    expect(pm.read(4, 2) & 1).toBe(1);
    pm.write(4, 2, 3 << 10 | 1 << 13); // S3 is not offered
    expect(offs).toEqual([]);
    pm.write(4, 2, SLP_TYP_S5 << 10); // type without enable
    expect(offs).toEqual([]);
    pm.write(4, 2, (SLP_TYP_S5 << 10) | (1 << 13));
    expect(offs).toEqual([1]);
  });

  it('counts the PM timer at 3.579545 MHz in 24 bits', () => {
    const { pm, time } = make();
    time.ns = 1e9;
    expect(pm.read(8, 4)).toBe(3_579_545);
    time.ns = 10e9;
    expect(pm.read(8, 4)).toBe(35_795_450 % 0x1000000);
  });

  it('raises the SCI for an enabled power-button event and clears it on write-1', () => {
    const { pm, sci } = make();
    pm.pressPowerButton();
    expect(sci.at(-1)).toBe(false);
    pm.write(2, 2, Pm1Event.powerButton);
    expect(sci.at(-1)).toBe(true);
    expect(pm.read(0, 2) & Pm1Event.powerButton).toBe(Pm1Event.powerButton);
    pm.write(0, 2, Pm1Event.powerButton);
    expect(sci.at(-1)).toBe(false);
    expect(pm.read(0, 2)).toBe(0);
  });
});
