import { describe, expect, it } from 'vitest';
import { DualPic, IoApic, LocalApic } from '../../src/index.js';
import type { ApicInterruptTarget } from '../../src/index.js';
import { ManualClock } from './fakes.js';

const ID = 0x20, VER = 0x30, TPR = 0x80, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, SVR = 0xf0;
const ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310;
const LVT_TIMER = 0x320, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370;
const TIMER_INIT = 0x380, TIMER_CUR = 0x390, TIMER_DIV = 0x3e0;

function setup(options: { virtualWire?: boolean } = {}) {
  const clock = new ManualClock();
  const pic = new DualPic();
  const eois: number[] = [];
  let nmis = 0;
  const lapic = new LocalApic({ clock, extInt: pic, onLevelEoi: (v) => eois.push(v), onNmi: () => nmis++, ...options });
  const w = (reg: number, value: number) => lapic.write(reg, 4, value);
  const r = (reg: number) => lapic.read(reg, 4);
  return { clock, pic, lapic, eois, nmis: () => nmis, w, r };
}

function initPic(pic: DualPic) {
  for (const [region, base, cascade] of [[pic.master, 0x30, 4], [pic.slave, 0x38, 2]] as const) {
    region.write(0, 1, 0x11);
    region.write(1, 1, base);
    region.write(1, 1, cascade);
    region.write(1, 1, 0x01);
    region.write(1, 1, 0x00);
  }
}

