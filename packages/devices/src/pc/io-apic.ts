import type { AccessSize, DeviceState, IoRegion, IrqLine, Snapshottable } from '../types.js';
import { DeliveryMode } from './apic-bus.js';
import type { ApicInterruptTarget } from './apic-bus.js';
import { StateReader } from './device-state.js';

/** Default physical base of the I/O APIC window. */
export const IOAPIC_DEFAULT_BASE = 0xfec00000;
/** Size of the I/O APIC window. */
export const IOAPIC_WINDOW_SIZE = 0x20;
/** Offset of IOREGSEL, the register index. */
export const IOAPIC_IOREGSEL = 0x00;
/** Offset of IOWIN, the data window. */
export const IOAPIC_IOWIN = 0x10;
/** Indirect register: ID (bits 27-24). */
export const IOAPIC_REG_ID = 0x00;
/** Indirect register: version and maximum redirection entry. */
export const IOAPIC_REG_VERSION = 0x01;
/** Indirect register: arbitration ID. */
export const IOAPIC_REG_ARBITRATION = 0x02;
/** Indirect register: first redirection entry (two registers per entry). */
export const IOAPIC_REG_REDIRECTION = 0x10;
/** Number of redirection entries (interrupt input pins). */
export const IOAPIC_PINS = 24;
/** Version register: version 0x11, maximum redirection entry 23. */
export const IOAPIC_VERSION_VALUE = ((IOAPIC_PINS - 1) << 16) | 0x11;

/** Redirection entry: destination mode logical. */
export const REDIR_DEST_LOGICAL = 0x800;
/** Redirection entry: delivery status (read-only). */
export const REDIR_DELIVERY_STATUS = 0x1000;
/** Redirection entry: input pin polarity, 1 = active low. */
export const REDIR_ACTIVE_LOW = 0x2000;
/** Redirection entry: remote IRR (read-only), set while a level interrupt is in service. */
export const REDIR_REMOTE_IRR = 0x4000;
/** Redirection entry: level-triggered. */
export const REDIR_LEVEL = 0x8000;
/** Redirection entry: masked. */
export const REDIR_MASKED = 0x10000;

const REDIR_LOW_WRITABLE = 0x1afff;
const STATE_KIND = 'io-apic';
const STATE_VERSION = 1;

/** Options of {@link IoApic}. */
export interface IoApicOptions {
  /** The local APIC the interrupts are delivered to. */
  readonly target: ApicInterruptTarget;
  /** I/O APIC ID (default 0; Linux reads it from the MP table or MADT). */
  readonly id?: number;
}

/**
 * The Intel 82093AA I/O APIC: IOREGSEL/IOWIN at offsets 0x00/0x10 of a window at 0xFEC00000, the ID,
 * version and arbitration registers and 24 redirection entries (vector, delivery mode, destination
 * mode, polarity, remote IRR, trigger mode, mask, destination). Inputs are logical: `true` means
 * asserted, whatever the programmed polarity. Level-triggered entries are delivered again after the
 * EOI if the input is still asserted; an edge on a masked entry is lost, as on the chip.
 *
 * @example
 * ```ts
 * declare const lapic: LocalApic, memory: PhysicalMemory;
 * const ioapic = new IoApic({ target: lapic });
 * memory.addMmio(guestPhys(IOAPIC_DEFAULT_BASE), IOAPIC_WINDOW_SIZE, ioapic, 'ioapic');
 * const com1Irq = ioapic.irqLine(4);
 * ```
 */
export class IoApic implements IoRegion, Snapshottable {
  private readonly target: ApicInterruptTarget;
  private readonly low = new Uint32Array(IOAPIC_PINS);
  private readonly high = new Uint32Array(IOAPIC_PINS);
  private readonly lines: IrqLine[] = [];
  private inputs = 0;
  private select = 0;
  private id: number;

  constructor(options: IoApicOptions) {
    this.target = options.target;
    this.id = (options.id ?? 0) & 0xf;
    this.low.fill(REDIR_MASKED);
    for (let pin = 0; pin < IOAPIC_PINS; pin++) this.lines.push({ setLevel: (high) => this.setIrq(pin, high) });
  }

  /** The input line of pin `pin` (0-23). */
  irqLine(pin: number): IrqLine {
    const line = this.lines[pin];
    if (line === undefined) throw new RangeError(`the I/O APIC has pins 0-${IOAPIC_PINS - 1}; there is no pin ${pin}`);
    return line;
  }

