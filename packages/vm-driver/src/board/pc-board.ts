import { guestPhys } from '@typevisor/mmu';
import type { PhysicalMemory } from '@typevisor/mmu';
import {
  DualPic, I8042Controller, IoApic, LocalApic, Mc146818Rtc, Pit8254, SystemControlPortA, SystemControlPortB, Uart16550,
  pcCmosMemorySize,
} from '@typevisor/devices';
import type { ApicInterruptTarget, CharBackend, IoRegion, IrqLine, Snapshottable, WallClock } from '@typevisor/devices';
import { AcpiPmDevice } from '../acpi/acpi-pm.js';
import { IrqRouter } from '../bus/irq-router.js';
import type { PortBus } from '../bus/port-bus.js';
import type { VirtualClock } from '../clock/virtual-clock.js';
import type { CpuInterruptSource } from '../cpu-engine.js';
import { DebugConsole } from '../debug/debug-console.js';
import { DebugExitDevice } from '../debug/debug-exit.js';
import { IOAPIC_ID, IRQ, MMIO, PORTS } from '../layout.js';
import type { Counters } from '@typevisor/perf-model';
import { countedMmio } from '../bus/counted-mmio.js';

/** What the board tells the machine. */
export interface BoardHooks {
  /** The guest wrote S5 to the ACPI PM control register. */
  readonly onPowerOff: () => void;
  /** The guest pulsed the reset line (i8042 command 0xFE, port 0x92 bit 0). */
  readonly onReset: () => void;
  /** The guest wrote to the debug exit port. */
  readonly onDebugExit: (exitCode: number) => void;
  /** The A20 gate changed (port 0x92 or the i8042 output port). */
  readonly onA20: (enabled: boolean) => void;
  /** An NMI for the CPU (LINT1, I/O APIC NMI). */
  readonly onNmi: () => void;
  /** An interrupt became pending for the CPU: wake the run loop if it sleeps. */
  readonly onInterruptRequest: () => void;
  /** An INTA cycle happened (for the counters). */
  readonly onInterruptAcknowledge: () => void;
}

/** Inputs of {@link buildPcBoard}. */
export interface BoardInput {
  readonly clock: VirtualClock;
  readonly ports: PortBus;
  readonly memory: PhysicalMemory;
  readonly serial: CharBackend | null;
  readonly debugcon: CharBackend | null;
  /** Date and time of the RTC at virtual time zero. */
  readonly wallClock: WallClock;
  /** Guest RAM size, recorded in CMOS as firmware does. */
  readonly memorySize: number;
  /** The A20 gate at reset (port 0x92 bit 1). */
  readonly a20Enabled: boolean;
  readonly hooks: BoardHooks;
  /** perf-model counters for MMIO accesses per device (absent: not counted). */
  readonly perf?: Counters | null;
}

/** The PC chipset of the microVM, wired. */
export interface PcBoard {
  /** Routes ISA IRQs to the PICs and the I/O APIC. */
  readonly irqs: IrqRouter;
  /** The CPU's INTR/INTA source: the local APIC, which passes the 8259 through in virtual-wire mode. */
  readonly interrupts: CpuInterruptSource;
  /** The ACPI fixed hardware (power button, sleep control, PM timer). */
  readonly acpiPm: AcpiPmDevice;
  /** The keyboard controller (host keyboard input would go through it). */
  readonly i8042: I8042Controller;
  /** Devices with guest-visible state, in a fixed order, for snapshots. */
  readonly snapshottables: readonly { readonly name: string; readonly device: Snapshottable }[];
  /** The CPU's performance-counter overflow interrupt, through the local APIC's LVT entry. */
  readonly performanceCounterInterrupt: () => void;
}

/** One row of the port map. */
interface PortWindow {
  readonly base: number;
  readonly size: number;
  readonly region: IoRegion;
  readonly name: string;
}

/**
 * Builds the PC part of the microVM. Interrupts flow device -> {@link IrqRouter} -> 8259 pair and
 * I/O APIC -> local APIC -> CPU; the local APIC starts in virtual-wire mode (LINT0 = ExtINT), so a
 * guest that ignores the APICs gets the 8259 straight through. The port map and the MMIO map are data
 * (the `ports` rows below and the two APIC windows).
 */
