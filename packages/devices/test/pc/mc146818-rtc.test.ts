import { describe, expect, it } from 'vitest';
import { Mc146818Rtc, pcCmosMemorySize } from '../../src/index.js';
import { ManualClock, RecordingIrqLine } from './fakes.js';

function setup(iso = '2024-02-29T23:59:58.500Z', cmos?: Record<number, number>) {
  const clock = new ManualClock();
  const irq = new RecordingIrqLine();
  const epoch = Date.parse(iso);
  const rtc = new Mc146818Rtc({ clock, irq, wallClock: { epochMs: () => epoch }, ...(cmos ? { cmos } : {}) });
  const get = (index: number) => {
    rtc.write(0, 1, index);
    return rtc.read(1, 1);
  };
  const set = (index: number, value: number) => {
    rtc.write(0, 1, index);
    rtc.write(1, 1, value);
  };
  return { clock, irq, rtc, get, set };
}

const readTime = (get: (i: number) => number) => [0, 2, 4, 6, 7, 8, 9, 0x32].map(get);

describe('MC146818 RTC and CMOS', () => {
  it('has PC reset values in registers A-D', () => {
    const { get } = setup();
    expect(get(0x0a) & 0x7f).toBe(0x26);
    expect(get(0x0b)).toBe(0x02);
    expect(get(0x0c)).toBe(0x00);
    expect(get(0x0d)).toBe(0x80);
  });

  it('shows the wall-clock time in BCD and advances with virtual time across a leap day', () => {
    const { clock, get } = setup();
    // 2024-02-29 was a Thursday: day of week 5.
    expect(readTime(get)).toEqual([0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20]);
    clock.advance(499_999_999);
    expect(get(0)).toBe(0x58);
    clock.advance(1);
    expect(get(0)).toBe(0x59);
    clock.advance(1_000_000_000);
    expect(readTime(get)).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]);
  });

  it('binary and 12-hour formats follow register B', () => {
    const { get, set } = setup('1999-12-31T23:15:07Z');
    set(0x0b, 0x04); // binary, 12-hour
    expect(get(4)).toBe(0x80 | 11);
    expect(get(2)).toBe(15);
    expect(get(9)).toBe(99);
    expect(get(0x32)).toBe(19);
    set(0x0b, 0x00); // BCD, 12-hour
    expect(get(4)).toBe(0x91);
    set(0x0b, 0x06); // binary 24-hour
    expect(get(4)).toBe(23);
  });

  it('SET stops updates so the time can be written; clearing SET restarts from the new time', () => {
    const { clock, get, set } = setup();
    set(0x0b, 0x82);
    set(0x0b, 0x82 | 0x10);
    expect(get(0x0b) & 0x10).toBe(0); // SET clears UIE
    set(0, 0x30);
    set(2, 0x45);
    set(4, 0x12);
    set(7, 0x15);
    set(8, 0x06);
    set(9, 0x07);
    set(0x32, 0x20);
    clock.advance(5_000_000_000);
    expect(get(0)).toBe(0x30);
    set(0x0b, 0x02);
    clock.advance(2_000_000_000);
    expect(readTime(get)).toEqual([0x32, 0x45, 0x12, 0x06, 0x15, 0x06, 0x07, 0x20]); // 2007-06-15 was a Friday
  });

  it('UIP is set during the 244 us before each update', () => {
    const { clock, get } = setup('2024-01-01T00:00:00.000Z');
    clock.advanceTo(1_000_000_000 - 244_001);
    expect(get(0x0a) & 0x80).toBe(0);
    clock.advanceTo(1_000_000_000 - 244_000);
    expect(get(0x0a) & 0x80).toBe(0x80);
    clock.advanceTo(1_000_000_000);
    expect(get(0x0a) & 0x80).toBe(0);
  });

  it('periodic interrupt at the rate select (RS=6: 1024 Hz; RS=15: 2 Hz); PF is set even without PIE', () => {
    for (const [rs, hz] of [[6, 1024], [15, 2], [3, 8192]] as const) {
      const { clock, irq, get, set } = setup('2024-01-01T00:00:00.000Z');
      set(0x0a, 0x20 | rs);
      expect(get(0x0c)).toBe(0);
      clock.advance(1e9 / hz + 1);
      expect(get(0x0c) & 0x40).toBe(0x40);
      expect(irq.level).toBe(false);
      set(0x0b, 0x02 | 0x40);
      get(0x0c);
      let count = 0;
      const steps = 20000;
      for (let i = 0; i < steps; i++) {
        clock.advance(1e9 / steps);
        if (irq.level) {
          expect(get(0x0c) & 0xc0).toBe(0xc0);
          count++;
        }
      }
      expect(count).toBe(hz);
    }
  });

  it('update-ended interrupt once a second', () => {
    const { clock, irq, get, set } = setup('2024-01-01T00:00:00.250Z');
    set(0x0b, 0x12);
    clock.advance(749_999_999);
    expect(irq.level).toBe(false);
    clock.advance(1);
    expect(irq.level).toBe(true);
    expect(get(0x0c) & 0xb0).toBe(0x90); // PF is set too: the 1024 Hz rate runs without PIE
    expect(irq.level).toBe(false);
    clock.advance(1_000_000_000);
    expect(get(0x0c) & 0xb0).toBe(0x90);
  });

  it('alarm with a don\'t-care hour fires at the next matching minute and second', () => {
    const { clock, irq, get, set } = setup('2024-01-01T10:20:30.000Z');
    set(1, 0x05); // seconds
    set(3, 0x21); // minutes
    set(5, 0xc0); // any hour
    set(0x0b, 0x22); // AIE
    clock.advance(34_999_999_999);
    expect(irq.level).toBe(false);
    clock.advance(1);
    expect(irq.level).toBe(true);
    expect(get(0x0c) & 0xa0).toBe(0xa0);
    // Fully don't-care alarm: every second.
    set(1, 0xff);
    set(3, 0xff);
    clock.advance(1_000_000_000);
    expect(get(0x0c) & 0x20).toBe(0x20);
  });

  it('divider reset stops the clock and the first update comes 500 ms after release', () => {
    const { clock, get, set } = setup('2024-01-01T00:00:00.000Z');
    set(0x0a, 0x76);
    clock.advance(3_000_000_000);
    expect(get(0)).toBe(0x00);
    set(0x0a, 0x26);
    clock.advance(499_999_999);
    expect(get(0)).toBe(0x00);
    clock.advance(1);
    expect(get(0)).toBe(0x01);
  });

  it('index port: NMI disable bit and 128 bytes of NVRAM with presets', () => {
    const { rtc, get, set } = setup(undefined, pcCmosMemorySize(128 * 1024 * 1024));
    expect(get(0x15) | (get(0x16) << 8)).toBe(640);
    expect(get(0x30) | (get(0x31) << 8)).toBe(0xffff);
    expect(get(0x34) | (get(0x35) << 8)).toBe((112 * 1024) / 64);
    rtc.write(0, 1, 0x80 | 0x40);
    expect(rtc.nmiDisabled).toBe(true);
    rtc.write(1, 1, 0x99);
    rtc.write(0, 1, 0x40);
    expect(rtc.nmiDisabled).toBe(false);
    expect(rtc.read(1, 1)).toBe(0x99);
    set(0x7f, 0x12);
    expect(get(0x7f)).toBe(0x12);
    set(0x0d, 0);
    expect(get(0x0d)).toBe(0x80);
    expect(rtc.read(0, 1)).toBe(0xff);
    expect(() => setup(undefined, { 0x05: 1 })).toThrow(RangeError);
  });

  it('memory size layout for small and large RAM', () => {
    const small = pcCmosMemorySize(32 * 1024 * 1024);
    expect(small[0x17]! | (small[0x18]! << 8)).toBe(31 * 1024);
    expect(small[0x34]! | (small[0x35]! << 8)).toBe(256);
    const big = pcCmosMemorySize(3 * 1024 * 1024 * 1024, 2 * 1024 * 1024 * 1024);
    expect(big[0x5b]! | (big[0x5c]! << 8) | (big[0x5d]! << 16)).toBe(32768);
  });

  it('snapshot round trip keeps time, format and NVRAM', () => {
    const { clock, rtc, get, set } = setup();
    set(0x0b, 0x06);
    set(0x40, 0x5a);
    const state = JSON.parse(JSON.stringify(rtc.saveState()));
    const copy = new Mc146818Rtc({ clock, irq: new RecordingIrqLine(), wallClock: { epochMs: () => 0 } });
    copy.restoreState(state);
    clock.advance(3_000_000_000);
    for (const index of [0, 2, 4, 7, 8, 9, 0x0b, 0x40]) {
      copy.write(0, 1, index);
      expect(copy.read(1, 1)).toBe(get(index));
    }
  });
});
