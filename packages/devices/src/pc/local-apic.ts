import type { AccessSize, Clock, DeviceState, IoRegion, IrqLine, Snapshottable, TimerHandle } from '../types.js';
import { DeliveryMode } from './apic-bus.js';
import type { ApicInterruptTarget, InterruptAcknowledge } from './apic-bus.js';
import { StateReader } from './device-state.js';

/** Default physical base of the local APIC window. */
export const LAPIC_DEFAULT_BASE = 0xfee00000;
/** Size of the local APIC window. */
export const LAPIC_WINDOW_SIZE = 0x1000;

// Register offsets.
/** Local APIC ID. */
export const LAPIC_ID = 0x020;
/** Local APIC version. */
export const LAPIC_VERSION = 0x030;
/** Task priority. */
export const LAPIC_TPR = 0x080;
/** Arbitration priority. */
export const LAPIC_APR = 0x090;
/** Processor priority. */
export const LAPIC_PPR = 0x0a0;
/** End of interrupt. */
export const LAPIC_EOI = 0x0b0;
/** Remote read. */
export const LAPIC_RRD = 0x0c0;
/** Logical destination. */
export const LAPIC_LDR = 0x0d0;
/** Destination format. */
export const LAPIC_DFR = 0x0e0;
/** Spurious interrupt vector. */
export const LAPIC_SVR = 0x0f0;
/** In-service register, eight 32-bit parts. */
export const LAPIC_ISR = 0x100;
/** Trigger mode register. */
export const LAPIC_TMR = 0x180;
/** Interrupt request register. */
export const LAPIC_IRR = 0x200;
/** Error status. */
export const LAPIC_ESR = 0x280;
/** Interrupt command, low half. */
export const LAPIC_ICR_LOW = 0x300;
/** Interrupt command, high half (destination). */
export const LAPIC_ICR_HIGH = 0x310;
/** LVT timer. */
export const LAPIC_LVT_TIMER = 0x320;
/** LVT thermal sensor. */
export const LAPIC_LVT_THERMAL = 0x330;
/** LVT performance counter. */
export const LAPIC_LVT_PERF = 0x340;
/** LVT LINT0. */
export const LAPIC_LVT_LINT0 = 0x350;
/** LVT LINT1. */
export const LAPIC_LVT_LINT1 = 0x360;
/** LVT error. */
export const LAPIC_LVT_ERROR = 0x370;
/** Timer initial count. */
export const LAPIC_TIMER_INITIAL = 0x380;
/** Timer current count. */
export const LAPIC_TIMER_CURRENT = 0x390;
/** Timer divide configuration. */
export const LAPIC_TIMER_DIVIDE = 0x3e0;

/** Version register: version 0x14, six LVT entries (max LVT entry 5). */
export const LAPIC_VERSION_VALUE = 0x00050014;
/** SVR: APIC software enable. */
export const SVR_APIC_ENABLED = 0x100;
/** SVR: focus processor checking disabled. */
export const SVR_FOCUS_DISABLED = 0x200;
/** LVT: masked. */
export const LVT_MASKED = 0x10000;
/** LVT timer: periodic mode. */
export const LVT_TIMER_PERIODIC = 0x20000;
/** LVT/ICR: level-triggered. */
export const LVT_LEVEL_TRIGGERED = 0x8000;
/** ESR: send illegal vector. */
export const ESR_SEND_ILLEGAL_VECTOR = 0x20;
/** ESR: receive illegal vector. */
export const ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;
/** ESR: illegal register address. */
export const ESR_ILLEGAL_REGISTER = 0x80;
/** IA32_APIC_BASE: global enable. */
export const APIC_BASE_ENABLE = 0x800;
/** IA32_APIC_BASE: bootstrap processor. */
export const APIC_BASE_BSP = 0x100;

/**
 * A periodic timer interrupts at most this often (in ns); faster periods still count exactly but
 * their interrupts coalesce, so a guest cannot make the host run a callback every nanosecond.
 */
export const LAPIC_MIN_PERIODIC_INTERVAL_NS = 1000;

const LVT_TIMER = 0;
const LVT_THERMAL = 1;
const LVT_PERF = 2;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
/** Writable bits of each LVT entry (delivery status and remote IRR are read-only). */
const LVT_WRITABLE = [0x000300ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff] as const;
const ICR_LOW_WRITABLE = 0x000ccfff;
const STATE_KIND = 'local-apic';
const STATE_VERSION = 1;

