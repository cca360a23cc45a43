import { describe, expect, it } from 'vitest';
import type { AccessSize, IoRegion, IrqLine } from '@typevisor/devices';
import { BusConflictError, DEBUGCON_READBACK, DebugConsole, DebugExitDevice, IrqRouter, PortBus } from '../src/index.js';

class RecordingRegion implements IoRegion {
  readonly log: string[] = [];
  read(offset: number, size: AccessSize): number {
    this.log.push(`r${offset}/${size}`);
    return 0x40 + offset;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.log.push(`w${offset}/${size}=${value.toString(16)}`);
  }
}

describe('PortBus', () => {
  it('dispatches with window offsets and counts accesses', () => {
    const bus = new PortBus();
    const uart = new RecordingRegion();
    const rtc = new RecordingRegion();
    bus.map({ base: 0x3f8, size: 8, region: uart, name: 'uart' });
    bus.map({ base: 0x70, size: 2, region: rtc, name: 'rtc' });
    expect(bus.read(0x3fd, 1)).toBe(0x45);
    bus.write(0x3f8, 1, 0x41);
    bus.write(0x71, 2, 0x1234);
    expect(uart.log).toEqual(['r5/1', 'w0/1=41']);
    expect(rtc.log).toEqual(['w1/2=1234']);
    expect(bus.accesses).toBe(3);
  });

  it('reads all ones and drops writes on unclaimed ports', () => {
    const bus = new PortBus();
    expect(bus.read(0x1234, 1)).toBe(0xff);
    expect(bus.read(0x1234, 2)).toBe(0xffff);
    expect(bus.read(0x1234, 4)).toBe(0xffffffff);
    expect(() => bus.write(0x1234, 4, 1)).not.toThrow();
  });

  it('rejects overlapping and out-of-range windows', () => {
    const bus = new PortBus();
    bus.map({ base: 0x60, size: 5, region: new RecordingRegion(), name: 'i8042' });
    expect(() => bus.map({ base: 0x64, size: 1, region: new RecordingRegion(), name: 'other' })).toThrow(BusConflictError);
    expect(() => bus.map({ base: 0x64, size: 1, region: new RecordingRegion(), name: 'other' })).toThrow(/0x64 of other is already used by i8042/);
    expect(() => bus.map({ base: 0xffff, size: 2, region: new RecordingRegion(), name: 'x' })).toThrow(RangeError);
  });
});

class FakeController {
  readonly levels = new Map<number, boolean>();
  irqLine(pin: number): IrqLine {
    return { setLevel: (high) => this.levels.set(pin, high) };
  }
}

describe('IrqRouter', () => {
  it('drives the PIC input and the IOAPIC pin, with IRQ0 on GSI2', () => {
    const pic = new FakeController();
    const ioapic = new FakeController();
    const router = new IrqRouter(pic, ioapic);
    router.line(0).setLevel(true);
    expect(pic.levels.get(0)).toBe(true);
    expect(ioapic.levels.get(2)).toBe(true);
    expect(ioapic.levels.has(0)).toBe(false);
    router.line(5).setLevel(true);
    expect(pic.levels.get(5)).toBe(true);
    expect(ioapic.levels.get(5)).toBe(true);
  });

  it('wire-ORs several sources on one IRQ', () => {
    const pic = new FakeController();
    const router = new IrqRouter(pic, null);
    const a = router.line(9);
    const b = router.line(9);
    a.setLevel(true);
    b.setLevel(true);
    a.setLevel(false);
    expect(pic.levels.get(9)).toBe(true);
    b.setLevel(false);
    expect(pic.levels.get(9)).toBe(false);
    expect(router.isHigh(9)).toBe(false);
  });

  it('refuses the cascade and out-of-range IRQs', () => {
    const router = new IrqRouter(new FakeController(), null);
    expect(() => router.line(2)).toThrow(RangeError);
    expect(() => router.line(16)).toThrow(RangeError);
  });
});

describe('debug devices', () => {
  it('debugcon writes each byte to the backend and reads back 0xE9', () => {
    const out: number[] = [];
    const con = new DebugConsole({ write: (bytes) => out.push(...bytes), setReceiver() {} });
    con.write(0, 1, 0x68);
    con.write(0, 2, 0x6968);
    expect(out).toEqual([0x68, 0x68, 0x69]);
    expect(con.read(0, 1)).toBe(DEBUGCON_READBACK);
  });

  it('the exit device reports (value << 1) | 1', () => {
    const codes: number[] = [];
    const exit = new DebugExitDevice((code) => codes.push(code));
    exit.write(0, 1, 0);
    exit.write(0, 1, 0x10);
    exit.write(0, 4, 0xffffffff);
    expect(codes).toEqual([1, 0x21, 0x1ffffffff]);
  });
});