  /** Asserts or deasserts input `pin`. Out-of-range pins are ignored. */
  setIrq(pin: number, asserted: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    const bit = 1 << pin;
    const was = (this.inputs & bit) !== 0;
    this.inputs = asserted ? this.inputs | bit : this.inputs & ~bit;
    if (!asserted) return;
    const entry = this.low[pin]!;
    if ((entry & REDIR_LEVEL) !== 0) this.serviceLevel(pin);
    else if (!was && (entry & REDIR_MASKED) === 0) this.send(pin);
  }

  /** The local APIC broadcast an EOI for `vector`: clear remote IRR and re-deliver what is still asserted. */
  endOfInterrupt(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const entry = this.low[pin]!;
      if ((entry & 0xff) !== vector || (entry & REDIR_REMOTE_IRR) === 0) continue;
      this.low[pin] = entry & ~REDIR_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  read(offset: number, size: AccessSize): number {
    const byte = offset & 3;
    let value: number;
    if ((offset & ~3) === IOAPIC_IOREGSEL) value = this.select;
    else if ((offset & ~3) === IOAPIC_IOWIN) value = this.readRegister(this.select);
    else value = 0;
    const shifted = value >>> (byte * 8);
    return size === 4 ? shifted >>> 0 : shifted & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset === IOAPIC_IOREGSEL) {
      this.select = value & 0xff;
    } else if (offset === IOAPIC_IOWIN && size === 4) {
      this.writeRegister(this.select, value >>> 0);
    }
  }

  private readRegister(index: number): number {
    switch (index) {
      case IOAPIC_REG_ID:
        return (this.id << 24) >>> 0;
      case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION_VALUE;
      case IOAPIC_REG_ARBITRATION:
        return (this.id << 24) >>> 0;
      default: {
        const pin = (index - IOAPIC_REG_REDIRECTION) >> 1;
        if (index < IOAPIC_REG_REDIRECTION || pin >= IOAPIC_PINS) return 0;
        return (index & 1) === 0 ? this.low[pin]! : this.high[pin]!;
      }
    }
  }

  private writeRegister(index: number, value: number): void {
    if (index === IOAPIC_REG_ID) {
      this.id = (value >>> 24) & 0xf;
      return;
    }
    const pin = (index - IOAPIC_REG_REDIRECTION) >> 1;
    if (index < IOAPIC_REG_REDIRECTION || pin >= IOAPIC_PINS) return;
    if ((index & 1) === 1) {
      this.high[pin] = (value & 0xff000000) >>> 0;
      return;
    }
    let entry = (value & REDIR_LOW_WRITABLE) | (this.low[pin]! & REDIR_REMOTE_IRR);
    // Remote IRR means nothing for an edge-triggered entry.
    if ((entry & REDIR_LEVEL) === 0) entry &= ~REDIR_REMOTE_IRR;
    this.low[pin] = entry >>> 0;
    // Unmasking a level input that is still asserted delivers it.
    if ((entry & REDIR_LEVEL) !== 0) this.serviceLevel(pin);
  }

  private serviceLevel(pin: number): void {
    const entry = this.low[pin]!;
    if ((entry & (REDIR_MASKED | REDIR_REMOTE_IRR)) !== 0 || (this.inputs & (1 << pin)) === 0) return;
    this.send(pin);
  }

  private send(pin: number): void {
    const entry = this.low[pin]!;
    const level = (entry & REDIR_LEVEL) !== 0;
    switch ((entry >>> 8) & 7) {
      case DeliveryMode.Fixed:
      case DeliveryMode.LowestPriority:
        if (level) this.low[pin] = entry | REDIR_REMOTE_IRR;
        this.target.deliver(entry & 0xff, level);
        return;
      case DeliveryMode.Nmi:
        this.target.deliverNmi();
        return;
      case DeliveryMode.ExtInt:
        this.target.deliverExtInt();
        return;
      default:
        return; // SMI and INIT have no target in this machine
    }
  }

  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: { low: Array.from(this.low), high: Array.from(this.high), inputs: this.inputs, select: this.select, id: this.id },
    };
  }

  restoreState(state: DeviceState): void {
    const r = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const low = r.ints('low', IOAPIC_PINS, 0, 0xffffffff);
    const high = r.ints('high', IOAPIC_PINS, 0, 0xffffffff);
    const inputs = r.int('inputs', 0, (1 << IOAPIC_PINS) - 1);
    const select = r.int('select', 0, 0xff);
    const id = r.int('id', 0, 0xf);
    low.forEach((v, i) => { this.low[i] = v & (REDIR_LOW_WRITABLE | REDIR_REMOTE_IRR); });
    high.forEach((v, i) => { this.high[i] = (v & 0xff000000) >>> 0; });
    this.inputs = inputs;
    this.select = select;
    this.id = id;
  }
}
