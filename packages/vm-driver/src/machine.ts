import { Cpu, CPU_HOST_AREA_BYTES, CPU_STAT_COUNT, CpuStat, INSTRUCTION_CLASS_COUNT, InstructionClass } from '@typevisor/cpu-x86';
import { PhysicalMemory, guestPhys } from '@typevisor/mmu';
import { Counter, Counters, DeviceCounter } from '@typevisor/perf-model';
import type { DeviceState, Snapshottable } from '@typevisor/devices';
import type { AcpiTableSet } from './acpi/acpi-tables.js';
import { buildAcpiTables } from './acpi/acpi-tables.js';
import { buildPcBoard } from './board/pc-board.js';
import type { PcBoard } from './board/pc-board.js';
import { acpiDevicesOf, attachVirtioDevices, virtioCmdline } from './board/virtio-slots.js';
import type { VirtioSlot } from './board/virtio-slots.js';
import type { BootPlan } from './boot/boot-plan.js';
import { hex } from './boot/boot-plan.js';
import { microvmE820 } from './boot/e820.js';
import { planBoot } from './boot/select-loader.js';
import { PortBus } from './bus/port-bus.js';
import { VirtualClock } from './clock/virtual-clock.js';
import type { MachineConfig, ResolvedMachineConfig } from './config.js';
import { validateMachineConfig } from './config.js';
import { MACHINE_COUNTER_COUNT, MachineCounter } from './counters.js';
import type { CpuEngine, CpuEngineFactory, CpuStopReason } from './cpu-engine.js';
import { BootImageError, MachineStateError } from './errors.js';
import type { HostScheduler } from './host-scheduler.js';
import { defaultHostScheduler } from './host-scheduler.js';

/** Lifecycle state of a {@link Machine}. */
export type MachineRunState = 'created' | 'running' | 'paused' | 'stopped';

/** Why a machine stopped. */
export type MachineExit =
  /** The guest powered off through ACPI (S5). */
  | { readonly reason: 'poweroff' }
  /** The guest asked for a reset; typevisor stops instead of rebooting (like QEMU -no-reboot). */
  | { readonly reason: 'reset' }
  /** The guest wrote `value` to the debug exit port; `exitCode` = (value << 1) | 1. */
  | { readonly reason: 'debug-exit'; readonly exitCode: number }
  /** The CPU shut down after a triple fault. */
  | { readonly reason: 'triple-fault'; readonly message: string }
  /** A bug or host failure stopped the machine. */
  | { readonly reason: 'internal-error'; readonly message: string; readonly error?: unknown }
  /** The host called {@link Machine.stop}. */
  | { readonly reason: 'stopped' };

/** Events a machine reports to its listeners. */
export type MachineEvent =
  | { readonly type: 'state'; readonly state: MachineRunState }
  | { readonly type: 'exit'; readonly exit: MachineExit };

/** Host-side options of a {@link Machine} (not part of the guest-visible config). */
export interface MachineOptions {
  /** Creates the CPU engine; defaults to cpu-x86's `Cpu` (a test can pass a fake). */
  readonly cpu?: CpuEngineFactory;
  /** Most instructions per CPU slice between looks at the timers and the host clock (default 200 000). */
  readonly sliceInstructions?: number;
  /** Longest host time the loop runs before yielding to the event loop, in ms (default 10). */
  readonly chunkMs?: number;
  /** Host time and scheduling; defaults to performance.now and setImmediate/setTimeout. */
  readonly scheduler?: HostScheduler;
  /** perf-model counters to fill (e.g. shared with a benchmark); a new enabled set by default. */
  readonly perf?: Counters;
  /**
   * Deterministic clock only: when the idle guest's virtual time gets ahead of the host time since
   * start, sleep the difference instead of skipping on at once. What the guest sees is unchanged (time
   * still jumps from deadline to deadline); only the host pace changes, so an interactive guest does
   * not burn host CPU while idle. Default false (tests want idle time to pass instantly).
   */
  readonly paceIdle?: boolean;
  /**
   * Count retired instructions by class (perf `Counter.InstructionsAlu` ... `InstructionsSystem`).
   * Off by default because it costs guest speed (a few percent: one increment per instruction);
   * needs enabled perf counters and a CPU engine that counts (cpu-x86 does).
   */
  readonly instructionMix?: boolean;
  /**
   * RAM in a `WebAssembly.Memory` behind the CPU's host area (`CPU_HOST_AREA_BYTES`, about 18 MiB),
   * so that cpu-x86 runs warm blocks in its WebAssembly interpreter (`CpuOptions.warmBlocks`).
   * Default true: the Debian boot 20 % and the default guest's boot 22 % faster (the cpu-x86
   * README). False keeps RAM in a plain buffer and every block below the compile threshold in the
   * JavaScript block loop.
   */
  readonly warmBlocks?: boolean;
  /**
   * With warm blocks: hot blocks translated into WebAssembly functions instead of compiled into
   * JavaScript (`CpuOptions.wasmHotBlocks`). Default true (since 2026-11-29: the boots and the
   * busybox workloads 5-15 % faster, the cpu-x86 README); false compiles them into JavaScript.
   */
  readonly wasmHotBlocks?: boolean;
}

