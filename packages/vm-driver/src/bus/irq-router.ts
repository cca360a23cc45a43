import type { IrqLine } from '@typevisor/devices';
import { isaIrqToGsi } from '../layout.js';

/** An interrupt controller whose inputs are addressed by number (the 8259 pair, the I/O APIC). */
export interface IrqInputs {
  /** The request line of input `pin`. */
  irqLine(pin: number): IrqLine;
}

/**
 * Wires device interrupt lines to the interrupt controllers as a PC board does: ISA IRQ `n` goes to
 * PIC input `n` and to I/O APIC pin `n`, except the timer (IRQ 0), which is on I/O APIC pin 2 (the
 * MADT says so with an interrupt source override). Several sources on one IRQ are wire-ORed: the
 * input is high while any source holds it high.
 */
export class IrqRouter {
  /** Per ISA IRQ: a bit per source that currently drives it high. */
  private readonly asserted = new Uint32Array(16);
  private readonly sourceCount = new Uint8Array(16);
  private readonly picLines: (IrqLine | null)[] = [];
  private readonly ioapicLines: (IrqLine | null)[] = [];

  constructor(pic: IrqInputs | null, ioapic: IrqInputs | null) {
    for (let irq = 0; irq < 16; irq++) {
      this.picLines.push(pic !== null && irq !== 2 ? pic.irqLine(irq) : null);
      this.ioapicLines.push(ioapic !== null ? ioapic.irqLine(isaIrqToGsi(irq)) : null);
    }
  }

  /** A new source on ISA IRQ `irq` (0-15, not 2), starting low. */
  line(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === 2) throw new RangeError(`IRQ${irq} cannot be routed (0-15, not the cascade IRQ2)`);
    const source = this.sourceCount[irq]!;
    if (source >= 32) throw new RangeError(`IRQ${irq} already has 32 sources`);
    this.sourceCount[irq] = source + 1;
    const bit = 1 << source;
    return {
      setLevel: (high: boolean): void => {
        const before = this.asserted[irq]!;
        const after = high ? before | bit : before & ~bit;
        this.asserted[irq] = after;
        if ((before === 0) !== (after === 0)) {
          this.picLines[irq]?.setLevel(after !== 0);
          this.ioapicLines[irq]?.setLevel(after !== 0);
        }
      },
    };
  }

  /** Whether any source holds ISA IRQ `irq` high. */
  isHigh(irq: number): boolean {
    return this.asserted[irq] !== 0;
  }
}
