import { describe, expect, it } from 'vitest';
import { PIT_FREQUENCY_HZ, Pit8254, SystemControlPortB } from '../../src/index.js';
import { ManualClock, RecordingIrqLine } from './fakes.js';

/** Virtual time (ns) at which PIT input clock edge `k` happens. */
function edge(k: number): number {
  // Edge k is at k / 1.193182 MHz; the first whole nanosecond at or after it.
  return Math.ceil((k * 1e9) / PIT_FREQUENCY_HZ);
}

function setup(start = 0) {
  const clock = new ManualClock(start);
  const irq0 = new RecordingIrqLine();
  const pit = new Pit8254({ clock, irq0 });
  const portB = new SystemControlPortB({ pit, clock });
  const out = (port: number, value: number) => {
    if (port === 0x61) portB.write(0, 1, value);
    else pit.write(port - 0x40, 1, value);
  };
  const inb = (port: number) => (port === 0x61 ? portB.read(0, 1) : pit.read(port - 0x40, 1));
  return { clock, irq0, pit, portB, out, inb };
}

describe('8254 PIT', () => {
  it('counter 2 in mode 0 raises OUT (port 0x61 bit 5) after exactly N counts, as Linux TSC calibration polls', () => {
    const { clock, out, inb } = setup();
    const latch = Math.floor(PIT_FREQUENCY_HZ / 20); // CAL_LATCH for 50 ms
    out(0x61, (inb(0x61) & ~0x02) | 0x01); // gate high, speaker off
    out(0x43, 0xb0); // counter 2, LSB then MSB, mode 0, binary
    out(0x42, latch & 0xff);
    out(0x42, latch >> 8);
    expect(inb(0x61) & 0x20).toBe(0);
    // The count is loaded by edge 1 and then counts down N edges.
    clock.advanceTo(edge(1 + latch) - 1);
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advanceTo(edge(1 + latch));
    expect(inb(0x61) & 0x20).toBe(0x20);
    // 50 ms worth of time, to within one input clock.
    expect(Math.abs(clock.now() - 50_000_000)).toBeLessThan(1000);
    // OUT stays high in mode 0 while the counter wraps.
    clock.advance(100_000_000);
    expect(inb(0x61) & 0x20).toBe(0x20);
  });

  it('quick calibration: the MSB of counter 2 read LSB/MSB steps down every 256 clocks', () => {
    const { clock, out, inb } = setup();
    out(0x61, 0x01);
    out(0x43, 0xb0);
    out(0x42, 0xff);
    out(0x42, 0xff);
    for (const k of [1, 256, 257, 1000, 5000, 65535]) {
      clock.advanceTo(edge(k));
      inb(0x42);
      const msb = inb(0x42);
      expect(msb).toBe(((0xffff - (k - 1)) >>> 8) & 0xff);
    }
  });

  it('mode 0 counter reads count down from N and wrap after terminal count', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x30); // counter 0, LSB/MSB, mode 0
    out(0x40, 100);
    out(0x40, 0);
    clock.advanceTo(edge(1));
    out(0x43, 0x00); // latch counter 0
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(100);
    clock.advanceTo(edge(41));
    out(0x43, 0x00);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(60);
    clock.advanceTo(edge(102));
    out(0x43, 0x00);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0xffff);
  });

  it('mode 0 on counter 0 raises IRQ0 once at terminal count and keeps it high', () => {
    const { clock, irq0, out } = setup();
    out(0x43, 0x30);
    out(0x40, 0x10);
    out(0x40, 0x00);
    expect(irq0.level).toBe(false);
    const before = irq0.rises;
    clock.advanceTo(edge(16));
    expect(irq0.level).toBe(false);
    clock.advanceTo(edge(17));
    expect(irq0.level).toBe(true);
    clock.advance(1_000_000);
    expect(irq0.rises - before).toBe(1);
  });

  it('mode 2 (rate generator) pulses OUT low for one clock every N clocks: IRQ0 at HZ=100', () => {
    const { clock, irq0, out } = setup();
    const latch = Math.floor((PIT_FREQUENCY_HZ + 50) / 100);
    out(0x43, 0x34); // counter 0, LSB/MSB, mode 2
    out(0x40, latch & 0xff);
    out(0x40, latch >> 8);
    const before = irq0.rises;
    clock.advanceTo(edge(latch)); // load at edge 1, count 1 at edge latch -> OUT low
    expect(irq0.level).toBe(false);
    clock.advanceTo(edge(latch + 1));
    expect(irq0.level).toBe(true);
    expect(irq0.rises - before).toBe(1);
    clock.advanceTo(1_000_000_000);
    // Rising edges at edges 1 + k * latch.
    expect(irq0.rises - before).toBe(Math.floor((PIT_FREQUENCY_HZ - 1) / latch));
  });

  it('mode 2 counter value runs N..1 and reloads', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x34);
    out(0x40, 5);
    out(0x40, 0);
    const seen: number[] = [];
    for (let k = 1; k <= 11; k++) {
      clock.advanceTo(edge(k));
      out(0x43, 0x00);
      seen.push(inb(0x40) | (inb(0x40) << 8));
    }
    expect(seen).toEqual([5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5]);
  });

  it('mode 3 gives a square wave: even N half high half low, odd N one more clock high', () => {
    for (const [n, high, low] of [[4, 2, 2], [5, 3, 2]] as const) {
      const { clock, out, inb } = setup();
      out(0x61, 0x01);
      out(0x43, 0xb6); // counter 2, LSB/MSB, mode 3
      out(0x42, n);
      out(0x42, 0);
      const levels: number[] = [];
      for (let k = 1; k <= 1 + 2 * n; k++) {
        clock.advanceTo(edge(k));
        levels.push((inb(0x61) >> 5) & 1);
      }
      const period = [...Array(high).fill(1), ...Array(low).fill(0)];
      expect(levels).toEqual([...period, ...period, 1]);
    }
  });

  it('mode 3 counter 0 at 1 kHz gives 1000 IRQ0 edges per second', () => {
    const { clock, irq0, out } = setup();
    const n = Math.round(PIT_FREQUENCY_HZ / 1000);
    out(0x43, 0x36);
    out(0x40, n & 0xff);
    out(0x40, n >> 8);
    const before = irq0.rises;
    clock.advanceTo(1_000_000_000);
    expect(irq0.rises - before).toBe(Math.floor((PIT_FREQUENCY_HZ - 1) / n));
  });

  it('mode 1 is a gate-triggered one-shot: OUT low from the clock after the trigger for N clocks', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0xb2); // counter 2, LSB/MSB, mode 1
    out(0x42, 10);
    out(0x42, 0);
    clock.advanceTo(edge(5));
    expect(inb(0x61) & 0x20).toBe(0x20); // not triggered yet
    out(0x61, 0x01); // gate rising edge at edge 5
    clock.advanceTo(edge(6));
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advanceTo(edge(15));
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advanceTo(edge(16));
    expect(inb(0x61) & 0x20).toBe(0x20);
    // Retrigger: gate low then high starts another one-shot.
    out(0x61, 0x00);
    out(0x61, 0x01);
    clock.advanceTo(edge(17));
    expect(inb(0x61) & 0x20).toBe(0);
  });

  it('mode 4 strobes OUT low for one clock N clocks after the count is loaded', () => {
    const { clock, out, inb } = setup();
    out(0x61, 0x01);
    out(0x43, 0xb8); // counter 2, LSB/MSB, mode 4
    out(0x42, 3);
    out(0x42, 0);
    const levels: number[] = [];
    for (let k = 1; k <= 6; k++) {
      clock.advanceTo(edge(k));
      levels.push((inb(0x61) >> 5) & 1);
    }
    expect(levels).toEqual([1, 1, 1, 0, 1, 1]);
  });

  it('mode 5 strobes after a gate trigger', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0xba); // counter 2, LSB/MSB, mode 5
    out(0x42, 2);
    out(0x42, 0);
    clock.advanceTo(edge(10));
    expect(inb(0x61) & 0x20).toBe(0x20);
    out(0x61, 0x01);
    const levels: number[] = [];
    for (let k = 11; k <= 14; k++) {
      clock.advanceTo(edge(k));
      levels.push((inb(0x61) >> 5) & 1);
    }
    expect(levels).toEqual([1, 1, 0, 1]);
  });

  it('gate low suspends counting in mode 0 and forces OUT high in mode 2', () => {
    const { clock, out, inb } = setup();
    out(0x61, 0x01);
    out(0x43, 0xb0);
    out(0x42, 50);
    out(0x42, 0);
    clock.advanceTo(edge(11)); // 10 counts done
    out(0x61, 0x00);
    clock.advanceTo(edge(500));
    out(0x43, 0x80);
    expect(inb(0x42) | (inb(0x42) << 8)).toBe(40);
    out(0x61, 0x01);
    clock.advanceTo(edge(510));
    out(0x43, 0x80);
    expect(inb(0x42) | (inb(0x42) << 8)).toBe(30);

    out(0x43, 0xb4); // counter 2 mode 2
    out(0x42, 4);
    out(0x42, 0);
    clock.advanceTo(edge(514)); // count at 1: OUT low
    expect(inb(0x61) & 0x20).toBe(0);
    out(0x61, 0x00);
    expect(inb(0x61) & 0x20).toBe(0x20);
  });

  it('counts in BCD', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x31); // counter 0, LSB/MSB, mode 0, BCD
    out(0x40, 0x00);
    out(0x40, 0x10); // 1000 decimal
    clock.advanceTo(edge(12)); // 11 counts
    out(0x43, 0x00);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x0989);
    clock.advanceTo(edge(1002)); // 1001 counts: wrapped to 9999
    out(0x43, 0x00);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x9999);
  });

  it('LSB-only and MSB-only access modes', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x10); // counter 0, LSB only, mode 0
    out(0x40, 0x80);
    clock.advanceTo(edge(1));
    expect(inb(0x40)).toBe(0x80);
    expect(inb(0x40)).toBe(0x80);
    out(0x43, 0x20); // MSB only
    out(0x40, 0x02); // count 0x200
    clock.advanceTo(edge(1 + 1 + 0x100));
    expect(inb(0x40)).toBe(0x01);
  });

  it('a latched count stays until read, even as time passes; a second latch is ignored', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x34);
    out(0x40, 0x00);
    out(0x40, 0x10);
    clock.advanceTo(edge(0x11));
    out(0x43, 0x00);
    clock.advanceTo(edge(0x300));
    out(0x43, 0x00);
    expect(inb(0x40)).toBe(0xf0);
    expect(inb(0x40)).toBe(0x0f);
    // Now reading live.
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x1000 - ((0x300 - 1) % 0x1000));
  });

  it('read-back reports OUT, null count and the control word; status before count', () => {
    const { clock, out, inb } = setup();
    out(0x61, 0x01);
    out(0x43, 0xb0);
    out(0xc0 & 0, 0); // no-op write to counter 0 is harmless
    out(0x43, 0xe8); // read-back: status only, counter 2
    expect(inb(0x42)).toBe(0x40 | 0x30); // OUT low, null count, LSB/MSB mode 0
    out(0x42, 5);
    out(0x42, 0);
    out(0x43, 0xe8);
    expect(inb(0x42) & 0x40).toBe(0x40);
    clock.advanceTo(edge(1));
    out(0x43, 0xe8);
    expect(inb(0x42) & 0x40).toBe(0);
    clock.advanceTo(edge(6));
    out(0x43, 0xc8); // count and status
    expect(inb(0x42)).toBe(0x80 | 0x30);
    expect(inb(0x42) | (inb(0x42) << 8)).toBe(0);
  });

  it('snapshot round trip continues counting and IRQ0', () => {
    const { clock, irq0, pit, out } = setup();
    out(0x43, 0x34);
    out(0x40, 0x9c);
    out(0x40, 0x2e);
    clock.advanceTo(5_000_000);
    const saved = JSON.parse(JSON.stringify(pit.saveState()));
    const irq2 = new RecordingIrqLine();
    const copy = new Pit8254({ clock, irq0: irq2 });
    copy.restoreState(saved);
    copy.write(3, 1, 0x00);
    pit.write(3, 1, 0x00);
    expect(copy.read(0, 1)).toBe(pit.read(0, 1));
    expect(copy.read(0, 1)).toBe(pit.read(0, 1));
    const a = irq0.rises;
    const b = irq2.rises;
    clock.advance(100_000_000);
    expect(irq2.rises - b).toBe(irq0.rises - a);
    expect(() => copy.restoreState({ kind: 'uart16550', version: 1, data: {} })).toThrow(/pit-8254/);
  });
});