/** The perf-model counter of each cpu-x86 instruction class. */
const MIX_COUNTER = new Uint8Array(INSTRUCTION_CLASS_COUNT);
MIX_COUNTER[InstructionClass.Alu] = Counter.InstructionsAlu;
MIX_COUNTER[InstructionClass.DataTransfer] = Counter.InstructionsDataTransfer;
MIX_COUNTER[InstructionClass.Branch] = Counter.InstructionsBranch;
MIX_COUNTER[InstructionClass.String] = Counter.InstructionsString;
MIX_COUNTER[InstructionClass.Fpu] = Counter.InstructionsFpu;
MIX_COUNTER[InstructionClass.System] = Counter.InstructionsSystem;

/** Saved machine state for snapshots (version 1). RAM is copied; host backends are not saved. */
export interface MachineSnapshot {
  readonly version: 1;
  readonly clock: { readonly nowNs: number };
  readonly ram: Uint8Array;
  readonly devices: readonly { readonly name: string; readonly state: DeviceState }[];
  readonly cpu: unknown;
}

/** Ctrl, Alt, Delete pressed and released, in scan code set 1 (what the guest sees through the i8042's translation). */
const CTRL_ALT_DEL_SCANCODES = [0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d];
/**
 * Most instructions per CPU slice. Slices end at the next timer deadline anyway (and earlier when a
 * device arms a sooner one: onTimerArmed), so the cap only bounds how long the loop goes without
 * looking at the host clock. Every slice end costs the CPU a block cut short and a new one started
 * mid-way: 20,000 gave the Debian boot 344 K slices and took 5-8 % more CPU time than 200,000.
 */
const DEFAULT_SLICE = 200_000;
/** Real-time mode: most guest time per slice (2 ms), whatever the instruction cap. */
const REALTIME_SLICE_NS = 2_000_000;
/** 2000-01-01T00:00:00Z: the RTC's start in deterministic mode, so runs do not depend on the host date. */
const DETERMINISTIC_EPOCH_MS = 946_684_800_000;

function defaultWallClock(mode: ResolvedMachineConfig['clock']): { epochMs(): number } {
  const epoch = mode === 'deterministic' ? DETERMINISTIC_EPOCH_MS : Date.now();
  return { epochMs: () => epoch };
}
const DEFAULT_CHUNK_MS = 10;
/** Shortest slice whose host time is used to measure the guest's speed (shorter ones are noise). */
const MIN_MEASURED_SLICE = 256;
/** Host time a slice may overrun its expected duration before the excess counts as a host stall. */
const STALL_SLACK_MS = 1;
/**
 * Real-time mode: the slowest guest speed learned (4 MIPS). Our slowest execution path is about 20
 * ns per instruction, a few times that on an overloaded host. Without a bound, a host overloaded for
 * long compounds the stalled slices' 5 % each into any figure: one VM of an end-to-end test learned
 * 8,300 ns per instruction, ran 550 s of guest time per host second, and its kernel did nothing but
 * take timer interrupts (a guest timer every few hundred instructions), so it answered nothing.
 */
