import {
  DualPic, I8042Controller, IoApic, LocalApic, Mc146818Rtc, Pit8254, SystemControlPortA, SystemControlPortB, Uart16550,
} from '../../src/index.js';
import type { AccessSize, IoRegion, Snapshottable } from '../../src/index.js';
import { LoopbackCharBackend, ManualClock } from './fakes.js';

/**
 * Every PC chipset device wired as in a machine (PIC -> LAPIC, IOAPIC -> LAPIC, PIT -> IRQ0, ...),
 * driven by abstract input tuples. Used by the property test and by scripts/fuzz-pc.ts.
 */
export class ChipsetHarness {
  readonly clock = new ManualClock(1_000_000);
  readonly pic = new DualPic();
  readonly backend = new LoopbackCharBackend();
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
  readonly pit: Pit8254;
  readonly portB: SystemControlPortB;
  readonly uart: Uart16550;
  readonly rtc: Mc146818Rtc;
  readonly kbc: I8042Controller;
  readonly portA: SystemControlPortA;
  readonly regions: Array<[IoRegion, number]>;
  readonly devices: Snapshottable[];
  resets = 0;
  nmis = 0;
  acknowledged = 0;

  constructor() {
    const clock = this.clock;
    this.lapic = new LocalApic({
      clock, extInt: this.pic, onNmi: () => this.nmis++, onLevelEoi: (v) => this.ioapic.endOfInterrupt(v),
    });
    this.ioapic = new IoApic({ target: this.lapic });
    this.pit = new Pit8254({ clock, irq0: this.pic.irqLine(0) });
    this.portB = new SystemControlPortB({ pit: this.pit, clock });
    this.uart = new Uart16550({ irq: this.pic.irqLine(4), clock, backend: this.backend });
    this.rtc = new Mc146818Rtc({ clock, irq: this.pic.irqLine(8), wallClock: { epochMs: () => 1_700_000_000_000 } });
    this.kbc = new I8042Controller({
      irq1: this.pic.irqLine(1), irq12: this.pic.irqLine(12), onReset: () => this.resets++,
    });
    this.portA = new SystemControlPortA({ onReset: () => this.resets++ });
    this.regions = [
      [this.pic.master, 2], [this.pic.slave, 2], [this.pic.elcr, 2], [this.pit, 4], [this.portB, 1], [this.uart, 8],
      [this.rtc, 2], [this.kbc.dataPort, 1], [this.kbc.commandPort, 1], [this.portA, 1], [this.lapic, 0x1000],
      [this.ioapic, 0x20],
    ];
    this.devices = [this.pic, this.pit, this.portB, this.uart, this.rtc, this.kbc, this.portA, this.lapic, this.ioapic];
  }

  /** Applies one input; `a`..`d` are arbitrary non-negative integers. */
  step(op: number, a: number, b: number, c: number, d: number): void {
    switch (op % 10) {
      case 0:
      case 1:
      case 2: {
        const [region, size] = this.regions[a % this.regions.length]!;
        const offset = size === 0x1000 ? (b % 0x400) * 4 : b % (size + 2);
        const width = ([1, 2, 4] as const)[c % 3]!;
        region.write(offset, width, interesting(d));
        break;
      }
      case 3:
      case 4: {
        const [region, size] = this.regions[a % this.regions.length]!;
        const offset = size === 0x1000 ? (b % 0x400) * 4 : b % (size + 2);
        const width = ([1, 2, 4] as const)[c % 3]! as AccessSize;
        const value = region.read(offset, width);
        if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`read returned ${value}`);
        break;
      }
      case 5:
        this.clock.advance(a % 100_000);
        break;
      case 6:
        this.pic.setIrq(a % 16, (b & 1) === 1);
        this.ioapic.setIrq(c % 24, (d & 1) === 1);
        break;
      case 7:
        if (this.lapic.hasInterrupt()) {
          const vector = this.lapic.acknowledge();
          if (!Number.isInteger(vector) || vector < 0 || vector > 0xff) throw new Error(`vector ${vector}`);
          this.acknowledged++;
        }
        break;
      case 8:
        if (a & 1) this.backend.type([b & 0xff, c & 0xff, d & 0xff]);
        else this.kbc.sendKeyboardBytes([b & 0xff, c & 0xff]);
        if ((a & 6) === 6) this.lapic.setBaseMsr(((d & 1) === 1 ? 0x800 : 0) | 0xfee00000);
        break;
      default: {
        const device = this.devices[a % this.devices.length]!;
        device.restoreState(JSON.parse(JSON.stringify(device.saveState())));
      }
    }
  }

  /** Throws if the chipset's state grew without bound or a timer leaked. */
  checkInvariants(): void {
    if (this.clock.pendingTimers > 8) throw new Error(`${this.clock.pendingTimers} timers pending`);
    for (const device of this.devices) {
      const size = JSON.stringify(device.saveState()).length;
      if (size > 400_000) throw new Error(`${device.saveState().kind} state is ${size} bytes`);
    }
    if (this.backend.output.length > 10_000_000) throw new Error('unbounded output');
  }
}

/** Biases random values toward the ones devices treat specially. */
function interesting(d: number): number {
  switch (d % 8) {
    case 0: return 0;
    case 1: return 0xff;
    case 2: return 0xffffffff;
    case 3: return 1 << (d % 32);
    default: return (d * 2654435761) >>> 0;
  }
}
