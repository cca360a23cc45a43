/**
 * The microVM profile as data: where every device sits on the port bus and in the physical address
 * space, and which ISA interrupt each uses. There is no PCI; virtio devices are virtio-mmio windows
 * found through ACPI (DSDT) or the kernel command line, as in Firecracker and QEMU's `microvm`.
 */

/** Port ranges of the PC chipset and the debug devices. `size` is the number of consecutive ports. */
export const PORTS = {
  /** Master 8259 PIC command/data. */
  pic1: { base: 0x20, size: 2 },
  /** Slave 8259 PIC command/data. */
  pic2: { base: 0xa0, size: 2 },
  /** Edge/level control registers of both PICs. */
  elcr: { base: 0x4d0, size: 2 },
  /** 8254 PIT counters 0-2 and the mode register. */
  pit: { base: 0x40, size: 4 },
  /** i8042 keyboard controller data port. */
  i8042Data: { base: 0x60, size: 1 },
  /** i8042 status/command port. */
  i8042Command: { base: 0x64, size: 1 },
  /** System control port B: PIT counter 2 gate, speaker, refresh toggle. */
  portB: { base: 0x61, size: 1 },
  /** CMOS/RTC index and data. */
  rtc: { base: 0x70, size: 2 },
  /** System control port A: fast A20 and fast reset. */
  port92: { base: 0x92, size: 1 },
  /** COM1: 16550 UART. */
  uart: { base: 0x3f8, size: 8 },
  /** QEMU-style debug console: every byte written is output. */
  debugcon: { base: 0xe9, size: 1 },
  /** QEMU-style `isa-debug-exit`: a write stops the machine with exit code `(value << 1) | 1`. */
  debugExit: { base: 0xf4, size: 4 },
  /** ACPI PM1a event block (status + enable, 2 bytes each). */
  pm1aEvent: { base: 0x600, size: 4 },
  /** ACPI PM1a control block. */
  pm1aControl: { base: 0x604, size: 2 },
  /** ACPI PM timer (24-bit, 3.579545 MHz). */
  pmTimer: { base: 0x608, size: 4 },
  /** The whole ACPI PM window (event block, control block, timer) served by one device. */
  acpiPm: { base: 0x600, size: 12 },
} as const;

/** Fixed MMIO addresses. */
export const MMIO = {
  /** Local APIC register page. */
  lapic: { base: 0xfee0_0000, size: 0x1000 },
  /** I/O APIC register window (index/data). */
  ioapic: { base: 0xfec0_0000, size: 0x1000 },
  /** First virtio-mmio window; device `n` sits at `virtioBase + n * virtioStride`. */
  virtioBase: 0xd000_0000,
  /** Distance between two virtio-mmio windows, and the size announced to the guest. */
  virtioStride: 0x1000,
} as const;

/** I/O APIC ID (the MADT says the same); the CPU's local APIC has ID 0. */
export const IOAPIC_ID = 1;

/** Legacy ISA IRQ numbers (= PIC inputs; the I/O APIC sees them at the same GSI except IRQ 0). */
export const IRQ = {
  pit: 0,
  keyboard: 1,
  uart: 4,
  rtc: 8,
  /** ACPI System Control Interrupt (level, active high, as the MADT override says). */
  sci: 9,
  mouse: 12,
} as const;

/**
 * IRQs handed to virtio-mmio devices in order. They avoid 0-4 (timer, keyboard, cascade, COMs), 8
 * (RTC), 9 (SCI), 12 (mouse) and 13 (FPU), so the guest sees no conflict with a legacy driver.
 */
export const VIRTIO_IRQS: readonly number[] = [5, 6, 7, 10, 11, 14, 15];

/** Global system interrupt (I/O APIC pin) of ISA IRQ `irq`: the timer is wired to pin 2. */
export function isaIrqToGsi(irq: number): number {
  return irq === IRQ.pit ? 2 : irq;
}

/** Physical memory layout below 1 MiB and at the top of 4 GiB. */
export const LOW_MEMORY = {
  /** Zero page (Linux `boot_params`) or multiboot info. */
  bootParams: 0x7000,
  /** Kernel command line (up to 4 KiB). */
  cmdline: 0x20000,
  /** Boot GDT. */
  gdt: 0x6000,
  /** Start of the Extended BIOS Data Area: conventional RAM ends here. */
  ebda: 0x9fc00,
  /** Start of the ROM/ACPI area that the e820 map reports as reserved up to 1 MiB. */
  biosArea: 0xe0000,
  /** Where the ACPI tables are built (inside the BIOS area, inside the RSDP scan range). */
  acpiTables: 0xe0000,
  /** Size reserved for the ACPI tables. */
  acpiTablesSize: 0x10000,
  /** 1 MiB: the first byte of high memory. */
  highMemory: 0x10_0000,
} as const;

/** Largest guest RAM: everything above is MMIO (virtio windows, I/O APIC, LAPIC, firmware). */
export const MAX_RAM = 0xc000_0000;
/** Smallest guest RAM the profile accepts (the low-memory tables plus room for a tiny kernel). */
export const MIN_RAM = 2 * 1024 * 1024;