/** Options of {@link LocalApic}. */
export interface LocalApicOptions {
  /** The virtual clock; the APIC timer counts at 1 GHz (one tick per nanosecond) before the divider. */
  readonly clock: Clock;
  /** APIC ID (default 0). */
  readonly id?: number;
  /** The 8259 pair behind LINT0 in ExtINT mode; the vector of an ExtINT interrupt comes from it. */
  readonly extInt?: InterruptAcknowledge;
  /** Called for an NMI (LINT1 in NMI mode, an NMI IPI or an I/O APIC NMI). */
  readonly onNmi?: () => void;
  /** Called with the vector when the guest EOIs a level-triggered interrupt: wire to {@link IoApic.endOfInterrupt}. */
  readonly onLevelEoi?: (vector: number) => void;
  /** Called when the guest moves the APIC window through IA32_APIC_BASE ({@link LocalApic.setBaseMsr}). */
  readonly onBaseChange?: (base: number) => void;
  /**
   * Start in virtual-wire mode as firmware leaves a PC: LINT0 = ExtINT and LINT1 = NMI, unmasked, so
   * the 8259 reaches the CPU through the APIC (default true). False gives the SDM power-up state.
   */
  readonly virtualWire?: boolean;
}

/**
 * The local APIC of one x86 CPU (xAPIC MMIO interface, 4 KiB window at 0xFEE00000): ID, version,
 * TPR/PPR, EOI, LDR/DFR, SVR, the 256-bit ISR/TMR/IRR, ESR, ICR (self IPIs), the six LVT entries and
 * the timer in one-shot and periodic mode. The CPU takes interrupts through {@link LocalApic.hasInterrupt}
 * and {@link LocalApic.acknowledge}, which also pass the 8259 through in ExtINT mode, so a machine
 * chains PIC -> LAPIC -> CPU. INIT/SIPI and TSC-deadline mode are not implemented (uniprocessor).
 *
 * @example
 * ```ts
 * declare const clock: Clock, pic: DualPic, ioapic: IoApic, memory: PhysicalMemory;
 * declare const io: PortIoBus;   // the VMM's port bus
 * const lapic = new LocalApic({ clock, extInt: pic, onLevelEoi: (v) => ioapic.endOfInterrupt(v) });
 * memory.addMmio(guestPhys(LAPIC_DEFAULT_BASE), LAPIC_WINDOW_SIZE, lapic, 'lapic');
 * const cpu = new Cpu({ memory, io, interrupts: lapic });
 * ```
 */
export class LocalApic implements IoRegion, Snapshottable, ApicInterruptTarget, InterruptAcknowledge {
  /** The LINT0 pin (used in Fixed or NMI mode; in ExtINT mode the 8259 is polled instead). */
  readonly lint0: IrqLine;
  /** The LINT1 pin. */
  readonly lint1: IrqLine;

  private readonly clock: Clock;
  private readonly extInt: InterruptAcknowledge | undefined;
  private readonly onNmi: (() => void) | undefined;
  private readonly onLevelEoi: ((vector: number) => void) | undefined;
  private readonly onBaseChange: ((base: number) => void) | undefined;
  private readonly virtualWire: boolean;

  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly lvt = new Uint32Array(6);
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private esr = 0;
  private pendingEsr = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private divideConfig = 0;
  private initialCount = 0;
  private timerStartNs = 0;
  private timer: TimerHandle | null = null;
  private globallyEnabled = true;
  private base = LAPIC_DEFAULT_BASE;
  /** An ExtINT delivered by the I/O APIC waits for the acknowledge cycle. */
  private extIntPending = false;
  private lintLevels = 0;

  constructor(options: LocalApicOptions) {
    this.clock = options.clock;
    this.extInt = options.extInt;
    this.onNmi = options.onNmi;
    this.onLevelEoi = options.onLevelEoi;
    this.onBaseChange = options.onBaseChange;
    this.virtualWire = options.virtualWire ?? true;
    this.lint0 = { setLevel: (high) => this.setLint(LVT_LINT0, high) };
    this.lint1 = { setLevel: (high) => this.setLint(LVT_LINT1, high) };
    this.reset(options.id ?? 0);
  }

