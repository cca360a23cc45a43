/**
 * One Intel 8259A programmable interrupt controller: eight request inputs, the IRR/ISR/IMR registers,
 * the ICW1-ICW4 initialisation sequence and the OCW1-OCW3 operation commands. {@link DualPic} pairs
 * two of them the way every PC does; this class only knows offsets 0 (A0 = 0) and 1 (A0 = 1).
 */

/** ICW1 is recognised by bit 4 on a write with A0 = 0. */
export const ICW1_INIT = 0x10;
/** ICW1: an ICW4 follows. */
export const ICW1_IC4 = 0x01;
/** ICW1: single 8259A, no ICW3. */
export const ICW1_SNGL = 0x02;
/** ICW1: level-triggered inputs (LTIM). */
export const ICW1_LTIM = 0x08;
/** ICW4: automatic end of interrupt. */
export const ICW4_AEOI = 0x02;
/** ICW4: special fully nested mode. */
export const ICW4_SFNM = 0x10;
/** An OCW3 has bit 3 set and bit 4 clear. */
export const OCW3_SELECT = 0x08;
/** OCW3: poll command. */
export const OCW3_POLL = 0x04;
/** OCW3: read register command (RR); RIS picks ISR over IRR. */
export const OCW3_RR = 0x02;
/** OCW3: read ISR (with RR). */
export const OCW3_RIS = 0x01;
/** OCW3: enable special mask mode change (ESMM). */
export const OCW3_ESMM = 0x40;
/** OCW3: special mask mode value (SMM). */
export const OCW3_SMM = 0x20;

/** OCW2 commands, bits 7-5 (R, SL, EOI). */
export const Ocw2 = {
  RotateInAutoEoiClear: 0,
  NonSpecificEoi: 1,
  NoOperation: 2,
  SpecificEoi: 3,
  RotateInAutoEoiSet: 4,
  RotateOnNonSpecificEoi: 5,
  SetPriority: 6,
  RotateOnSpecificEoi: 7,
} as const;

const INIT_IDLE = 0;
const INIT_ICW2 = 1;
const INIT_ICW3 = 2;
const INIT_ICW4 = 3;

/** The saved registers of one 8259A. */
export interface Pic8259Registers {
  irr: number; isr: number; imr: number; lines: number; elcr: number; priorityAdd: number;
  readIsr: boolean; pollPending: boolean; specialMask: boolean; initStep: number; needIcw4: boolean;
  single: boolean; levelMode: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean;
  specialFullyNested: boolean; vectorBase: number; icw3: number; icw4: number;
}

/** One 8259A. Used through {@link DualPic}; exported for machines with a single controller. */
export class Pic8259 {
  private irr = 0;
  private isr = 0;
  private imr = 0;
  /** Current level of the eight IR inputs. */
  private lines = 0;
  /** Inputs switched to level sensitivity by the chipset's ELCR. */
  private elcr = 0;
  /** The level that currently has the highest priority (changed by rotation). */
  private priorityAdd = 0;
  private readIsr = false;
  private pollPending = false;
  private specialMask = false;
  private initStep = INIT_IDLE;
  private needIcw4 = false;
  private single = false;
  private levelMode = false;
  private autoEoi = false;
  private rotateOnAutoEoi = false;
  private specialFullyNested = false;
  private vectorBase = 0;
  private icw3 = 0;
  private icw4 = 0;

  /**
   * @param cascadeInput - the IR input a slave is attached to (2 on a PC master), or -1.
   * @param elcrMask - which inputs the ELCR may switch to level mode.
   */
  constructor(private readonly cascadeInput: number, readonly elcrMask: number) {}

  /** Drives IR input `irq` (0-7). A request that goes away before INTA is lost, as on the chip. */
  setInput(irq: number, level: boolean): void {
    const mask = 1 << irq;
    if (level) {
      if ((this.lines & mask) === 0) {
        this.lines |= mask;
        this.irr |= mask;
      }
    } else if ((this.lines & mask) !== 0) {
      this.lines &= ~mask;
      this.irr &= ~mask;
    }
  }

  /** The INT output: an unmasked request outranks everything in service. */
  get interruptOutput(): boolean {
    return this.highestRequest() >= 0;
  }

  /** The vector this chip puts on the bus for input `irq`. */
  vectorFor(irq: number): number {
    return (this.vectorBase + irq) & 0xff;
  }

  /**
   * The INTA sequence: returns the acknowledged input (its IRR bit moves to the ISR), or -1 when no
   * request remains, in which case the chip answers with IR7 and sets no ISR bit (a spurious IRQ).
   */
  acknowledge(): number {
    const irq = this.highestRequest();
    if (irq < 0) return -1;
    this.acceptRequest(irq);
    return irq;
  }

  /** ELCR bits for this chip (only bits in `elcrMask` stick). */
  get edgeLevelControl(): number {
    return this.elcr;
  }

  set edgeLevelControl(value: number) {
    this.elcr = value & this.elcrMask;
  }

  read(offset: number): number {
    if ((offset & 1) === 1) return this.imr;
    if (this.pollPending) {
      this.pollPending = false;
      const irq = this.highestRequest();
      if (irq < 0) return 0;
      this.acceptRequest(irq);
      return 0x80 | irq;
    }
    return this.readIsr ? this.isr : this.irr;
  }

  write(offset: number, value: number): void {
    if ((offset & 1) === 1) {
      this.writeData(value);
    } else if ((value & ICW1_INIT) !== 0) {
      this.startInitialisation(value);
    } else if ((value & OCW3_SELECT) !== 0) {
      this.operationCommand3(value);
    } else {
      this.operationCommand2(value);
    }
  }

