/**
 * The PC chipset: 16550A UART, two cascaded 8259A PICs, 8254 PIT with port 0x61, MC146818 RTC/CMOS,
 * i8042 keyboard controller, port 0x92, local APIC and I/O APIC. Every device is a register window
 * ({@link IoRegion}) that sees offsets, never ports, and is {@link Snapshottable}.
 */
export { DualPic, PIC_CASCADE_IRQ, ELCR_MASTER_MASK, ELCR_SLAVE_MASK } from './dual-pic.js';
export type { DualPicOptions } from './dual-pic.js';
export { Pit8254, PIT_FREQUENCY_HZ } from './pit8254.js';
export type { Pit8254Options } from './pit8254.js';
export { SystemControlPortB } from './system-control-port-b.js';
export type { SystemControlPortBOptions } from './system-control-port-b.js';
export { Uart16550, UART_FIFO_SIZE, UART_INPUT_CLOCK_HZ } from './uart16550.js';
export type { Uart16550Options } from './uart16550.js';
export { Mc146818Rtc, pcCmosMemorySize } from './mc146818-rtc.js';
export type { Mc146818RtcOptions } from './mc146818-rtc.js';
export { I8042Controller } from './i8042.js';
export type { I8042Options } from './i8042.js';
export { SystemControlPortA } from './system-control-port-a.js';
export type { SystemControlPortAOptions } from './system-control-port-a.js';
export { DeliveryMode } from './apic-bus.js';
export type { ApicInterruptTarget, InterruptAcknowledge } from './apic-bus.js';
export { LocalApic, LAPIC_DEFAULT_BASE, LAPIC_WINDOW_SIZE } from './local-apic.js';
export type { LocalApicOptions } from './local-apic.js';
export { IoApic, IOAPIC_DEFAULT_BASE, IOAPIC_WINDOW_SIZE, IOAPIC_PINS } from './io-apic.js';
export type { IoApicOptions } from './io-apic.js';