  /** Power-on/INIT state (the ID is kept). */
  reset(id = this.id): void {
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.lvt.fill(LVT_MASKED);
    if (this.virtualWire) {
      this.lvt[LVT_LINT0] = DeliveryMode.ExtInt << 8;
      this.lvt[LVT_LINT1] = DeliveryMode.Nmi << 8;
    }
    this.id = id & 0xff;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esr = 0;
    this.pendingEsr = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.divideConfig = 0;
    this.initialCount = 0;
    this.timer?.cancel();
    this.timer = null;
    this.extIntPending = false;
  }

  /** IA32_APIC_BASE bit 11: a globally disabled APIC passes the 8259's INTR straight to the CPU. */
  setEnabled(enabled: boolean): void {
    this.globallyEnabled = enabled;
  }

  /** Whether the APIC is globally enabled. */
  get enabled(): boolean {
    return this.globallyEnabled;
  }

  /** The physical base of the register window. */
  get baseAddress(): number {
    return this.base;
  }

  /** The value the CPU reads from IA32_APIC_BASE. */
  get baseMsr(): number {
    return (this.base | APIC_BASE_BSP | (this.globallyEnabled ? APIC_BASE_ENABLE : 0)) >>> 0;
  }

  /** Applies a guest write of IA32_APIC_BASE: global enable and window relocation. */
  setBaseMsr(value: number): void {
    this.setEnabled((value & APIC_BASE_ENABLE) !== 0);
    const base = (value & 0xfffff000) >>> 0;
    if (base !== this.base) {
      this.base = base;
      this.onBaseChange?.(base);
    }
  }

  read(offset: number, size: AccessSize): number {
    const byte = offset & 0xf;
    if (byte >= 4) return 0;
    const value = this.readRegister(offset & 0xff0);
    const shifted = value >>> (byte * 8);
    return size === 4 ? shifted >>> 0 : shifted & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: AccessSize, value: number): void {
    // The xAPIC registers are 32 bits wide; narrower or misaligned writes are dropped.
    if (size !== 4 || (offset & 0xf) !== 0) return;
    this.writeRegister(offset & 0xff0, value >>> 0);
  }

  /** True when an interrupt waits for the CPU (APIC-delivered or passed through from the 8259). */
  hasInterrupt(): boolean {
    if (!this.globallyEnabled) return this.extInt?.hasInterrupt() ?? false;
    if (this.deliverableVector() >= 0) return true;
    return this.extIntRequested();
  }

  /** The acknowledge cycle: the vector of the highest-priority interrupt, now in service. */
  acknowledge(): number {
    if (!this.globallyEnabled) return this.extInt?.acknowledge() ?? (this.svr & 0xff);
    const vector = this.deliverableVector();
    if (vector >= 0) {
      clearBit(this.irr, vector);
      setBit(this.isr, vector);
      return vector;
    }
    if (this.extIntRequested()) {
      this.extIntPending = false;
      return this.extInt!.acknowledge();
    }
    return this.svr & 0xff; // the interrupt went away: spurious vector
  }

  deliver(vector: number, levelTriggered: boolean): void {
    this.accept(vector, levelTriggered);
  }

  deliverNmi(): void {
    this.onNmi?.();
  }

  /**
   * The CPU's performance-monitoring interrupt (a counter with its INT bit wrapped): delivered
   * through the LVT performance-counter entry (0x340) — nothing when masked, its vector when Fixed,
   * an NMI when the mode is NMI (what perf's NMI watchdog programs). The P6 leaves the entry
   * unmasked after delivery (later CPUs mask it); the handler rewrites it anyway.
   */
  signalPerformanceCounter(): void {
    const entry = this.lvt[LVT_PERF]!;
    if ((entry & LVT_MASKED) !== 0) return;
    switch ((entry >>> 8) & 7) {
      case DeliveryMode.Fixed:
        this.accept(entry & 0xff, false);
        return;
      case DeliveryMode.Nmi:
        this.onNmi?.();
        return;
      default:
        return; // SMI, INIT and ExtINT are not valid here and are not modelled
    }
  }

  deliverExtInt(): void {
    this.extIntPending = true;
  }

  private extIntRequested(): boolean {
    if (this.extInt === undefined || !this.extInt.hasInterrupt()) return false;
    const lint0 = this.lvt[LVT_LINT0]!;
    return this.extIntPending || ((lint0 & LVT_MASKED) === 0 && ((lint0 >>> 8) & 7) === DeliveryMode.ExtInt);
  }

  private softwareEnabled(): boolean {
    return (this.svr & SVR_APIC_ENABLED) !== 0;
  }

