import type { AccessSize, DeviceState, IoRegion, IrqLine, Snapshottable } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { StateReader } from './device-state.js';
import { Pic8259 } from './pic8259.js';
import type { Pic8259Registers } from './pic8259.js';

/** The master input the slave's INT output is wired to on every PC. */
export const PIC_CASCADE_IRQ = 2;
/** Master inputs that may be level-triggered through the ELCR (IRQ0, 1 and 2 may not). */
export const ELCR_MASTER_MASK = 0xf8;
/** Slave inputs that may be level-triggered through the ELCR (IRQ8 and IRQ13 may not). */
export const ELCR_SLAVE_MASK = 0xde;

/** Options of {@link DualPic}. */
export interface DualPicOptions {
  /**
   * The INT output of the master: goes high while an interrupt is waiting for the CPU. Wire it to
   * whatever wakes the CPU (or to the local APIC's LINT0); the vector is fetched with
   * {@link DualPic.acknowledge}.
   */
  readonly intr?: IrqLine;
}

const STATE_KIND = 'dual-pic-8259';
const STATE_VERSION = 1;

/**
 * The two cascaded 8259A interrupt controllers of a PC: the master at ports 0x20/0x21, the slave at
 * 0xA0/0xA1 on the master's IRQ2, and the edge/level control registers at 0x4D0/0x4D1. Each window
 * is an {@link IoRegion} the machine maps at those ports. Devices raise interrupts through
 * {@link DualPic.irqLine}; the CPU takes them through {@link DualPic.hasInterrupt} and
 * {@link DualPic.acknowledge} (the INTA cycle), which matches cpu-x86's `InterruptSource`.
 *
 * @example
 * ```ts
 * declare const clock: Clock, backend: CharBackend, cpuDeliver: (vector: number) => void;
 * declare const io: { map(base: number, size: number, region: IoRegion): void };   // the VMM's port bus
 * const pic = new DualPic();
 * io.map(0x20, 2, pic.master); io.map(0xa0, 2, pic.slave); io.map(0x4d0, 2, pic.elcr);
 * const uart = new Uart16550({ irq: pic.irqLine(4), clock, backend });
 * if (pic.hasInterrupt()) cpuDeliver(pic.acknowledge());
 * ```
 */
export class DualPic implements Snapshottable {
  /** Ports 0x20 (offset 0) and 0x21 (offset 1). */
  readonly master: IoRegion;
  /** Ports 0xA0 (offset 0) and 0xA1 (offset 1). */
  readonly slave: IoRegion;
  /** ELCR1 at port 0x4D0 (offset 0, IRQ0-7) and ELCR2 at 0x4D1 (offset 1, IRQ8-15). */
  readonly elcr: IoRegion;

  private readonly masterChip = new Pic8259(PIC_CASCADE_IRQ, ELCR_MASTER_MASK);
  private readonly slaveChip = new Pic8259(-1, ELCR_SLAVE_MASK);
  private readonly lines: IrqLine[] = [];
  private readonly intr: IrqLine | undefined;
  private intrLevel = false;

  constructor(options: DualPicOptions = {}) {
    this.intr = options.intr;
    for (let irq = 0; irq < 16; irq++) this.lines.push({ setLevel: (high) => this.setIrq(irq, high) });
    this.master = this.chipWindow(this.masterChip);
    this.slave = this.chipWindow(this.slaveChip);
    const readElcr = (offset: number): number => {
      if (offset === 0) return this.masterChip.edgeLevelControl;
      if (offset === 1) return this.slaveChip.edgeLevelControl;
      return 0xff;
    };
    const writeElcr = (offset: number, value: number): void => {
      if (offset === 0) this.masterChip.edgeLevelControl = value;
      else if (offset === 1) this.slaveChip.edgeLevelControl = value;
    };
    this.elcr = {
      read: (offset: number, size: AccessSize) => readBytewise(readElcr, offset, size),
      write: (offset: number, size: AccessSize, value: number) => writeBytewise(writeElcr, offset, size, value),
    };
  }