  private writeData(value: number): void {
    switch (this.initStep) {
      case INIT_ICW2:
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? INIT_ICW4 : INIT_IDLE) : INIT_ICW3;
        return;
      case INIT_ICW3:
        this.icw3 = value;
        this.initStep = this.needIcw4 ? INIT_ICW4 : INIT_IDLE;
        return;
      case INIT_ICW4:
        this.icw4 = value & 0x1f;
        this.autoEoi = (value & ICW4_AEOI) !== 0;
        this.specialFullyNested = (value & ICW4_SFNM) !== 0;
        this.initStep = INIT_IDLE;
        return;
      default:
        this.imr = value; // OCW1
    }
  }

  private startInitialisation(icw1: number): void {
    // The datasheet: edge sense reset, IMR cleared, IR7 lowest priority, special mask mode off, IRR
    // selected for reading, and with IC4 = 0 every ICW4 function off. Level inputs still high stay
    // requested; an edge input must go low and high again.
    this.levelMode = (icw1 & ICW1_LTIM) !== 0;
    this.needIcw4 = (icw1 & ICW1_IC4) !== 0;
    this.single = (icw1 & ICW1_SNGL) !== 0;
    this.irr = this.lines & this.levelMask();
    this.isr = 0;
    this.imr = 0;
    this.priorityAdd = 0;
    this.readIsr = false;
    this.pollPending = false;
    this.specialMask = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.icw4 = 0;
    this.icw3 = 7;
    this.initStep = INIT_ICW2;
  }

  private operationCommand3(value: number): void {
    if ((value & OCW3_POLL) !== 0) this.pollPending = true;
    if ((value & OCW3_RR) !== 0) this.readIsr = (value & OCW3_RIS) !== 0;
    if ((value & OCW3_ESMM) !== 0) this.specialMask = (value & OCW3_SMM) !== 0;
  }

  private operationCommand2(value: number): void {
    const level = value & 7;
    switch (value >>> 5) {
      case Ocw2.RotateInAutoEoiClear:
        this.rotateOnAutoEoi = false;
        return;
      case Ocw2.RotateInAutoEoiSet:
        this.rotateOnAutoEoi = true;
        return;
      case Ocw2.NonSpecificEoi:
      case Ocw2.RotateOnNonSpecificEoi: {
        const priority = this.priorityOf(this.isr);
        if (priority === 8) return;
        const irq = (priority + this.priorityAdd) & 7;
        this.isr &= ~(1 << irq);
        if (value >>> 5 === Ocw2.RotateOnNonSpecificEoi) this.priorityAdd = (irq + 1) & 7;
        return;
      }
      case Ocw2.SpecificEoi:
        this.isr &= ~(1 << level);
        return;
      case Ocw2.RotateOnSpecificEoi:
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        return;
      case Ocw2.SetPriority:
        this.priorityAdd = (level + 1) & 7;
        return;
      default:
        return; // no operation
    }
  }

  private acceptRequest(irq: number): void {
    const mask = 1 << irq;
    this.irr &= ~mask;
    // A level input that is still high is requested again at once; it is the ISR that holds it off.
    if ((this.lines & this.levelMask() & mask) !== 0) this.irr |= mask;
    if (!this.autoEoi) {
      this.isr |= mask;
    } else if (this.rotateOnAutoEoi) {
      this.priorityAdd = (irq + 1) & 7;
    }
  }

  private levelMask(): number {
    return this.levelMode ? 0xff : this.elcr;
  }

  /** Priority rank (0 = highest) of the best bit of `bits`, or 8 when none. */
  private priorityOf(bits: number): number {
    if ((bits & 0xff) === 0) return 8;
    let priority = 0;
    while ((bits & (1 << ((priority + this.priorityAdd) & 7))) === 0) priority++;
    return priority;
  }

  private highestRequest(): number {
    const requested = this.priorityOf(this.irr & ~this.imr);
    if (requested === 8) return -1;
    let inService = this.isr;
    // Special mask mode: a masked level's in-service bit no longer holds off lower levels.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested: the slave may interrupt again while its cascade input is in service.
    if (this.specialFullyNested && this.cascadeInput >= 0) inService &= ~(1 << this.cascadeInput);
    return requested < this.priorityOf(inService) ? (requested + this.priorityAdd) & 7 : -1;
  }

  saveRegisters(): Pic8259Registers {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lines: this.lines, elcr: this.elcr, priorityAdd: this.priorityAdd,
      readIsr: this.readIsr, pollPending: this.pollPending, specialMask: this.specialMask, initStep: this.initStep,
      needIcw4: this.needIcw4, single: this.single, levelMode: this.levelMode, autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi, specialFullyNested: this.specialFullyNested, vectorBase: this.vectorBase,
      icw3: this.icw3, icw4: this.icw4,
    };
  }

  restoreRegisters(r: Pic8259Registers): void {
    this.irr = r.irr & 0xff; this.isr = r.isr & 0xff; this.imr = r.imr & 0xff; this.lines = r.lines & 0xff;
    this.elcr = r.elcr & this.elcrMask; this.priorityAdd = r.priorityAdd & 7; this.readIsr = r.readIsr;
    this.pollPending = r.pollPending; this.specialMask = r.specialMask; this.initStep = r.initStep & 3;
    this.needIcw4 = r.needIcw4; this.single = r.single; this.levelMode = r.levelMode; this.autoEoi = r.autoEoi;
    this.rotateOnAutoEoi = r.rotateOnAutoEoi; this.specialFullyNested = r.specialFullyNested;
    this.vectorBase = r.vectorBase & 0xf8; this.icw3 = r.icw3 & 0xff; this.icw4 = r.icw4 & 0x1f;
  }
}