const SLOWEST_NS_PER_INSTRUCTION = 250;

/**
 * One virtual machine: guest RAM, the microVM board, virtio devices, the boot image loaded, a CPU
 * and the run loop. Construction validates the config and loads the images, so every bad input is
 * reported (typed) before anything runs. `start()` runs the guest on the host event loop in slices:
 * run the CPU until the next timer deadline (or a slice), fire due timers, and when the guest halts
 * with nothing pending, sleep until the next deadline or an interrupt from host input.
 *
 * @example
 * ```ts
 * declare const kernel: Uint8Array, initrd: Uint8Array, serial: CharBackend;
 * const machine = new Machine({ memorySize: 128 << 20, kernel, initrd, cmdline: 'console=ttyS0', serial }, { cpu: (ctx) => new Cpu(ctx) });
 * machine.start();
 * const exit = await machine.exited; // { reason: 'poweroff' }
 * ```
 */
export class Machine {
  readonly config: ResolvedMachineConfig;
  readonly memory: PhysicalMemory;
  readonly clock: VirtualClock;
  readonly ports: PortBus;
  readonly board: PcBoard;
  readonly virtio: readonly VirtioSlot[];
  readonly acpi: AcpiTableSet | null;
  readonly bootPlan: BootPlan;
  readonly cpu: CpuEngine;
  /** The kernel command line the guest gets (with virtio devices appended when configured). */
  readonly cmdline: string;
  /** Run-loop counters, indexed by {@link MachineCounter}. */
  readonly counters = new Float64Array(MACHINE_COUNTER_COUNT);
  /** @typevisor/perf-model counters: instructions, interrupts, halts, port reads/writes in total and per device. */
  readonly perf: Counters;
  /** Every device with guest-visible state, in a fixed order (chipset, then virtio transports). */
  readonly snapshottables: readonly { readonly name: string; readonly device: Snapshottable }[];
  /** Resolves once, when the machine stops for any reason. */
  readonly exited: Promise<MachineExit>;

  private runState: MachineRunState = 'created';
  private readonly listeners = new Set<(event: MachineEvent) => void>();
  private resolveExit!: (exit: MachineExit) => void;
  private pendingExit: MachineExit | null = null;
  private scheduled: { cancel(): void } | null = null;
  private sleepingSince = -1;
  /** Real-time mode: slices measured so far (the first few always count, stalls cannot be told yet). */
  private speedSamples = 0;
  /** The last slice ended in HLT with nothing the CPU could take. */
  /** Copies the virtio queues' request and byte totals into the perf-model counters. */
  private countVirtioRequests(): void {
    if (!this.perf.enabled || this.virtio.length === 0) return;
    let requests = 0;
    let bytes = 0;
    for (const slot of this.virtio) {
      const totals = slot.transport.queueTotals();
      const device = this.perf.device(slot.name);
      device[DeviceCounter.Requests] = totals.requests;
      device[DeviceCounter.Bytes] = totals.bytes;
      requests += totals.requests;
      bytes += totals.bytes;
    }
    this.perf.values[Counter.VirtioRequests] = requests;
    this.perf.values[Counter.VirtioBytes] = bytes;
  }

  /** `cpu.stats` as last added to the perf counters (they only grow, so each copy adds the difference). */
  private readonly cpuStatsSeen = new Float64Array(CPU_STAT_COUNT);

