import { describe, expect, it } from 'vitest';
import {
  BufferCharBackend,
  ConsoleConfigOffset,
  ConsoleFeature,
  ConsoleQueue,
  FeatureSet,
  InterruptBit,
  MmioRegister,
  VirtioConsole,
  VirtioFeature,
} from '@typevisor/devices';
import { rig } from './harness.js';

function consoleRig(options: { inputBufferSize?: number; features?: (offered: FeatureSet) => FeatureSet } = {}) {
  const backend = new BufferCharBackend();
  const r = rig(new VirtioConsole({ backend, cols: 100, rows: 30, ...(options.inputBufferSize === undefined ? {} : { inputBufferSize: options.inputBufferSize }) }));
  r.driver.init(options.features === undefined ? {} : { features: options.features });
  return { ...r, backend };
}

describe('virtio-console', () => {
  it('reports the console size and one port in config space', () => {
    const { driver } = consoleRig();
    expect(driver.readConfig(ConsoleConfigOffset.COLS, 2)).toBe(100);
    expect(driver.readConfig(ConsoleConfigOffset.ROWS, 2)).toBe(30);
    expect(driver.readConfig(ConsoleConfigOffset.MAX_NR_PORTS, 4)).toBe(1);
    expect(driver.deviceFeatures().has(ConsoleFeature.SIZE)).toBe(true);
  });

  it('writes guest output to the backend', () => {
    const { driver, backend, device } = consoleRig();
    driver.submit(ConsoleQueue.TX, [{ readable: new TextEncoder().encode('hello, ') }, { readable: new TextEncoder().encode('world\n') }]);
    driver.kick(ConsoleQueue.TX);
    expect(backend.text()).toBe('hello, world\n');
    expect(driver.takeUsed(ConsoleQueue.TX).map((u) => u.length)).toEqual([0]);
    expect(device.stats.outputBytes).toBe(13);
  });

  it('delivers host input into posted receive buffers, splitting across buffers', () => {
    const { driver, backend } = consoleRig();
    driver.submit(ConsoleQueue.RX, [{ writable: 4 }]);
    driver.submit(ConsoleQueue.RX, [{ writable: 16 }]);
    driver.kick(ConsoleQueue.RX);
    backend.type('ls -la\n');
    const used = driver.takeUsed(ConsoleQueue.RX);
    expect(used.map((u) => new TextDecoder().decode(u.written))).toEqual(['ls -', 'la\n']);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS) & InterruptBit.USED_BUFFER).toBe(InterruptBit.USED_BUFFER);
  });

  it('buffers input boundedly until the guest posts buffers', () => {
    const { driver, backend, device } = consoleRig({ inputBufferSize: 8 });
    backend.type('0123456789');
    expect(device.pendingInput).toBe(8);
    expect(device.stats.inputDropped).toBe(2);
    driver.submit(ConsoleQueue.RX, [{ writable: 64 }]);
    driver.kick(ConsoleQueue.RX);
    expect(new TextDecoder().decode(driver.takeUsed(ConsoleQueue.RX)[0]?.written)).toBe('01234567');
    expect(device.pendingInput).toBe(0);
  });

  it('wraps its input ring buffer correctly', () => {
    const { driver, backend } = consoleRig({ inputBufferSize: 8 });
    driver.submit(ConsoleQueue.RX, [{ writable: 5 }]);
    driver.kick(ConsoleQueue.RX);
    backend.type('abcde');
    backend.type('fghijk');
    driver.submit(ConsoleQueue.RX, [{ writable: 64 }]);
    driver.kick(ConsoleQueue.RX);
    expect(driver.takeUsed(ConsoleQueue.RX).map((u) => new TextDecoder().decode(u.written))).toEqual(['abcde', 'fghijk']);
  });

  it('resize() updates cols/rows and raises a configuration change', () => {
    const { driver, device, irq } = consoleRig();
    device.resize(200, 50);
    expect(driver.readConfig(ConsoleConfigOffset.COLS, 2)).toBe(200);
    expect(driver.readConfig(ConsoleConfigOffset.ROWS, 2)).toBe(50);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS)).toBe(InterruptBit.CONFIG_CHANGE);
    expect(irq.level).toBe(true);
  });

  it('emergency write emits one byte when VIRTIO_CONSOLE_F_EMERG_WRITE was negotiated', () => {
    const { driver, backend, transport } = consoleRig();
    driver.transport.write(MmioRegister.CONFIG + ConsoleConfigOffset.EMERG_WR, 4, 0x21);
    expect(backend.text()).toBe('!');
    const other = consoleRig({ features: () => FeatureSet.of(VirtioFeature.VERSION_1) });
    other.driver.transport.write(MmioRegister.CONFIG + ConsoleConfigOffset.EMERG_WR, 4, 0x21);
    expect(other.backend.text()).toBe('');
    expect(other.transport.stats.illegalStateWrites).toBe(1);
    expect(transport.stats.illegalStateWrites).toBe(0);
  });

  it('keeps pending input and size across a snapshot', () => {
    const a = consoleRig();
    a.device.resize(90, 40);
    a.backend.type('pending');
    const b = rig(new VirtioConsole({ backend: new BufferCharBackend() }));
    b.memory.bytes.set(a.memory.bytes);
    b.transport.restoreState(JSON.parse(JSON.stringify(a.transport.saveState())));
    expect(b.device.cols).toBe(90);
    expect(b.device.rows).toBe(40);
    expect(b.device.pendingInput).toBe(7);
  });
});
