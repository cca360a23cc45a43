import { describe, expect, it } from 'vitest';
import { I8042Controller, SystemControlPortA } from '../../src/index.js';
import { RecordingIrqLine } from './fakes.js';

function setup() {
  const irq1 = new RecordingIrqLine();
  const irq12 = new RecordingIrqLine();
  const a20: boolean[] = [];
  let resets = 0;
  const kbc = new I8042Controller({ irq1, irq12, onA20: (on) => a20.push(on), onReset: () => resets++ });
  const status = () => kbc.commandPort.read(0, 1);
  const command = (value: number) => kbc.commandPort.write(0, 1, value);
  const data = () => kbc.dataPort.read(0, 1);
  const writeData = (value: number) => kbc.dataPort.write(0, 1, value);
  /** Reads everything in the output buffer, as Linux's i8042_flush does. */
  const drain = () => {
    const bytes: number[] = [];
    for (let i = 0; i < 64 && (status() & 1); i++) bytes.push(data());
    return bytes;
  };
  return { kbc, irq1, irq12, a20, resets: () => resets, status, command, data, writeData, drain };
}

describe('i8042 keyboard controller', () => {
  it('reports an idle status after reset', () => {
    const { status } = setup();
    expect(status() & 0x03).toBe(0);
    expect(status() & 0x04).toBe(0x04); // system flag from the command byte
    expect(status() & 0x10).toBe(0x10);
  });

  it("passes Linux's controller probe: flush, self test, CTR read/write, AUX loop, AUX IRQ test", () => {
    const { command, writeData, status, data, drain, irq12 } = setup();
    expect(drain()).toEqual([]);
    command(0xaa);
    expect(status() & 1).toBe(1);
    expect(data()).toBe(0x55);
    command(0x20);
    const ctr = data();
    command(0x20);
    expect(data()).toBe(ctr);
    command(0x60);
    writeData(ctr | 0x02);
    command(0x20);
    expect(data()).toBe(ctr | 0x02);
    expect(status() & 0x08).toBe(0x08); // last write was a command
    // AUX loopback 0x5a.
    command(0xd3);
    writeData(0x5a);
    expect(status() & 0x21).toBe(0x21);
    expect(irq12.level).toBe(true);
    expect(data()).toBe(0x5a);
    expect(irq12.level).toBe(false);
    // Bit assignment test: 0xA7 sets CTR bit 5, 0xA8 clears it.
    command(0xa7);
    command(0x20);
    expect(data() & 0x20).toBe(0x20);
    command(0xa8);
    command(0x20);
    expect(data() & 0x20).toBe(0);
    command(0xa9);
    expect(data()).toBe(0x00);
    command(0xab);
    expect(data()).toBe(0x00);
  });

  it("answers the atkbd probe: reset, identify, LEDs, scanning", () => {
    const { writeData, drain, irq1, data, status } = setup();
    writeData(0xff);
    expect(irq1.level).toBe(true);
    expect(drain()).toEqual([0xfa, 0xaa]);
    expect(irq1.level).toBe(false);
    writeData(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]); // translated ID
    writeData(0xed);
    writeData(0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
    writeData(0xf5);
    writeData(0xf4);
    expect(drain()).toEqual([0xfa, 0xfa]);
    writeData(0xee);
    expect(drain()).toEqual([0xee]);
    writeData(0x01);
    expect(drain()).toEqual([0xfe]);
    writeData(0xf0);
    writeData(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x41]); // each byte is acknowledged
    expect(status() & 1).toBe(0);
    expect(data()).toBe(0x41); // empty buffer reads the last byte
  });

  it('delivers host keystrokes on IRQ1 one byte at a time, not while the keyboard is disabled', () => {
    const { kbc, command, irq1, data, status } = setup();
    command(0xad);
    kbc.sendKeyboardBytes([0x1e, 0x9e]);
    expect(status() & 1).toBe(0);
    command(0xae);
    expect(irq1.level).toBe(true);
    const before = irq1.rises;
    expect(data()).toBe(0x1e);
    expect(irq1.level).toBe(true);
    expect(irq1.rises).toBe(before + 1); // the line fell and rose again for the next byte
    expect(data()).toBe(0x9e);
    expect(irq1.level).toBe(false);
  });

  it('drives A20 through the output port and resets via 0xFE and output port bit 0', () => {
    const t = setup();
    t.command(0xd0);
    expect(t.data() & 0x03).toBe(0x03);
    t.command(0xd1);
    t.writeData(0x01); // A20 off
    expect(t.a20).toEqual([false]);
    t.command(0xd1);
    t.writeData(0x03);
    expect(t.a20).toEqual([false, true]);
    t.command(0xdd);
    t.command(0xdf);
    expect(t.a20).toEqual([false, true, false, true]);
    t.command(0xfe);
    expect(t.resets()).toBe(1);
    t.command(0xff);
    expect(t.resets()).toBe(1);
    t.command(0xd1);
    t.writeData(0x02);
    expect(t.resets()).toBe(2);
  });

  it('has a minimal PS/2 mouse behind 0xD4', () => {
    const { command, writeData, drain, irq12 } = setup();
    command(0x60);
    writeData(0x47);
    const send = (b: number) => {
      command(0xd4);
      writeData(b);
    };
    send(0xff);
    expect(irq12.level).toBe(true);
    expect(drain()).toEqual([0xfa, 0xaa, 0x00]);
    send(0xf2);
    expect(drain()).toEqual([0xfa, 0x00]);
    send(0xf3);
    send(200);
    send(0xe9);
    expect(drain()).toEqual([0xfa, 0xfa, 0xfa, 0x00, 0x02, 200]);
    send(0xf4);
    expect(drain()).toEqual([0xfa]);
  });

  it('snapshot round trip keeps queued bytes and the command byte', () => {
    const { kbc, writeData, command } = setup();
    command(0x60);
    writeData(0x65);
    writeData(0xf2);
    const state = JSON.parse(JSON.stringify(kbc.saveState()));
    const irq1 = new RecordingIrqLine();
    const copy = new I8042Controller({ irq1, irq12: new RecordingIrqLine() });
    copy.restoreState(state);
    expect(irq1.level).toBe(true);
    const bytes = [copy.dataPort.read(0, 1), copy.dataPort.read(0, 1), copy.dataPort.read(0, 1)];
    expect(bytes).toEqual([0xfa, 0xab, 0x41]);
    copy.commandPort.write(0, 1, 0x20);
    expect(copy.dataPort.read(0, 1)).toBe(0x65);
  });
});

describe('system control port A (0x92)', () => {
  it('gates A20 with bit 1 and resets with bit 0', () => {
    const a20: boolean[] = [];
    let resets = 0;
    const port = new SystemControlPortA({ onA20: (on) => a20.push(on), onReset: () => resets++ });
    expect(port.read(0, 1)).toBe(0x02);
    port.write(0, 1, 0x00);
    expect(a20).toEqual([false]);
    expect(port.a20Enabled).toBe(false);
    port.write(0, 1, 0x03);
    expect(a20).toEqual([false, true]);
    expect(resets).toBe(1);
    expect(port.read(0, 1)).toBe(0x02);
    const copy = new SystemControlPortA({ a20Enabled: false });
    copy.restoreState(JSON.parse(JSON.stringify(port.saveState())));
    expect(copy.a20Enabled).toBe(true);
  });
});
