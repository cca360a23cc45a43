import { IOAPIC_ID, IRQ, LOW_MEMORY, MMIO, PORTS, isaIrqToGsi } from '../layout.js';
import { concatBytes, device, extendedInterrupt, integer, memory32Fixed, name, packageOf, resourceTemplate, scope, string } from './aml.js';

/** One virtio-mmio window the DSDT describes. */
export interface AcpiVirtioDevice {
  readonly base: number;
  readonly size: number;
  /** ISA IRQ (= GSI for these). */
  readonly irq: number;
}

/** The value of SLP_TYP in PM1a_CNT that means S5 (soft off); `\_S5` tells the OS to use it. */
export const SLP_TYP_S5 = 5;

/** Where each table was placed (physical addresses), for the zero page and for tests. */
export interface AcpiTableSet {
  /** Physical address of the first byte of `bytes`. */
  readonly base: number;
  /** All tables, ready to copy into guest RAM at `base`. */
  readonly bytes: Uint8Array;
  readonly rsdp: number;
  readonly rsdt: number;
  readonly xsdt: number;
  readonly fadt: number;
  readonly facs: number;
  readonly madt: number;
  readonly dsdt: number;
}

const OEM_ID = 'TYPEVS';
const OEM_TABLE_ID = 'TYPEVISR';
const CREATOR_ID = 'TVSR';
const HEADER_SIZE = 36;
/** Local APIC ID of the only CPU (the I/O APIC has {@link IOAPIC_ID}, distinct as on real boards). */
const CPU_APIC_ID = 0;

function ascii(target: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
}

/** Sum of all bytes mod 256 — 0 for a table with a correct checksum. */
export function byteSum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) sum = (sum + byte) & 0xff;
  return sum;
}

/** Builds a system description table: the standard 36-byte header, `body`, and the checksum. */
export function sdt(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const table = new Uint8Array(HEADER_SIZE + body.length);
  const view = new DataView(table.buffer);
  ascii(table, 0, signature);
  view.setUint32(4, table.length, true);
  table[8] = revision;
  ascii(table, 10, OEM_ID);
  ascii(table, 16, OEM_TABLE_ID);
  view.setUint32(24, 1, true);
  ascii(table, 28, CREATOR_ID);
  view.setUint32(32, 1, true);
  table.set(body, HEADER_SIZE);
  table[9] = (256 - byteSum(table)) & 0xff;
  return table;
}

/** The DSDT: every virtio-mmio window as an `LNRO0005` device under `\_SB`, and `\_S5` for poweroff. */
export function buildDsdt(devices: readonly AcpiVirtioDevice[]): Uint8Array {
  const virtio = devices.map((dev, index) =>
    device(`VR${index.toString(16).toUpperCase().padStart(2, '0')}`, [
      name('_HID', string('LNRO0005')),
      name('_UID', integer(index)),
      name('_CCA', integer(1)),
      name('_CRS', resourceTemplate([memory32Fixed(dev.base, dev.size), extendedInterrupt(dev.irq)])),
    ]),
  );
  const aml = concatBytes([
    scope('\\_SB', virtio),
    name('\\_S5', packageOf([integer(SLP_TYP_S5), integer(SLP_TYP_S5), integer(0), integer(0)])),
  ]);
  return sdt('DSDT', 2, aml);
}

/** Generic Address Structure for a port-I/O register block. */
function gas(view: DataView, at: number, port: number, bitWidth: number, accessSize: number): void {
  view.setUint8(at, 1); // system I/O
  view.setUint8(at + 1, bitWidth);
  view.setUint8(at + 2, 0);
  view.setUint8(at + 3, accessSize);
  view.setBigUint64(at + 4, BigInt(port), true);
}

/**
 * A full (not hardware-reduced) FADT, revision 6: the PM1a event/control blocks and PM timer on the
 * ports of the {@link AcpiPmDevice}, SCI on IRQ 9, no SMI command port (the machine is always in ACPI
 * mode), and the IA-PC boot flags of a board with an i8042 and no VGA.
 */
export function buildFadt(facs: number, dsdt: number): Uint8Array {
  const body = new Uint8Array(276 - HEADER_SIZE);
  const view = new DataView(body.buffer);
  const at = (offset: number): number => offset - HEADER_SIZE;
  // FIRMWARE_CTRL stays 0: with X_FIRMWARE_CTRL set the 32-bit field must be zero (ACPI 6, 5.2.9).
  view.setUint32(at(40), dsdt, true);
  view.setUint16(at(46), IRQ.sci, true);
  view.setUint32(at(56), PORTS.pm1aEvent.base, true);
  view.setUint32(at(64), PORTS.pm1aControl.base, true);
  view.setUint32(at(76), PORTS.pmTimer.base, true);
  view.setUint8(at(88), PORTS.pm1aEvent.size);
  view.setUint8(at(89), PORTS.pm1aControl.size);
  view.setUint8(at(91), PORTS.pmTimer.size);
  view.setUint16(at(96), 0x0fff, true); // P_LVL2_LAT > 100: no C2
  view.setUint16(at(98), 0x0fff, true); // P_LVL3_LAT > 1000: no C3
  view.setUint8(at(108), 0x32); // RTC CMOS index of the century
  view.setUint16(at(109), 0x0001 | 0x0002 | 0x0004, true); // legacy devices, 8042, VGA not present
  // WBINVD works, C1 supported, power and sleep buttons are not fixed-feature buttons.
  view.setUint32(at(112), (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5), true);
  view.setUint8(at(131), 0); // FADT minor version
  view.setBigUint64(at(132), BigInt(facs), true);
  view.setBigUint64(at(140), BigInt(dsdt), true);
  gas(view, at(148), PORTS.pm1aEvent.base, PORTS.pm1aEvent.size * 8, 2);
  gas(view, at(172), PORTS.pm1aControl.base, PORTS.pm1aControl.size * 8, 2);
  gas(view, at(208), PORTS.pmTimer.base, PORTS.pmTimer.size * 8, 3);
  return sdt('FACP', 6, body);
}

