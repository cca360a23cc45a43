import { DualPic, Mc146818Rtc, Pit8254, SystemControlPortB, Uart16550, pcCmosMemorySize } from '@typevisor/devices';
import type { CharBackend, IrqLine, Snapshottable, WallClock } from '@typevisor/devices';
import { AcpiPmDevice } from '../acpi/acpi-pm.js';
import { IrqRouter } from '../bus/irq-router.js';
import type { PortBus } from '../bus/port-bus.js';
import type { VirtualClock } from '../clock/virtual-clock.js';
import type { CpuInterruptSource } from '../cpu-engine.js';
import { DebugConsole } from '../debug/debug-console.js';
import { DebugExitDevice } from '../debug/debug-exit.js';
import { IRQ, PORTS } from '../layout.js';

/** What the board tells the machine. */
export interface BoardHooks {
  /** The guest wrote S5 to the ACPI PM control register. */
  readonly onPowerOff: () => void;
  /** The guest wrote to the debug exit port. */
  readonly onDebugExit: (exitCode: number) => void;
  /** An interrupt became pending for the CPU: wake the run loop if it sleeps. */
  readonly onInterruptRequest: () => void;
  /** An INTA cycle happened (for the counters). */
  readonly onInterruptAcknowledge: () => void;
}

/** Inputs of {@link buildPcBoard}. */
export interface BoardInput {
  readonly clock: VirtualClock;
  readonly ports: PortBus;
  readonly serial: CharBackend | null;
  readonly debugcon: CharBackend | null;
  /** Date and time of the RTC at virtual time zero. */
  readonly wallClock: WallClock;
  /** Guest RAM size, recorded in CMOS as firmware does. */
  readonly memorySize: number;
  readonly hooks: BoardHooks;
}

/** The PC chipset of the microVM, wired. */
export interface PcBoard {
  /** Routes ISA IRQs to the PICs (and the I/O APIC once present). */
  readonly irqs: IrqRouter;
  /** The CPU's INTR/INTA source. */
  readonly interrupts: CpuInterruptSource;
  /** The ACPI fixed hardware (power button, sleep control, PM timer). */
  readonly acpiPm: AcpiPmDevice;
  /** Devices with guest-visible state, in a fixed order, for snapshots. */
  readonly snapshottables: readonly { readonly name: string; readonly device: Snapshottable }[];
}

/**
 * Builds the legacy PC part of the microVM on the port bus, as data: each row is a device window.
 * Present: the 8259 pair with ELCR, the 8254 PIT with port 0x61, the RTC/CMOS, COM1 (16550A), the ACPI PM block,
 * the QEMU debug console and exit port. The i8042, port 0x92, local APIC and I/O APIC are added
 * here as @typevisor/devices provides them; until then a guest must run with `noapic nolapic`-style
 * defaults (the PIC delivers interrupts straight to the CPU).
 */
export function buildPcBoard(input: BoardInput): PcBoard {
  const { clock, ports, hooks } = input;
  const intr: IrqLine = { setLevel: (high) => { if (high) hooks.onInterruptRequest(); } };
  const pic = new DualPic({ intr });
  const irqs = new IrqRouter(pic, null);
  const pit = new Pit8254({ clock, irq0: irqs.line(IRQ.pit) });
  const portB = new SystemControlPortB({ pit, clock });
  const uart = new Uart16550({ irq: irqs.line(IRQ.uart), clock, ...(input.serial ? { backend: input.serial } : {}) });
  const rtc = new Mc146818Rtc({ clock, wallClock: input.wallClock, irq: irqs.line(IRQ.rtc), cmos: pcCmosMemorySize(input.memorySize) });
  const acpiPm = new AcpiPmDevice(clock, irqs.line(IRQ.sci), hooks.onPowerOff);

  const windows = [
    { ...PORTS.pic1, region: pic.master, name: '8259 master' },
    { ...PORTS.pic2, region: pic.slave, name: '8259 slave' },
    { ...PORTS.elcr, region: pic.elcr, name: 'ELCR' },
    { ...PORTS.pit, region: pit, name: '8254 PIT' },
    { base: 0x61, size: 1, region: portB, name: 'port 0x61 (system control B)' },
    { ...PORTS.rtc, region: rtc, name: 'MC146818 RTC/CMOS' },
    { ...PORTS.uart, region: uart, name: 'COM1 16550A' },
    { base: PORTS.pm1aEvent.base, size: 12, region: acpiPm, name: 'ACPI PM1a + PM timer' },
    { ...PORTS.debugcon, region: new DebugConsole(input.debugcon), name: 'debug console' },
    { ...PORTS.debugExit, region: new DebugExitDevice(hooks.onDebugExit), name: 'debug exit' },
  ];
  for (const window of windows) ports.map(window);

  return {
    irqs,
    interrupts: {
      hasInterrupt: () => pic.hasInterrupt(),
      acknowledge: () => {
        hooks.onInterruptAcknowledge();
        return pic.acknowledge();
      },
    },
    acpiPm,
    snapshottables: [
      { name: 'pic', device: pic },
      { name: 'pit', device: pit },
      { name: 'rtc', device: rtc },
      { name: 'uart', device: uart },
    ],
  };
}
