/**
 * What an interrupt source on the APIC bus (the I/O APIC, or a machine's MSI logic) needs from the
 * local APIC it delivers to. A uniprocessor machine has one target; destination fields are
 * therefore not routed.
 */
export interface ApicInterruptTarget {
  /** Fixed or lowest-priority delivery of `vector`; `levelTriggered` sets the TMR bit so the EOI is broadcast back. */
  deliver(vector: number, levelTriggered: boolean): void;
  /** NMI delivery. */
  deliverNmi(): void;
  /** ExtINT delivery: the vector will come from the 8259 at the acknowledge cycle. */
  deliverExtInt(): void;
}

/** The INTR side of an interrupt controller: cpu-x86's `InterruptSource`. */
export interface InterruptAcknowledge {
  /** True while an interrupt waits for the CPU. */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector. */
  acknowledge(): number;
}

/** Delivery modes of LVT entries, the ICR and I/O APIC redirection entries (bits 10-8). */
export const DeliveryMode = {
  Fixed: 0,
  LowestPriority: 1,
  Smi: 2,
  Nmi: 4,
  Init: 5,
  StartUp: 6,
  ExtInt: 7,
} as const;