/** The 64-byte FACS a full FADT must point to (global lock, waking vector). It has no checksum. */
export function buildFacs(): Uint8Array {
  const table = new Uint8Array(64);
  const view = new DataView(table.buffer);
  ascii(table, 0, 'FACS');
  view.setUint32(4, 64, true);
  table[32] = 2; // version
  return table;
}

/** MADT: one local APIC, the I/O APIC, overrides IRQ0 -> GSI2 and the level-triggered SCI, LINT1 = NMI. */
export function buildMadt(): Uint8Array {
  const entries: number[][] = [];
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const u16 = (v: number): number[] => [v & 0xff, v >>> 8];
  entries.push([0, 8, 0, CPU_APIC_ID, ...u32(1)]); // processor local APIC, enabled
  entries.push([1, 12, IOAPIC_ID, 0, ...u32(MMIO.ioapic.base), ...u32(0)]); // I/O APIC, GSI base 0
  entries.push([2, 10, 0, IRQ.pit, ...u32(isaIrqToGsi(IRQ.pit)), ...u16(0)]); // ISA IRQ0 -> GSI2, bus defaults
  entries.push([2, 10, 0, IRQ.sci, ...u32(IRQ.sci), ...u16(0x000d)]); // SCI: active high, level
  entries.push([4, 6, 0xff, ...u16(0), 1]); // NMI on LINT1 of every processor
  const body = new Uint8Array(8 + entries.reduce((s, e) => s + e.length, 0));
  const view = new DataView(body.buffer);
  view.setUint32(0, MMIO.lapic.base, true);
  view.setUint32(4, 1, true); // PCAT_COMPAT: the machine also has 8259 PICs
  let at = 8;
  for (const entry of entries) {
    body.set(entry, at);
    at += entry.length;
  }
  return sdt('APIC', 3, body);
}

function rsdp(rsdt: number, xsdt: number): Uint8Array {
  const table = new Uint8Array(36);
  const view = new DataView(table.buffer);
  ascii(table, 0, 'RSD PTR ');
  ascii(table, 9, OEM_ID);
  table[15] = 2;
  view.setUint32(16, rsdt, true);
  view.setUint32(20, 36, true);
  view.setBigUint64(24, BigInt(xsdt), true);
  table[8] = (256 - byteSum(table.subarray(0, 20))) & 0xff;
  table[32] = (256 - byteSum(table)) & 0xff;
  return table;
}

/**
 * Builds the whole ACPI table set at `base` (default: the start of the BIOS area, so the RSDP is at
 * a 16-byte boundary inside the 0xE0000-0xFFFFF range the OS scans): RSDP v2, XSDT and RSDT listing
 * the FADT and MADT, the FACS, and the DSDT.
 */
export function buildAcpiTables(devices: readonly AcpiVirtioDevice[], base: number = LOW_MEMORY.acpiTables): AcpiTableSet {
  const align = (value: number, to: number): number => Math.ceil(value / to) * to;
  const dsdtBytes = buildDsdt(devices);
  const madtBytes = buildMadt();
  const rsdpAt = base;
  const facsAt = align(rsdpAt + 36, 64);
  const dsdtAt = align(facsAt + 64, 16);
  const fadtAt = align(dsdtAt + dsdtBytes.length, 16);
  const fadtBytes = buildFadt(facsAt, dsdtAt);
  const madtAt = align(fadtAt + fadtBytes.length, 16);
  const rsdtAt = align(madtAt + madtBytes.length, 16);
  const rsdtBody = new Uint8Array(8);
  new DataView(rsdtBody.buffer).setUint32(0, fadtAt, true);
  new DataView(rsdtBody.buffer).setUint32(4, madtAt, true);
  const rsdtBytes = sdt('RSDT', 1, rsdtBody);
  const xsdtAt = align(rsdtAt + rsdtBytes.length, 16);
  const xsdtBody = new Uint8Array(16);
  new DataView(xsdtBody.buffer).setBigUint64(0, BigInt(fadtAt), true);
  new DataView(xsdtBody.buffer).setBigUint64(8, BigInt(madtAt), true);
  const xsdtBytes = sdt('XSDT', 1, xsdtBody);
  const end = xsdtAt + xsdtBytes.length;
  if (end - base > LOW_MEMORY.acpiTablesSize) throw new RangeError(`ACPI tables need ${end - base} bytes, more than the reserved area`);
  const bytes = new Uint8Array(end - base);
  const place = (at: number, table: Uint8Array): void => bytes.set(table, at - base);
  place(rsdpAt, rsdp(rsdtAt, xsdtAt));
  place(facsAt, buildFacs());
  place(dsdtAt, dsdtBytes);
  place(fadtAt, fadtBytes);
  place(madtAt, madtBytes);
  place(rsdtAt, rsdtBytes);
  place(xsdtAt, xsdtBytes);
  return { base, bytes, rsdp: rsdpAt, rsdt: rsdtAt, xsdt: xsdtAt, fadt: fadtAt, facs: facsAt, madt: madtAt, dsdt: dsdtAt };
}