  private processorPriority(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  /** The highest IRR vector if its priority class beats the PPR, else -1. */
  private deliverableVector(): number {
    if (!this.softwareEnabled()) return -1;
    const vector = highestBit(this.irr);
    if (vector < 0) return -1;
    return (vector & 0xf0) > (this.processorPriority() & 0xf0) ? vector : -1;
  }

  private accept(vector: number, levelTriggered: boolean): void {
    if (vector < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector);
    if (levelTriggered) setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
  }

  private signalError(bits: number): void {
    const fresh = bits & ~this.pendingEsr;
    this.pendingEsr |= bits;
    const lvt = this.lvt[LVT_ERROR]!;
    if (fresh !== 0 && (lvt & LVT_MASKED) === 0 && (lvt & 0xff) >= 16) this.accept(lvt & 0xff, false);
  }

  private setLint(index: number, high: boolean): void {
    const bit = 1 << index;
    const rising = high && (this.lintLevels & bit) === 0;
    this.lintLevels = high ? this.lintLevels | bit : this.lintLevels & ~bit;
    const entry = this.lvt[index]!;
    if (!rising || (entry & LVT_MASKED) !== 0) return;
    switch ((entry >>> 8) & 7) {
      case DeliveryMode.Fixed:
        this.accept(entry & 0xff, (entry & LVT_LEVEL_TRIGGERED) !== 0);
        return;
      case DeliveryMode.Nmi:
        this.onNmi?.();
        return;
      default:
        return; // ExtINT is polled from the 8259; SMI and INIT are not modelled
    }
  }

  private readRegister(reg: number): number {
    if (reg >= LAPIC_ISR && reg < LAPIC_ISR + 0x80) return this.isr[(reg - LAPIC_ISR) >>> 4]!;
    if (reg >= LAPIC_TMR && reg < LAPIC_TMR + 0x80) return this.tmr[(reg - LAPIC_TMR) >>> 4]!;
    if (reg >= LAPIC_IRR && reg < LAPIC_IRR + 0x80) return this.irr[(reg - LAPIC_IRR) >>> 4]!;
    switch (reg) {
      case LAPIC_ID: return (this.id << 24) >>> 0;
      case LAPIC_VERSION: return LAPIC_VERSION_VALUE;
      case LAPIC_TPR: return this.tpr;
      case LAPIC_APR: return 0;
      case LAPIC_PPR: return this.processorPriority();
      case LAPIC_LDR: return this.ldr;
      case LAPIC_DFR: return this.dfr;
      case LAPIC_SVR: return this.svr;
      case LAPIC_ESR: return this.esr;
      case LAPIC_ICR_LOW: return this.icrLow; // delivery status always idle
      case LAPIC_ICR_HIGH: return this.icrHigh;
      case LAPIC_LVT_TIMER: return this.lvt[LVT_TIMER]!;
      case LAPIC_LVT_THERMAL: return this.lvt[LVT_THERMAL]!;
      case LAPIC_LVT_PERF: return this.lvt[LVT_PERF]!;
      case LAPIC_LVT_LINT0: return this.lvt[LVT_LINT0]!;
      case LAPIC_LVT_LINT1: return this.lvt[LVT_LINT1]!;
      case LAPIC_LVT_ERROR: return this.lvt[LVT_ERROR]!;
      case LAPIC_TIMER_INITIAL: return this.initialCount;
      case LAPIC_TIMER_CURRENT: return this.currentCount();
      case LAPIC_TIMER_DIVIDE: return this.divideConfig;
      default: return 0; // EOI, RRD and reserved registers read as zero
    }
  }

  private writeRegister(reg: number, value: number): void {
    switch (reg) {
      case LAPIC_ID:
        this.id = value >>> 24;
        return;
      case LAPIC_TPR:
        this.tpr = value & 0xff;
        return;
      case LAPIC_EOI:
        this.endOfInterrupt();
        return;
      case LAPIC_LDR:
        this.ldr = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_DFR:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case LAPIC_SVR:
        this.svr = value & (0xff | SVR_APIC_ENABLED | SVR_FOCUS_DISABLED);
        if (!this.softwareEnabled()) for (let i = 0; i < 6; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED;
        return;
      case LAPIC_ESR:
        this.esr = this.pendingEsr;
        this.pendingEsr = 0;
        return;
      case LAPIC_ICR_LOW:
        this.icrLow = value & ICR_LOW_WRITABLE;
        this.sendIpi();
        return;
      case LAPIC_ICR_HIGH:
        this.icrHigh = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_LVT_TIMER: {
        const remaining = this.currentCount();
        const wasPeriodic = (this.lvt[LVT_TIMER]! & LVT_TIMER_PERIODIC) !== 0;
        this.writeLvt(LVT_TIMER, value);
        // A mode switch keeps the count going from where it is.
        if (wasPeriodic !== ((this.lvt[LVT_TIMER]! & LVT_TIMER_PERIODIC) !== 0) && remaining > 0) this.startTimer(remaining);
        else this.scheduleTimer();
        return;
      }
      case LAPIC_LVT_THERMAL: this.writeLvt(LVT_THERMAL, value); return;
      case LAPIC_LVT_PERF: this.writeLvt(LVT_PERF, value); return;
      case LAPIC_LVT_LINT0: this.writeLvt(LVT_LINT0, value); return;
      case LAPIC_LVT_LINT1: this.writeLvt(LVT_LINT1, value); return;
      case LAPIC_LVT_ERROR: this.writeLvt(LVT_ERROR, value); return;
      case LAPIC_TIMER_INITIAL:
        this.initialCount = value >>> 0;
        this.startTimer(this.initialCount);
        return;
      case LAPIC_TIMER_DIVIDE: {
        const remaining = this.currentCount();
        this.divideConfig = value & 0xb;
        if (remaining > 0) this.startTimer(remaining);
        return;
      }
      default:
        // Read-only registers (ID is writable above), reserved offsets.
        if (reg !== LAPIC_VERSION && reg !== LAPIC_PPR && reg !== LAPIC_APR && reg !== LAPIC_RRD && reg !== LAPIC_TIMER_CURRENT &&
            !(reg >= LAPIC_ISR && reg < LAPIC_IRR + 0x80)) {
          this.signalError(ESR_ILLEGAL_REGISTER);
        }
    }
  }

  private writeLvt(index: number, value: number): void {
    let entry = value & LVT_WRITABLE[index]!;
    if (!this.softwareEnabled()) entry |= LVT_MASKED; // a software-disabled APIC keeps every LVT masked
    this.lvt[index] = (entry | (this.lvt[index]! & 0x4000 & LVT_WRITABLE[index]!)) >>> 0;
  }

  private endOfInterrupt(): void {
    const vector = highestBit(this.isr);
    if (vector < 0) return;
    clearBit(this.isr, vector);
    if (testBit(this.tmr, vector)) {
      clearBit(this.tmr, vector);
      this.onLevelEoi?.(vector);
    }
  }

  private sendIpi(): void {
    const low = this.icrLow;
    const vector = low & 0xff;
    const mode = (low >>> 8) & 7;
    const shorthand = (low >>> 18) & 3;
    let toSelf: boolean;
    if (shorthand === 1 || shorthand === 2) toSelf = true;
    else if (shorthand === 3) toSelf = false;
    else toSelf = this.matchesDestination(this.icrHigh >>> 24, (low & 0x800) !== 0);
    if (mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority) {
      if (vector < 16) {
        this.signalError(ESR_SEND_ILLEGAL_VECTOR);
        return;
      }
      if (toSelf) this.accept(vector, false);
    } else if (mode === DeliveryMode.Nmi && toSelf) {
      this.onNmi?.();
    }
    // INIT, SIPI and SMI have no other processor to go to on this machine.
  }

  private matchesDestination(destination: number, logical: boolean): boolean {
    if (!logical) return destination === 0xff || destination === this.id;
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & destination) !== 0; // flat model
    // Cluster model: high nibble is the cluster, low nibble a member bitmap.
    const cluster = destination >>> 4;
    return (cluster === 0xf || cluster === ldr >>> 4) && (destination & ldr & 0xf) !== 0;
  }

  private divisor(): number {
    const code = (this.divideConfig & 3) | ((this.divideConfig >>> 1) & 4);
    return 1 << ((code + 1) & 7);
  }

  private currentCount(): number {
    if (this.initialCount === 0) return 0;
    const elapsed = Math.floor((this.clock.now() - this.timerStartNs) / this.divisor());
    if ((this.lvt[LVT_TIMER]! & LVT_TIMER_PERIODIC) !== 0) return this.initialCount - (elapsed % this.initialCount);
    return Math.max(0, this.initialCount - elapsed);
  }

  /** Starts counting down from `count` now (`count` is the initial count or what remained). */
  private startTimer(count: number): void {
    // Align the start so the next expiry comes after `count` ticks; a periodic timer then reloads
    // the initial count.
    const divisor = this.divisor();
    this.timerStartNs = this.clock.now() - (this.initialCount - count) * divisor;
    this.scheduleTimer();
  }

  private scheduleTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.initialCount === 0) return;
    const period = this.initialCount * this.divisor();
    const elapsed = this.clock.now() - this.timerStartNs;
    let deadline: number;
    if ((this.lvt[LVT_TIMER]! & LVT_TIMER_PERIODIC) !== 0) {
      const interval = Math.max(period, LAPIC_MIN_PERIODIC_INTERVAL_NS);
      deadline = this.timerStartNs + (Math.floor((elapsed + interval - period) / period) + 1) * period;
    } else {
      if (elapsed >= period) return; // a one-shot that already fired stays at zero
      deadline = this.timerStartNs + period;
    }
    this.timer = this.clock.setTimer(deadline, this.onTimer);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    const entry = this.lvt[LVT_TIMER]!;
    if ((entry & LVT_MASKED) === 0) this.accept(entry & 0xff, false);
    if ((entry & LVT_TIMER_PERIODIC) !== 0) this.scheduleTimer();
  };

  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        irr: Array.from(this.irr), isr: Array.from(this.isr), tmr: Array.from(this.tmr), lvt: Array.from(this.lvt),
        id: this.id, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr, esr: this.esr, pendingEsr: this.pendingEsr,
        icrLow: this.icrLow, icrHigh: this.icrHigh, divideConfig: this.divideConfig, initialCount: this.initialCount,
        timerStartNs: this.timerStartNs, globallyEnabled: this.globallyEnabled, base: this.base,
        extIntPending: this.extIntPending, lintLevels: this.lintLevels,
      },
    };
  }

  restoreState(state: DeviceState): void {
    const r = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const u32 = 0xffffffff;
    const irr = r.ints('irr', 8, 0, u32), isr = r.ints('isr', 8, 0, u32), tmr = r.ints('tmr', 8, 0, u32);
    const lvt = r.ints('lvt', 6, 0, u32);
    const v = {
      id: r.int('id', 0, 0xff), tpr: r.int('tpr', 0, 0xff), ldr: r.int('ldr', 0, u32), dfr: r.int('dfr', 0, u32),
      svr: r.int('svr', 0, 0x3ff), esr: r.int('esr', 0, 0xff), pendingEsr: r.int('pendingEsr', 0, 0xff),
      icrLow: r.int('icrLow', 0, u32), icrHigh: r.int('icrHigh', 0, u32), divideConfig: r.int('divideConfig', 0, 0xb),
      initialCount: r.int('initialCount', 0, u32), timerStartNs: r.num('timerStartNs'),
      globallyEnabled: r.bool('globallyEnabled'), base: r.int('base', 0, u32), extIntPending: r.bool('extIntPending'),
      lintLevels: r.int('lintLevels', 0, 0x3f),
    };
    this.irr.set(irr); this.isr.set(isr); this.tmr.set(tmr);
    lvt.forEach((entry, i) => { this.lvt[i] = entry & (LVT_WRITABLE[i]! | 0x4000); });
    this.id = v.id; this.tpr = v.tpr; this.ldr = v.ldr; this.dfr = v.dfr; this.svr = v.svr; this.esr = v.esr;
    this.pendingEsr = v.pendingEsr; this.icrLow = v.icrLow; this.icrHigh = v.icrHigh; this.divideConfig = v.divideConfig;
    this.initialCount = v.initialCount; this.timerStartNs = v.timerStartNs; this.globallyEnabled = v.globallyEnabled;
    this.base = v.base; this.extIntPending = v.extIntPending; this.lintLevels = v.lintLevels;
    this.scheduleTimer();
  }
}

function setBit(bits: Uint32Array, vector: number): void {
  bits[vector >>> 5] = bits[vector >>> 5]! | (1 << (vector & 31));
}

function clearBit(bits: Uint32Array, vector: number): void {
  bits[vector >>> 5] = bits[vector >>> 5]! & ~(1 << (vector & 31));
}

function testBit(bits: Uint32Array, vector: number): boolean {
  return (bits[vector >>> 5]! & (1 << (vector & 31))) !== 0;
}

/** The highest set bit of a 256-bit register, or -1. */
function highestBit(bits: Uint32Array): number {
  for (let word = 7; word >= 0; word--) {
    const value = bits[word]!;
    if (value !== 0) return word * 32 + 31 - Math.clz32(value);
  }
  return -1;
}