  /** The request line of ISA interrupt `irq` (0-15). IRQ2 is the cascade and is not wired to a pin. */
  irqLine(irq: number): IrqLine {
    const line = this.lines[irq];
    if (line === undefined) throw new RangeError(`the PC PICs have IRQ0-IRQ15; there is no IRQ${irq}`);
    return line;
  }

  /** Drives ISA interrupt request `irq` (0-15). IRQ2 is ignored: on a PC it carries the slave. */
  setIrq(irq: number, level: boolean): void {
    if (irq >= 8 && irq < 16) {
      this.slaveChip.setInput(irq - 8, level);
    } else if (irq >= 0 && irq < 8 && irq !== PIC_CASCADE_IRQ) {
      this.masterChip.setInput(irq, level);
    }
    this.update();
  }

  /** True while the master's INT output is high. */
  hasInterrupt(): boolean {
    return this.masterChip.interruptOutput;
  }

  /**
   * The INTA cycle: returns the vector of the highest-priority request and marks it in service. When
   * the request went away before INTA the master answers with its IR7 vector (the slave with its
   * IR7 vector when the cascade input was acknowledged); no ISR bit is set for a spurious IRQ7, but the
   * master's IRQ2 bit is, so an OS must still send the master an EOI for a spurious IRQ15.
   */
  acknowledge(): number {
    const irq = this.masterChip.acknowledge();
    let vector: number;
    if (irq < 0) {
      vector = this.masterChip.vectorFor(7);
    } else if (irq === PIC_CASCADE_IRQ) {
      const slaveIrq = this.slaveChip.acknowledge();
      vector = this.slaveChip.vectorFor(slaveIrq < 0 ? 7 : slaveIrq);
    } else {
      vector = this.masterChip.vectorFor(irq);
    }
    this.update();
    return vector;
  }

  private chipWindow(chip: Pic8259): IoRegion {
    const readByte = (offset: number): number => {
      if (offset > 1) return 0xff;
      const value = chip.read(offset);
      this.update(); // a poll read acknowledges
      return value;
    };
    const writeByte = (offset: number, value: number): void => {
      if (offset > 1) return;
      chip.write(offset, value);
      this.update();
    };
    return {
      read: (offset: number, size: AccessSize) => readBytewise(readByte, offset, size),
      write: (offset: number, size: AccessSize, value: number) => writeBytewise(writeByte, offset, size, value),
    };
  }

  /** Propagates the slave's INT output to the master's IR2 and the master's to the CPU. */
  private update(): void {
    this.masterChip.setInput(PIC_CASCADE_IRQ, this.slaveChip.interruptOutput);
    const level = this.masterChip.interruptOutput;
    if (level !== this.intrLevel) {
      this.intrLevel = level;
      this.intr?.setLevel(level);
    }
  }

  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: { master: { ...this.masterChip.saveRegisters() }, slave: { ...this.slaveChip.saveRegisters() } },
    };
  }

  restoreState(state: DeviceState): void {
    const reader = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const master = readChip(reader.nested('master'));
    const slave = readChip(reader.nested('slave'));
    this.masterChip.restoreRegisters(master);
    this.slaveChip.restoreRegisters(slave);
    this.intrLevel = this.masterChip.interruptOutput;
    this.intr?.setLevel(this.intrLevel);
  }
}

function readChip(r: StateReader): Pic8259Registers {
  return {
    irr: r.int('irr', 0, 0xff), isr: r.int('isr', 0, 0xff), imr: r.int('imr', 0, 0xff), lines: r.int('lines', 0, 0xff),
    elcr: r.int('elcr', 0, 0xff), priorityAdd: r.int('priorityAdd', 0, 7), readIsr: r.bool('readIsr'),
    pollPending: r.bool('pollPending'), specialMask: r.bool('specialMask'), initStep: r.int('initStep', 0, 3),
    needIcw4: r.bool('needIcw4'), single: r.bool('single'), levelMode: r.bool('levelMode'), autoEoi: r.bool('autoEoi'),
    rotateOnAutoEoi: r.bool('rotateOnAutoEoi'), specialFullyNested: r.bool('specialFullyNested'),
    vectorBase: r.int('vectorBase', 0, 0xff), icw3: r.int('icw3', 0, 0xff), icw4: r.int('icw4', 0, 0xff),
  };
}