describe('local APIC', () => {
  it('has the SDM reset values (with virtual wire LINT0/LINT1)', () => {
    const { r } = setup();
    expect(r(ID)).toBe(0);
    expect(r(VER)).toBe(0x00050014);
    expect(r(TPR)).toBe(0);
    expect(r(DFR)).toBe(0xffffffff);
    expect(r(SVR)).toBe(0xff);
    expect(r(LVT_TIMER)).toBe(0x10000);
    expect(r(LVT_LINT0)).toBe(0x700);
    expect(r(LVT_LINT1)).toBe(0x400);
    expect(r(LVT_ERROR)).toBe(0x10000);
    const bare = setup({ virtualWire: false });
    expect(bare.r(LVT_LINT0)).toBe(0x10000);
  });

  it('delivers the performance-counter interrupt through LVT 0x340: masked, Fixed or NMI', () => {
    const { lapic, w, r, nmis } = setup({ virtualWire: false });
    const LVT_PERF = 0x340;
    w(SVR, 0x1ff);
    expect(r(LVT_PERF)).toBe(0x10000); // masked at reset
    lapic.signalPerformanceCounter();
    expect(lapic.hasInterrupt()).toBe(false);
    w(LVT_PERF, 0x4e); // Fixed, vector 0x4E
    lapic.signalPerformanceCounter();
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x4e);
    expect(r(LVT_PERF)).toBe(0x4e); // the P6 leaves it unmasked
    w(LVT_PERF, 0x400); // NMI delivery (perf's NMI watchdog)
    lapic.signalPerformanceCounter();
    expect(nmis()).toBe(1);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('passes the 8259 through LINT0 in ExtINT mode, and when globally disabled', () => {
    const { pic, lapic } = setup();
    initPic(pic);
    pic.setIrq(1, true);
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x31);
    lapic.setEnabled(false);
    pic.setIrq(3, true);
    pic.master.write(0, 1, 0x20);
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x33);
    lapic.setBaseMsr(0xfee00800);
    expect(lapic.enabled).toBe(true);
  });

  it('a masked LINT0 blocks the 8259', () => {
    const { pic, lapic, w } = setup();
    initPic(pic);
    w(SVR, 0x1ff);
    w(LVT_LINT0, 0x10700);
    pic.setIrq(1, true);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('delivers by priority class against TPR/PPR and clears the highest ISR on EOI', () => {
    const { lapic, w, r } = setup();
    w(SVR, 0x1ff);
    lapic.deliver(0x41, false);
    lapic.deliver(0x35, false);
    expect(r(IRR + 0x20)).toBe(1 << 1);
    expect(lapic.acknowledge()).toBe(0x41);
    expect(r(ISR + 0x20)).toBe(1 << 1);
    expect(r(PPR)).toBe(0x40);
    expect(lapic.hasInterrupt()).toBe(false); // 0x35 is a lower class than 0x41 in service
    lapic.deliver(0x52, false);
    expect(lapic.acknowledge()).toBe(0x52); // nests
    w(EOI, 0);
    w(EOI, 0);
    expect(r(PPR)).toBe(0);
    w(TPR, 0x30);
    expect(lapic.hasInterrupt()).toBe(false); // class 3 is not above TPR class 3
    w(TPR, 0x20);
    expect(lapic.acknowledge()).toBe(0x35);
  });

  it('a software-disabled APIC delivers nothing and keeps LVTs masked', () => {
    const { lapic, w, r } = setup();
    lapic.deliver(0x41, false);
    expect(lapic.hasInterrupt()).toBe(false);
    w(LVT_TIMER, 0x30);
    expect(r(LVT_TIMER) & 0x10000).toBe(0x10000);
    w(SVR, 0x1ff);
    expect(lapic.acknowledge()).toBe(0x41);
    expect(lapic.acknowledge()).toBe(0xff); // nothing left: spurious vector
  });

  it('level-triggered vectors set TMR and forward the EOI', () => {
    const { lapic, eois, w, r } = setup();
    w(SVR, 0x1ff);
    lapic.deliver(0x61, true);
    expect(r(TMR + 0x30)).toBe(1 << 1);
    expect(lapic.acknowledge()).toBe(0x61);
    w(EOI, 0);
    expect(eois).toEqual([0x61]);
  });

  it('self IPIs: shorthand self, physical destination = own ID, logical flat; illegal vectors set ESR', () => {
    const { lapic, w, r, nmis } = setup();
    w(SVR, 0x1ff);
    w(ICR_LO, 0x40000 | 0x50); // self
    expect(lapic.acknowledge()).toBe(0x50);
    w(EOI, 0);
    w(ICR_HI, 0);
    w(ICR_LO, 0x51); // physical destination 0
    expect(lapic.acknowledge()).toBe(0x51);
    w(EOI, 0);
    w(LDR, 0x01000000);
    w(ICR_HI, 0x01000000);
    w(ICR_LO, 0x800 | 0x52); // logical flat
    expect(lapic.acknowledge()).toBe(0x52);
    w(EOI, 0);
    w(ICR_HI, 0x02000000);
    w(ICR_LO, 0x800 | 0x53);
    expect(lapic.hasInterrupt()).toBe(false);
    w(ICR_LO, 0x40000 | 0x400); // NMI to self
    expect(nmis()).toBe(1);
    w(LVT_ERROR, 0xfe);
    w(ICR_LO, 0x40000 | 0x05);
    w(ESR, 0);
    expect(r(ESR)).toBe(0x20);
    expect(lapic.acknowledge()).toBe(0xfe); // error interrupt
    expect(r(ICR_LO) & 0x1000).toBe(0); // delivery status idle
  });

  it('timer one-shot counts down with the divider and fires once', () => {
    const { clock, lapic, w, r } = setup();
    w(SVR, 0x1ff);
    w(TIMER_DIV, 0x3); // divide by 16
    w(LVT_TIMER, 0xef);
    w(TIMER_INIT, 1000);
    clock.advance(16 * 250);
    expect(r(TIMER_CUR)).toBe(750);
    clock.advance(16 * 750 - 1);
    expect(lapic.hasInterrupt()).toBe(false);
    clock.advance(1);
    expect(r(TIMER_CUR)).toBe(0);
    expect(lapic.acknowledge()).toBe(0xef);
    w(EOI, 0);
    clock.advance(1_000_000);
    expect(lapic.hasInterrupt()).toBe(false);
    expect(r(TIMER_CUR)).toBe(0);
  });

  it('timer periodic mode reloads; every divide value', () => {
    const { clock, lapic, w, r } = setup();
    w(SVR, 0x1ff);
    w(TIMER_DIV, 0xb); // divide by 1
    w(LVT_TIMER, 0x20000 | 0xec);
    w(TIMER_INIT, 2000);
    let fired = 0;
    for (let i = 0; i < 2000; i++) {
      clock.advance(100);
      if (lapic.hasInterrupt()) {
        expect(lapic.acknowledge()).toBe(0xec);
        w(EOI, 0);
        fired++;
      }
    }
    expect(fired).toBe(100);
    expect(r(TIMER_CUR)).toBe(2000);
    // A period below one microsecond still counts exactly, but its interrupts coalesce.
    w(TIMER_INIT, 10);
    clock.advance(3);
    expect(r(TIMER_CUR)).toBe(7);
    fired = 0;
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      if (lapic.hasInterrupt()) {
        lapic.acknowledge();
        w(EOI, 0);
        fired++;
      }
    }
    expect(fired).toBeGreaterThanOrEqual(9);
    expect(fired).toBeLessThanOrEqual(11);
    for (const [code, divisor] of [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]]) {
      w(LVT_TIMER, 0x10000);
      w(TIMER_DIV, code!);
      w(TIMER_INIT, 1000);
      clock.advance(divisor! * 10);
      expect(r(TIMER_CUR)).toBe(990);
    }
    w(TIMER_INIT, 0);
    expect(r(TIMER_CUR)).toBe(0);
  });

  it('LINT1 in NMI mode raises an NMI on a rising edge', () => {
    const { lapic, nmis } = setup();
    lapic.lint1.setLevel(true);
    lapic.lint1.setLevel(false);
    expect(nmis()).toBe(1);
  });

  it('relocates through the base MSR callback and round-trips a snapshot', () => {
    const clock = new ManualClock();
    const moves: number[] = [];
    const lapic = new LocalApic({ clock, onBaseChange: (b) => moves.push(b) });
    lapic.setBaseMsr(0xfed00900);
    expect(moves).toEqual([0xfed00000]);
    expect(lapic.baseMsr).toBe(0xfed00900);
    lapic.write(SVR, 4, 0x1ff);
    lapic.write(LVT_TIMER, 4, 0x20000 | 0x40);
    lapic.write(TIMER_INIT, 4, 5000);
    lapic.deliver(0x80, true);
    clock.advance(1234);
    const copy = new LocalApic({ clock });
    copy.restoreState(JSON.parse(JSON.stringify(lapic.saveState())));
    expect(copy.read(TIMER_CUR, 4)).toBe(lapic.read(TIMER_CUR, 4));
    expect(copy.read(TMR + 0x40, 4)).toBe(1);
    expect(copy.acknowledge()).toBe(0x80);
    copy.write(EOI, 4, 0);
    clock.advance(10_000); // 5000 counts at the reset divide-by-2
    expect(copy.hasInterrupt()).toBe(true);
    expect(copy.acknowledge()).toBe(0x40);
  });
});