  /**
   * Adds the CPU's event statistics (cpu-x86 `Cpu.stats`, absent on fake engines) to the perf-model
   * counters: decode misses, TLB misses (data refills and fetch-page translations), page faults,
   * exceptions. Differences, so `perf.reset()` starts them from zero like the other counters.
   */
  private countCpuEvents(): void {
    if (!this.perf.enabled) return;
    this.countInstructionMix();
    const stats = this.cpu.stats;
    if (stats === undefined || stats.length < CPU_STAT_COUNT) return;
    const seen = this.cpuStatsSeen;
    const delta = (stat: number): number => {
      const d = stats[stat] - seen[stat];
      seen[stat] = stats[stat];
      return d;
    };
    const values = this.perf.values;
    values[Counter.DecodeCacheMisses] += delta(CpuStat.DecodedInstructions);
    values[Counter.TlbMisses] += delta(CpuStat.TlbMisses) + delta(CpuStat.FetchTranslations);
    values[Counter.PageFaults] += delta(CpuStat.PageFaults);
    values[Counter.Exceptions] += delta(CpuStat.Exceptions);
    // Decode-cache hits are the retired instructions that needed no decoding (approximate: a block
    // may decode instructions past a taken branch that never run).
    values[Counter.DecodeCacheHits] = Math.max(0, values[Counter.Instructions] - values[Counter.DecodeCacheMisses]);
  }

  /** `cpu.instructionMix` as last added to the perf counters. */
  private readonly mixSeen = new Float64Array(INSTRUCTION_CLASS_COUNT);

  /** Adds the CPU's retired-instruction mix (when it counts one) to the perf-model class counters. */
  private countInstructionMix(): void {
    const mix = this.cpu.instructionMix;
    if (this.cpu.countInstructionMix !== true || mix === undefined || mix.length < INSTRUCTION_CLASS_COUNT) return;
    const seen = this.mixSeen, values = this.perf.values;
    for (let i = 0; i < INSTRUCTION_CLASS_COUNT; i++) {
      values[MIX_COUNTER[i]] += mix[i] - seen[i];
      seen[i] = mix[i];
    }
  }

  private haltedWithoutProgress = false;
  private readonly slice: number;
  /**
   * While a CPU slice runs: the timer deadline its budget was sized to reach (Infinity without
   * one); -Infinity outside a slice, where there is nothing to end. A device that arms an earlier
   * timer from inside the slice ends it.
   */
  private sliceDeadline = -Infinity;
  private readonly chunkMs: number;
  private readonly scheduler: HostScheduler;
  private readonly paceIdle: boolean;
  /** Host time at start(), minus the host time spent paused. */
  private hostEpoch = 0;
  private pausedAt = 0;