export function buildPcBoard(input: BoardInput): PcBoard {
  const { clock, hooks } = input;
  const intr: IrqLine = { setLevel: (high) => { if (high) hooks.onInterruptRequest(); } };
  const pic = new DualPic({ intr });
  let ioapic: IoApic | null = null;
  const lapic = new LocalApic({
    clock,
    extInt: pic,
    onNmi: hooks.onNmi,
    onLevelEoi: (vector) => ioapic?.endOfInterrupt(vector),
  });
  // Deliveries from the I/O APIC also wake an idle machine.
  const apicBus: ApicInterruptTarget = {
    deliver: (vector, level) => {
      lapic.deliver(vector, level);
      hooks.onInterruptRequest();
    },
    deliverNmi: () => lapic.deliverNmi(),
    deliverExtInt: () => {
      lapic.deliverExtInt();
      hooks.onInterruptRequest();
    },
  };
  ioapic = new IoApic({ target: apicBus, id: IOAPIC_ID });
  const irqs = new IrqRouter(pic, ioapic);

  const pit = new Pit8254({ clock, irq0: irqs.line(IRQ.pit) });
  const portB = new SystemControlPortB({ pit, clock });
  const portA = new SystemControlPortA({ onA20: hooks.onA20, onReset: hooks.onReset, a20Enabled: input.a20Enabled });
  const i8042 = new I8042Controller({ irq1: irqs.line(IRQ.keyboard), irq12: irqs.line(IRQ.mouse), onA20: hooks.onA20, onReset: hooks.onReset });
  const rtc = new Mc146818Rtc({ clock, wallClock: input.wallClock, irq: irqs.line(IRQ.rtc), cmos: pcCmosMemorySize(input.memorySize) });
  const uart = new Uart16550({ irq: irqs.line(IRQ.uart), clock, ...(input.serial ? { backend: input.serial } : {}) });
  const acpiPm = new AcpiPmDevice(clock, irqs.line(IRQ.sci), hooks.onPowerOff);

  const ports: PortWindow[] = [
    { ...PORTS.pic1, region: pic.master, name: '8259 master' },
    { ...PORTS.pic2, region: pic.slave, name: '8259 slave' },
    { ...PORTS.elcr, region: pic.elcr, name: 'ELCR' },
    { ...PORTS.pit, region: pit, name: '8254 PIT' },
    { ...PORTS.portB, region: portB, name: 'system control port B' },
    { ...PORTS.port92, region: portA, name: 'system control port A (0x92)' },
    { ...PORTS.i8042Data, region: i8042.dataPort, name: 'i8042 data' },
    { ...PORTS.i8042Command, region: i8042.commandPort, name: 'i8042 command/status' },
    { ...PORTS.rtc, region: rtc, name: 'MC146818 RTC/CMOS' },
    { ...PORTS.uart, region: uart, name: 'COM1 16550A' },
    { ...PORTS.acpiPm, region: acpiPm, name: 'ACPI PM1a + PM timer' },
    { ...PORTS.debugcon, region: new DebugConsole(input.debugcon), name: 'debug console' },
    { ...PORTS.debugExit, region: new DebugExitDevice(hooks.onDebugExit), name: 'debug exit' },
  ];
  for (const window of ports) input.ports.map(window);
  input.memory.addMmio(guestPhys(MMIO.lapic.base), MMIO.lapic.size, countedMmio(lapic, input.perf ?? null, 'local APIC'), 'local APIC');
  input.memory.addMmio(guestPhys(MMIO.ioapic.base), MMIO.ioapic.size, countedMmio(ioapic, input.perf ?? null, 'I/O APIC'), 'I/O APIC');

  return {
    irqs,
    interrupts: {
      hasInterrupt: () => lapic.hasInterrupt(),
      acknowledge: () => {
        hooks.onInterruptAcknowledge();
        return lapic.acknowledge();
      },
    },
    acpiPm,
    i8042,
    performanceCounterInterrupt: () => {
      lapic.signalPerformanceCounter();
      hooks.onInterruptRequest();
    },
    snapshottables: [
      { name: 'pic', device: pic },
      { name: 'ioapic', device: ioapic },
      { name: 'lapic', device: lapic },
      { name: 'pit', device: pit },
      { name: 'port92', device: portA },
      { name: 'i8042', device: i8042 },
      { name: 'rtc', device: rtc },
      { name: 'uart', device: uart },
    ],
  };
}