class RecordingTarget implements ApicInterruptTarget {
  readonly delivered: Array<[number, boolean]> = [];
  nmis = 0;
  extInts = 0;
  deliver(vector: number, level: boolean): void {
    this.delivered.push([vector, level]);
  }
  deliverNmi(): void {
    this.nmis++;
  }
  deliverExtInt(): void {
    this.extInts++;
  }
}

describe('I/O APIC', () => {
  function setupIo() {
    const target = new RecordingTarget();
    const io = new IoApic({ target, id: 2 });
    const w = (index: number, value: number) => {
      io.write(0x00, 4, index);
      io.write(0x10, 4, value);
    };
    const r = (index: number) => {
      io.write(0x00, 4, index);
      return io.read(0x10, 4);
    };
    return { target, io, w, r };
  }

  it('has ID, version (24 entries), arbitration and masked entries after reset', () => {
    const { r, io } = setupIo();
    expect(r(0)).toBe(0x02000000);
    expect(r(1)).toBe(0x00170011);
    expect(r(2)).toBe(0x02000000);
    for (let pin = 0; pin < 24; pin++) expect(r(0x10 + 2 * pin)).toBe(0x10000);
    expect(io.read(0x00, 4)).toBe(0x10 + 2 * 23); // IOREGSEL reads back
  });

  it('delivers edge-triggered pins on the rising edge only, not while masked', () => {
    const { target, io, w, r } = setupIo();
    w(0x10 + 2 * 4, 0x34);
    w(0x11 + 2 * 4, 0xff000000);
    expect(r(0x11 + 2 * 4)).toBe(0xff000000);
    io.setIrq(4, true);
    io.setIrq(4, true);
    io.setIrq(4, false);
    io.setIrq(4, true);
    expect(target.delivered).toEqual([[0x34, false], [0x34, false]]);
    w(0x10 + 2 * 4, 0x10034);
    io.setIrq(4, false);
    io.setIrq(4, true);
    w(0x10 + 2 * 4, 0x34);
    expect(target.delivered.length).toBe(2); // a masked edge is lost
  });

  it('level-triggered: remote IRR until EOI, re-delivered while still asserted', () => {
    const { target, io, w, r } = setupIo();
    w(0x10 + 2 * 11, 0x8000 | 0x2000 | 0x59);
    io.irqLine(11).setLevel(true);
    expect(target.delivered).toEqual([[0x59, true]]);
    expect(r(0x10 + 2 * 11) & 0x4000).toBe(0x4000);
    io.setIrq(11, false);
    io.setIrq(11, true);
    expect(target.delivered.length).toBe(1); // remote IRR holds it
    io.endOfInterrupt(0x59);
    expect(target.delivered.length).toBe(2);
    io.setIrq(11, false);
    io.endOfInterrupt(0x59);
    expect(r(0x10 + 2 * 11) & 0x4000).toBe(0);
    expect(target.delivered.length).toBe(2);
  });

  it('unmasking an asserted level pin delivers it; NMI and ExtINT modes', () => {
    const { target, io, w } = setupIo();
    io.setIrq(9, true);
    w(0x10 + 2 * 9, 0x8000 | 0x10000 | 0x61);
    expect(target.delivered.length).toBe(0);
    w(0x10 + 2 * 9, 0x8000 | 0x61);
    expect(target.delivered).toEqual([[0x61, true]]);
    w(0x10 + 2 * 0, 0x700);
    io.setIrq(0, true);
    expect(target.extInts).toBe(1);
    w(0x10 + 2 * 1, 0x400);
    io.setIrq(1, true);
    expect(target.nmis).toBe(1);
    expect(() => io.irqLine(24)).toThrow(RangeError);
  });

  it('chains IOAPIC -> LAPIC -> CPU with the EOI broadcast back', () => {
    const clock = new ManualClock();
    let io: IoApic | null = null;
    const lapic = new LocalApic({ clock, onLevelEoi: (v) => io!.endOfInterrupt(v) });
    io = new IoApic({ target: lapic });
    lapic.write(SVR, 4, 0x1ff);
    io.write(0, 4, 0x10 + 2 * 10);
    io.write(0x10, 4, 0x8000 | 0x71);
    io.setIrq(10, true);
    expect(lapic.acknowledge()).toBe(0x71);
    lapic.write(EOI, 4, 0);
    expect(lapic.acknowledge()).toBe(0x71); // still asserted: delivered again
    io.setIrq(10, false);
    lapic.write(EOI, 4, 0);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('snapshot round trip', () => {
    const { io, w } = setupIo();
    w(0x10 + 2 * 5, 0x8000 | 0x45);
    io.setIrq(5, true);
    const target = new RecordingTarget();
    const copy = new IoApic({ target });
    copy.restoreState(JSON.parse(JSON.stringify(io.saveState())));
    copy.endOfInterrupt(0x45);
    expect(target.delivered).toEqual([[0x45, true]]);
  });
});