  constructor(config: MachineConfig, options: MachineOptions = {}) {
    this.config = validateMachineConfig(config);
    const { memorySize } = this.config;
    this.slice = options.sliceInstructions ?? DEFAULT_SLICE;
    this.chunkMs = options.chunkMs ?? DEFAULT_CHUNK_MS;
    this.scheduler = options.scheduler ?? defaultHostScheduler;
    this.paceIdle = options.paceIdle ?? false;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));

    const warmBlocks = options.warmBlocks ?? true;
    // With warm blocks, RAM sits behind the CPU's host area in one WebAssembly memory.
    this.memory = new PhysicalMemory({ ramSize: memorySize, hostAreaBytes: warmBlocks ? CPU_HOST_AREA_BYTES : 0 });
    this.clock = this.config.clock === 'deterministic'
      ? new VirtualClock({ mode: 'deterministic', instructionsPerNs: this.config.instructionsPerNs })
      : new VirtualClock({ mode: 'realtime', hostNowMs: () => this.scheduler.now() });
    this.perf = options.perf ?? new Counters();
    this.ports = new PortBus(this.perf);
    this.board = buildPcBoard({
      clock: this.clock,
      ports: this.ports,
      serial: this.config.serial,
      memory: this.memory,
      debugcon: this.config.debugcon,
      // The i8042 output port comes up with the A20 bit set (as in QEMU), so the gate is open at reset;
      // with it closed the reset vector 0xFFFFFFF0 would alias to 0xFFEFFFF0.
      a20Enabled: true,
      wallClock: this.config.wallClock ?? defaultWallClock(this.config.clock),
      memorySize,
      perf: this.perf,
      hooks: {
        onPowerOff: () => this.requestExit({ reason: 'poweroff' }),
        onReset: () => this.requestExit({ reason: 'reset' }),
        onA20: (enabled) => (this.cpu as CpuEngine | undefined)?.setA20(enabled),
        onNmi: () => (this.cpu as CpuEngine | undefined)?.raiseNmi?.(),
        onDebugExit: (exitCode) => this.requestExit({ reason: 'debug-exit', exitCode }),
        onInterruptRequest: () => this.wake(),
        onInterruptAcknowledge: () => {
          this.counters[MachineCounter.interrupts]++;
          this.perf.add(Counter.Interrupts);
        },
      },
    });
    this.virtio = attachVirtioDevices(this.config, this.memory, this.board.irqs, this.perf);
    this.snapshottables = [...this.board.snapshottables, ...this.virtio.map((slot) => ({ name: slot.name, device: slot.transport }))];

    const isKernelBoot = this.config.kernel !== null;
    this.acpi = isKernelBoot && this.config.acpi ? buildAcpiTables(acpiDevicesOf(this.virtio)) : null;
    const announce = isKernelBoot && this.config.virtioOnCmdline && this.virtio.length > 0;
    this.cmdline = [this.config.cmdline, announce ? virtioCmdline(this.virtio) : ''].filter((s) => s !== '').join(' ');
    this.bootPlan = planBoot({
      kernel: this.config.kernel,
      firmware: this.config.firmware,
      initrd: this.config.initrd,
      cmdline: this.cmdline,
      memorySize,
      e820: microvmE820(memorySize),
      acpiRsdp: this.acpi?.rsdp ?? 0,
    });
    this.loadBootPlan();

    const wasmHotBlocks = options.wasmHotBlocks ?? true;
    const createCpu = options.cpu ?? ((context) => new Cpu({ ...context, warmBlocks, wasmHotBlocks }));
    this.cpu = createCpu({
      memory: this.memory, io: this.ports, interrupts: this.board.interrupts, time: this.clock,
      onPerformanceInterrupt: this.board.performanceCounterInterrupt,
    });
    this.cpu.reset();
    this.cpu.setA20(true);
    if (options.instructionMix === true && this.perf.enabled && this.cpu.countInstructionMix !== undefined) this.cpu.countInstructionMix = true;
    this.clock.attachInstructionCounter(() => this.cpu.instructionsRetired);
    this.clock.onTimerArmed = (deadlineNs) => {
      // Armed while the guest sleeps idle, from the host side (console input is paced by the UART's
      // timer): the sleep was set for the timers before it, so wake up and sleep again until the
      // soonest. Otherwise input waited for the guest's next timer, seconds in a tickless idle kernel.
      if (this.runState === 'running' && this.sleepingSince >= 0) {
        this.scheduleRun(0);
        return;
      }
      if (deadlineNs >= this.sliceDeadline) return;
      this.sliceDeadline = deadlineNs;
      this.cpu.requestStop?.();
    };
  }

  /** Current lifecycle state. */
  get state(): MachineRunState {
    return this.runState;
  }

  /** Subscribes to state changes and the exit; returns the unsubscribe function. */
  on(listener: (event: MachineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts running the guest. Legal once, from `created`. */
  start(): void {
    this.expectState('start', 'created');
    this.setState('running');
    this.hostEpoch = this.scheduler.now();
    this.clock.setRunning(true);
    this.scheduleRun(0);
  }

  /** Stops running guest code; virtual time stands still until {@link Machine.resume}. */
  pause(): void {
    this.expectState('pause', 'running');
    this.cancelScheduled();
    this.clock.setRunning(false);
    this.pausedAt = this.scheduler.now();
    this.setState('paused');
  }

  /** Continues a paused machine. */
  resume(): void {
    this.expectState('resume', 'paused');
    this.hostEpoch += this.scheduler.now() - this.pausedAt;
    this.setState('running');
    this.clock.setRunning(true);
    this.scheduleRun(0);
  }

  /** Stops the machine for good (exit reason `stopped`). Does nothing if it already stopped. */
  stop(): void {
    if (this.runState === 'stopped') return;
    this.finish({ reason: 'stopped' });
  }

  /** Presses the ACPI power button (the guest may shut down cleanly if it listens). */
  pressPowerButton(): void {
    this.board.acpiPm.pressPowerButton();
  }

  /**
   * Types Ctrl-Alt-Del on the PS/2 keyboard (as Firecracker's SendCtrlAltDel does); Linux reacts by
   * rebooting, which this machine reports as a `reset` exit.
   */
  sendCtrlAltDel(): void {
    this.board.i8042.sendKeyboardBytes(CTRL_ALT_DEL_SCANCODES);
  }

  /**
   * Saves guest state (legal while created or paused): RAM, virtual time, every device, and the CPU
   * if the engine can save itself (cpu-x86 cannot yet, so a snapshot is not resumable yet).
   */
  saveState(): MachineSnapshot {
    this.expectState('saveState', 'created', 'paused');
    const cpu = this.cpu as CpuEngine & { saveState?: () => unknown };
    return {
      version: 1,
      clock: this.clock.saveState(),
      ram: this.memory.ram.slice(),
      devices: this.snapshottables.map(({ name, device }) => ({ name, state: device.saveState() })),
      cpu: typeof cpu.saveState === 'function' ? cpu.saveState() : null,
    };
  }

  /** Restores state saved by {@link Machine.saveState} into a machine built with the same config. */
  restoreState(snapshot: MachineSnapshot): void {
    this.expectState('restoreState', 'created', 'paused');
    if (snapshot.version !== 1) throw new MachineStateError(`snapshot version ${String(snapshot.version)} is not supported (expected 1)`);
    if (snapshot.ram.length !== this.memory.ram.length) {
      throw new MachineStateError(`snapshot has ${snapshot.ram.length} bytes of RAM, this machine ${this.memory.ram.length}`);
    }
    this.memory.ram.set(snapshot.ram);
    for (const { name, state } of snapshot.devices) {
      const entry = this.snapshottables.find((s) => s.name === name);
      if (entry === undefined) throw new MachineStateError(`snapshot has state for unknown device ${name}`);
      entry.device.restoreState(state);
    }
    const cpu = this.cpu as CpuEngine & { restoreState?: (state: unknown) => void };
    if (snapshot.cpu !== null && typeof cpu.restoreState === 'function') cpu.restoreState(snapshot.cpu);
    this.clock.restoreState(snapshot.clock);
  }

  private loadBootPlan(): void {
    const ramSize = this.memory.ramSize;
    const place = (address: number, bytes: Uint8Array, name: string): void => {
      if (address < 0 || address + bytes.length > ramSize) {
        throw new BootImageError('too-big', `${name} (${bytes.length} bytes at ${hex(address)}) does not fit in ${ramSize / 1048576} MiB of RAM`);
      }
      this.memory.ram.set(bytes, address);
    };
    for (const segment of this.bootPlan.segments) place(segment.address, segment.bytes, segment.name);
    if (this.acpi !== null) place(this.acpi.base, this.acpi.bytes, 'ACPI tables');
    for (const rom of this.bootPlan.roms) this.memory.addRom(guestPhys(rom.address), rom.bytes, rom.name);
  }

  private expectState(action: string, ...legal: MachineRunState[]): void {
    if (!legal.includes(this.runState)) {
      throw new MachineStateError(`cannot ${action} a machine that is ${this.runState} (legal when ${legal.join(' or ')})`);
    }
  }

  private setState(state: MachineRunState): void {
    this.runState = state;
    this.emit({ type: 'state', state });
  }

  private emit(event: MachineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Called by devices (possibly in the middle of a CPU slice): stop at the end of the slice. */
  private requestExit(exit: MachineExit): void {
    if (this.pendingExit === null) this.pendingExit = exit;
    if (this.runState !== 'running') this.finish(exit);
  }

  private finish(exit: MachineExit): void {
    if (this.runState === 'stopped') return;
    this.cancelScheduled();
    this.clock.setRunning(false);
    this.setState('stopped');
    this.emit({ type: 'exit', exit });
    this.resolveExit(exit);
  }

  private cancelScheduled(): void {
    this.scheduled?.cancel();
    this.scheduled = null;
    this.noteWakeUp();
  }

  private scheduleRun(ms: number): void {
    this.scheduled?.cancel();
    this.scheduled = this.scheduler.schedule(() => this.runChunk(), ms);
  }

  /** An interrupt request arrived (e.g. host input): end an idle sleep now, or the current CPU chunk. */
  private wake(): void {
    // The board exists before the CPU; an IRQ raised while wiring has nobody to notify yet.
    (this.cpu as CpuEngine | undefined)?.notifyInterrupt?.();
    if (this.runState === 'running' && this.sleepingSince >= 0) this.scheduleRun(0);
  }

  private noteWakeUp(): void {
    if (this.sleepingSince >= 0) {
      this.counters[MachineCounter.idleHostMs] += this.scheduler.now() - this.sleepingSince;
      this.sleepingSince = -1;
    }
  }

  /** Runs guest code for up to `chunkMs` of host time, then yields or sleeps. */
  private runChunk(): void {
    this.scheduled = null;
    this.noteWakeUp();
    if (this.runState !== 'running') return;
    this.clock.setIdle(false);
    const started = this.scheduler.now();
    try {
      for (;;) {
        this.counters[MachineCounter.timersFired] += this.clock.fireDueTimers();
        if (this.pendingExit !== null) return this.finish(this.pendingExit);
        const reason = this.runSlice();
        if (this.pendingExit !== null) return this.finish(this.pendingExit);
        if (reason === 'shutdown') return this.finish({ reason: 'triple-fault', message: this.describeFault('triple fault: the CPU shut down') });
        if (reason === 'exception') return this.finish({ reason: 'internal-error', message: this.describeFault('the CPU stopped on an exception') });
        if (reason === 'halt' && this.idle()) return;
        if (this.scheduler.now() - started >= this.chunkMs) return this.yieldToHost();
      }
    } catch (error) {
      this.finish({ reason: 'internal-error', message: `internal error: ${error instanceof Error ? error.message : String(error)}`, error });
    } finally {
      this.counters[MachineCounter.runHostMs] += this.scheduler.now() - started;
      this.counters[MachineCounter.portAccesses] = this.ports.accesses;
      this.countVirtioRequests();
      this.countCpuEvents();
    }
  }

  /** Lets host I/O run. Virtual time does not pass meanwhile: it follows the guest's instructions. */
  private yieldToHost(): void {
    this.scheduleRun(0);
  }

  private runSlice(): CpuStopReason {
    // Virtual time advances with instructions, so the slice ends exactly where the next timer is due,
    // or where a timer armed during the slice is due (onTimerArmed stops the CPU there).
    const deadline = this.clock.nextDeadline();
    const untilTimer = this.clock.instructionsUntil(deadline);
    // In real time a slice is also at most REALTIME_SLICE_NS of guest time, so that a host stall
    // inside it stands out against the slice's expected host time (measureGuestSpeed).
    const cap = this.clock.mode === 'realtime'
      ? Math.min(this.slice, Math.max(1, this.clock.instructionsUntil(this.clock.now() + REALTIME_SLICE_NS)))
      : this.slice;
    const budget = untilTimer < cap ? Math.max(1, untilTimer) : cap;
    const before = this.cpu.instructionsRetired;
    const hostBefore = this.clock.mode === 'realtime' ? this.scheduler.now() : 0;
    this.sliceDeadline = deadline;
    let reason: CpuStopReason;
    try {
      reason = this.cpu.run(budget);
    } finally {
      this.sliceDeadline = -Infinity;
    }
    const retired = this.cpu.instructionsRetired - before;
    if (this.clock.mode === 'realtime' && retired >= MIN_MEASURED_SLICE) this.measureGuestSpeed(retired, this.scheduler.now() - hostBefore, retired / cap);
    this.counters[MachineCounter.instructions] += retired;
    this.perf.add(Counter.Instructions, retired);
    this.counters[MachineCounter.slices]++;
    // HLT with an interrupt pending but masked (IF = 0) makes no progress either: that is idle too.
    this.haltedWithoutProgress = reason === 'halt' && (retired === 0 || !this.board.interrupts.hasInterrupt());
    return reason;
  }

  /**
   * Real-time mode: learns how fast the guest runs on this host (a moving average of host ns per
   * instruction) and sets the clock's rate to it. A slice that took far longer than its instruction
   * count explains is a host stall (the process was descheduled, a GC pause): it barely moves the
   * average, so the stall never becomes guest time — yet a guest phase that is really slower per
   * instruction (page-table churn, device work) is learned within a few dozen slices.
   *
   * A slice counts by its share (`share`, 0-1) of a full slice's instructions: guest time must be
   * host time per instruction retired, not per slice. Counted per slice, the short slices between
   * timer interrupts (a few thousand instructions of interrupt and device work, each with the
   * slice's fixed cost: 8-50 ns an instruction against 0.9 in the full slices around them) set the
   * rate in the Debian boot's compute phase, and its clock ran 6 times faster than the host's:
   * 20 s of guest time in 3.5 s, and 6 times the timer interrupts.
   */
  private measureGuestSpeed(retired: number, elapsedMs: number, share: number): void {
    if (!(elapsedMs > 0)) return;
    const current = this.clock.guestNsPerInstruction;
    const expectedMs = (retired * current) / 1e6;
    const excessMs = elapsedMs - Math.max(2 * expectedMs, expectedMs + STALL_SLACK_MS);
    const stalled = this.speedSamples >= 8 && excessMs > 0;
    if (stalled) this.counters[MachineCounter.hiddenStallMs] += excessMs;
    this.speedSamples++;
    // A stalled slice counts as at most twice the current figure, so one long stall moves the rate by
    // 5 % while a lasting slowdown still compounds at 5 % per slice.
    const measured = stalled ? Math.min((elapsedMs * 1e6) / retired, 2 * current) : (elapsedMs * 1e6) / retired;
    const weight = this.speedSamples === 1 ? 1 : (stalled ? 0.05 : 0.25) * Math.min(1, share);
    this.clock.setGuestSpeed(Math.min(SLOWEST_NS_PER_INSTRUCTION, current + weight * (measured - current)));
  }

  /** The guest halted. Returns true when the loop must stop and wait for a timer or host input. */
  private idle(): boolean {
    if (!this.haltedWithoutProgress) return false;
    this.counters[MachineCounter.idleHalts]++;
    this.perf.add(Counter.Halts);
    const deadline = this.clock.nextDeadline();
    if (this.clock.mode === 'deterministic' && Number.isFinite(deadline)) {
      this.counters[MachineCounter.skippedNs] += Math.max(0, deadline - this.clock.now());
      this.clock.skipTo(deadline);
      if (!this.paceIdle) return false;
      const aheadMs = this.clock.now() / 1e6 - (this.scheduler.now() - this.hostEpoch);
      if (aheadMs < 1) return false;
      this.sleepingSince = this.scheduler.now();
      this.scheduleRun(aheadMs);
      return true;
    }
    this.sleepingSince = this.scheduler.now();
    this.clock.setIdle(true); // real-time mode: idle time is host time
    if (Number.isFinite(deadline)) this.scheduleRun(Math.max(0, (deadline - this.clock.now()) / 1e6));
    // Without a deadline only an interrupt from host input (wake) can continue the guest.
    return true;
  }

  private describeFault(what: string): string {
    const fault = this.cpu.lastException;
    const registers = this.cpu.getRegisters?.();
    const parts = [what];
    if (fault !== null) parts.push(`last exception: vector ${fault.vector}${fault.errorCode !== null ? ` (error code ${hex(fault.errorCode)})` : ''}`);
    if (registers !== undefined) {
      const names = ['eip', 'cs', 'eflags', 'cr0', 'cr2', 'cr3'] as const;
      parts.push(names.map((r) => `${r}=${hex(registers[r] >>> 0)}`).join(' '));
    }
    return parts.join('; ');
  }
}
