/**
 * One typevisor machine: the CPU, guest memory and the microVM device set wired together, the Linux,
 * multiboot and firmware boot loaders, ACPI tables, a virtual clock and the run loop.
 *
 * @packageDocumentation
 */
export type { ClockMode, DiskConfig, MachineConfig, NetConfig, ResolvedMachineConfig } from './config.js';
export { DEFAULT_INSTRUCTIONS_PER_NS, MAX_CMDLINE_BYTES, validateMachineConfig } from './config.js';
export type { BootImageErrorCode } from './errors.js';
export { BootImageError, MachineConfigError, MachineStateError } from './errors.js';
export { IRQ, LOW_MEMORY, MAX_RAM, MIN_RAM, MMIO, PORTS, VIRTIO_IRQS, isaIrqToGsi } from './layout.js';

export type { BootPlan, ProtectedModeEntry, RamSegment, RomMapping } from './boot/boot-plan.js';
export type { E820Entry, E820TypeValue } from './boot/e820.js';
export { E820Type, microvmE820 } from './boot/e820.js';
export { BOOT_CS, BOOT_DS, BOOT_ROM_BASE, BOOT_ROM_SIZE, buildBootRom } from './boot/entry-stub.js';
export type { LinuxSetupHeader } from './boot/linux-header.js';
export { LoadFlags, SetupHeader, isLinuxKernel, parseLinuxHeader } from './boot/linux-header.js';
export type { LinuxBootInput } from './boot/linux.js';
export { planLinuxBoot } from './boot/linux.js';
export type { ZeroPageInput } from './boot/zero-page.js';
export { BootParams, HEAP_END_PTR, LOADER_TYPE_UNDEFINED, VID_MODE_NORMAL, buildZeroPage } from './boot/zero-page.js';
export type { MultibootHeader, MultibootInput } from './boot/multiboot.js';
export {
  MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH_LIMIT, MultibootHeaderFlags, MultibootInfoFlags,
  findMultibootHeader, planMultibootBoot,
} from './boot/multiboot.js';
export { LOW_FIRMWARE_WINDOW, MAX_FIRMWARE_SIZE, planFirmwareBoot } from './boot/firmware.js';

export type { AcpiTableSet, AcpiVirtioDevice } from './acpi/acpi-tables.js';
export { SLP_TYP_S5, buildAcpiTables, buildDsdt, buildFacs, buildFadt, buildMadt, byteSum } from './acpi/acpi-tables.js';
export { AcpiPmDevice, PM_TIMER_HZ, Pm1Control, Pm1Event } from './acpi/acpi-pm.js';

export type { PortMapping } from './bus/port-bus.js';
export { BusConflictError, PortBus } from './bus/port-bus.js';
export type { IrqInputs } from './bus/irq-router.js';
export { IrqRouter } from './bus/irq-router.js';

export type { VirtualClockOptions } from './clock/virtual-clock.js';
export { MAX_TIMERS_PER_STEP, TSC_HZ, VirtualClock } from './clock/virtual-clock.js';

export { DEBUGCON_READBACK, DebugConsole } from './debug/debug-console.js';
export { DebugExitDevice } from './debug/debug-exit.js';

export type {
  CpuEngine, CpuEngineContext, CpuEngineFactory, CpuInterruptSource, CpuPortBus, CpuRegisterSummary, CpuStopReason,
} from './cpu-engine.js';
export type { MachineCounterName } from './counters.js';
export { MACHINE_COUNTER_COUNT, MachineCounter, countersToObject } from './counters.js';
export type { HostScheduler } from './host-scheduler.js';
export { defaultHostScheduler } from './host-scheduler.js';
export type { BootInput } from './boot/select-loader.js';
export { planBoot } from './boot/select-loader.js';
export type { BoardHooks, BoardInput, PcBoard } from './board/pc-board.js';
export { buildPcBoard } from './board/pc-board.js';
export type { VirtioSlot } from './board/virtio-slots.js';
export { acpiDevicesOf, attachVirtioDevices, virtioCmdline } from './board/virtio-slots.js';
export type { MachineEvent, MachineExit, MachineOptions, MachineRunState, MachineSnapshot } from './machine.js';
export { Machine } from './machine.js';
