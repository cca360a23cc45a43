import type { AccessSize, Clock, DeviceState, IoRegion, IrqLine, Snapshottable, TimerHandle, WallClock } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { civilFromDays, daysFromCivil, weekdayOfDays } from './calendar.js';
import { cyclesAt, timeOfCycle } from './clock-math.js';
import { StateReader } from './device-state.js';

// Register indices.
/** Seconds. */
export const RTC_SECONDS = 0x00;
/** Seconds alarm. */
export const RTC_SECONDS_ALARM = 0x01;
/** Minutes. */
export const RTC_MINUTES = 0x02;
/** Minutes alarm. */
export const RTC_MINUTES_ALARM = 0x03;
/** Hours (bit 7 = PM in 12-hour mode). */
export const RTC_HOURS = 0x04;
/** Hours alarm. */
export const RTC_HOURS_ALARM = 0x05;
/** Day of week, 1 = Sunday. */
export const RTC_DAY_OF_WEEK = 0x06;
/** Date of month. */
export const RTC_DAY_OF_MONTH = 0x07;
/** Month. */
export const RTC_MONTH = 0x08;
/** Year (two digits). */
export const RTC_YEAR = 0x09;
/** Register A: UIP, divider, rate select. */
export const RTC_REG_A = 0x0a;
/** Register B: SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE. */
export const RTC_REG_B = 0x0b;
/** Register C: IRQF, PF, AF, UF (read to clear). */
export const RTC_REG_C = 0x0c;
/** Register D: VRT. */
export const RTC_REG_D = 0x0d;
/** The PC's century byte in CMOS. */
export const CMOS_CENTURY = 0x32;

/** Register A: update in progress. */
export const REG_A_UIP = 0x80;
/** Register A: divider bits DV2-DV0. */
export const REG_A_DIVIDER_MASK = 0x70;
/** Register A: the divider setting for a 32.768 kHz time base. */
export const REG_A_DIVIDER_32KHZ = 0x20;
/** Register A: rate select RS3-RS0. */
export const REG_A_RATE_MASK = 0x0f;
/** Register B: SET inhibits updates so the time can be written. */
export const REG_B_SET = 0x80;
/** Register B: periodic interrupt enable. */
export const REG_B_PIE = 0x40;
/** Register B: alarm interrupt enable. */
export const REG_B_AIE = 0x20;
/** Register B: update-ended interrupt enable. */
export const REG_B_UIE = 0x10;
/** Register B: square wave enable. */
export const REG_B_SQWE = 0x08;
/** Register B: binary (1) or BCD (0) data mode. */
export const REG_B_DM_BINARY = 0x04;
/** Register B: 24-hour (1) or 12-hour (0) mode. */
export const REG_B_24H = 0x02;
/** Register B: daylight saving enable (stored; no DST switching is done). */
export const REG_B_DSE = 0x01;
/** Register C: interrupt request flag. */
export const REG_C_IRQF = 0x80;
/** Register C: periodic flag. */
export const REG_C_PF = 0x40;
/** Register C: alarm flag. */
export const REG_C_AF = 0x20;
/** Register C: update-ended flag. */
export const REG_C_UF = 0x10;
/** Register D: valid RAM and time. */
export const REG_D_VRT = 0x80;
/** Index port bit 7: NMI disable (on the PC this bit lives in the RTC's index latch). */
export const RTC_INDEX_NMI_DISABLE = 0x80;

/** How long before each update UIP is set, in nanoseconds. */
export const RTC_UIP_LEAD_NS = 244_000;

const NS_PER_SECOND = 1_000_000_000;
const SECONDS_PER_DAY = 86400;
/** After the divider leaves reset the first update comes half a second later. */
const FIRST_UPDATE_DELAY_NS = 500_000_000;
const STATE_KIND = 'mc146818-rtc';
const STATE_VERSION = 1;

/** Options of {@link Mc146818Rtc}. */
export interface Mc146818RtcOptions {
  /** Virtual time: the seconds advance with it. */
  readonly clock: Clock;
  /** The date and time at virtual time zero. */
  readonly wallClock: WallClock;
  /** IRQ8. */
  readonly irq: IrqLine;
  /**
   * Initial contents of CMOS bytes 0x0E-0x7F, by index (e.g. from {@link pcCmosMemorySize}).
   * Indices below 0x0E are clock registers and are refused.
   */
  readonly cmos?: Readonly<Record<number, number>>;
}

/**
 * The Motorola MC146818 real-time clock with its 128 bytes of CMOS RAM, as on the PC: index port
 * (offset 0, port 0x70, bit 7 = NMI disable) and data port (offset 1, port 0x71). The time comes
 * from a {@link WallClock} at virtual time zero and advances with the virtual {@link Clock}; BCD or
 * binary and 12- or 24-hour format follow register B. Periodic, alarm (with don't-care values) and
 * update-ended interrupts go to IRQ8.
 *
 * @example
 * ```ts
 * declare const clock: Clock, pic: DualPic, ramBytes: number;
 * declare const io: { map(base: number, size: number, region: IoRegion): void };   // the VMM's port bus
 * const rtc = new Mc146818Rtc({ clock, wallClock: { epochMs: () => Date.now() }, irq: pic.irqLine(8),
 *   cmos: pcCmosMemorySize(ramBytes) });
 * io.map(0x70, 2, rtc);
 * ```
 */
export class Mc146818Rtc implements IoRegion, Snapshottable {
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly cmos = new Uint8Array(128);
  private index = 0;
  private nmiMasked = false;
  /** Unix seconds shown at virtual time `baseNs`; a second boundary falls on baseNs + k s. */
  private baseSeconds = 0;
  private baseNs = 0;
  /** Origin of the divider chain, from which periodic interrupts are timed. */
  private dividerStartNs = 0;
  private flags = 0;
  private lastPeriodicCycle = 0;
  private lastUpdateSecond = 0;
  private irqLevel = false;
  private timer: TimerHandle | null = null;

  constructor(options: Mc146818RtcOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    const epochMs = Math.floor(options.wallClock.epochMs());
    const seconds = Math.floor(epochMs / 1000);
    this.baseSeconds = seconds;
    this.baseNs = -(epochMs - seconds * 1000) * 1_000_000;
    this.dividerStartNs = this.baseNs;
    this.cmos[RTC_REG_A] = REG_A_DIVIDER_32KHZ | 0x06; // 1024 Hz, as a PC BIOS leaves it
    this.cmos[RTC_REG_B] = REG_B_24H;
    this.cmos[RTC_REG_D] = REG_D_VRT;
    for (const [key, value] of Object.entries(options.cmos ?? {})) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0x0e || index > 0x7f) {
        throw new RangeError(`CMOS preset index ${key} is not an NVRAM byte (0x0E-0x7F)`);
      }
      this.cmos[index] = value & 0xff;
    }
    this.lastUpdateSecond = this.currentSecond();
    this.lastPeriodicCycle = this.periodicCycle();
    this.cmos[CMOS_CENTURY] = this.encode(Math.floor(civilFromDays(Math.floor(seconds / SECONDS_PER_DAY)).year / 100));
  }

  /** Whether the guest has set the NMI disable bit (bit 7 of the last index written to port 0x70). */
  get nmiDisabled(): boolean {
    return this.nmiMasked;
  }

  read(offset: number, size: AccessSize): number {
    return readBytewise(this.readByte, offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    writeBytewise(this.writeByte, offset, size, value);
  }

  private readonly readByte = (offset: number): number => {
    if (offset !== 1) return 0xff; // the index register is write-only
    return this.readRegister(this.index);
  };

  private readonly writeByte = (offset: number, value: number): void => {
    if (offset === 0) {
      this.index = value & 0x7f;
      this.nmiMasked = (value & RTC_INDEX_NMI_DISABLE) !== 0;
    } else if (offset === 1) {
      this.writeRegister(this.index, value);
    }
  };

  private readRegister(index: number): number {
    switch (index) {
      case RTC_REG_A:
        return (this.cmos[RTC_REG_A]! & 0x7f) | (this.updateInProgress() ? REG_A_UIP : 0);
      case RTC_REG_B:
      case RTC_REG_D:
        return this.cmos[index]!;
      case RTC_REG_C: {
        this.catchUp();
        const value = this.flags | (this.interruptRequested() ? REG_C_IRQF : 0);
        this.flags = 0;
        this.updateIrq();
        return value;
      }
      default:
        if (isTimeRegister(index) && this.running()) this.latchTime(this.currentSecond());
        return this.cmos[index]!;
    }
  }

  private writeRegister(index: number, value: number): void {
    switch (index) {
      case RTC_REG_A: {
        this.catchUp();
        const wasRunning = this.running();
        const second = this.currentSecond();
        const wasReset = this.dividerInReset();
        this.cmos[RTC_REG_A] = value & 0x7f;
        if (wasReset && !this.dividerInReset()) {
          // The divider chain restarts; the first update comes 500 ms later.
          this.dividerStartNs = this.clock.now();
          if (this.running()) this.startFromRegisters(this.clock.now() - (NS_PER_SECOND - FIRST_UPDATE_DELAY_NS));
        } else if (wasRunning && !this.running()) {
          this.latchTime(second);
        } else if (!wasRunning && this.running()) {
          this.startFromRegisters(this.clock.now());
        }
        this.lastPeriodicCycle = this.periodicCycle();
        break;
      }
      case RTC_REG_B: {
        this.catchUp();
        const wasRunning = this.running();
        const second = this.currentSecond();
        // SET clears UIE. A running clock keeps its time across a format change.
        this.cmos[RTC_REG_B] = (value & REG_B_SET) !== 0 ? value & ~REG_B_UIE : value;
        if (wasRunning && !this.running()) this.latchTime(second);
        else if (!wasRunning && this.running()) this.startFromRegisters(this.clock.now());
        break;
      }
      case RTC_REG_C:
      case RTC_REG_D:
        return; // read-only
      default:
        if (isTimeRegister(index)) {
          const running = this.running();
          if (running) this.latchTime(this.currentSecond());
          this.cmos[index] = value;
          if (running) this.restartWithPhase();
        } else {
          this.cmos[index] = value;
        }
        return;
    }
    this.updateIrq();
  }

  private dividerInReset(): boolean {
    return (this.cmos[RTC_REG_A]! & 0x60) === 0x60;
  }

  /** The clock advances unless SET is on or the divider is held in reset (or set to a test value). */
  private running(): boolean {
    return (this.cmos[RTC_REG_B]! & REG_B_SET) === 0 && (this.cmos[RTC_REG_A]! & REG_A_DIVIDER_MASK) <= REG_A_DIVIDER_32KHZ;
  }

  private currentSecond(): number {
    return this.baseSeconds + Math.floor((this.clock.now() - this.baseNs) / NS_PER_SECOND);
  }

  private updateInProgress(): boolean {
    if (!this.running()) return false;
    const intoSecond = (this.clock.now() - this.baseNs) % NS_PER_SECOND;
    const fraction = intoSecond < 0 ? intoSecond + NS_PER_SECOND : intoSecond;
    return NS_PER_SECOND - fraction <= RTC_UIP_LEAD_NS;
  }

  /** Restarts the count from the registers at the current second's phase (the divider keeps running). */
  private restartWithPhase(): void {
    const elapsed = Math.floor((this.clock.now() - this.baseNs) / NS_PER_SECOND);
    this.startFromRegisters(this.baseNs + elapsed * NS_PER_SECOND);
  }

  /** Takes the time from the registers; the register time is shown from `atNs` on. */
  private startFromRegisters(atNs: number): void {
    this.baseSeconds = this.registersToSeconds();
    this.baseNs = atNs;
    this.lastUpdateSecond = this.currentSecond();
  }

  private encode(value: number): number {
    if ((this.cmos[RTC_REG_B]! & REG_B_DM_BINARY) !== 0) return value & 0xff;
    const v = ((value % 100) + 100) % 100;
    return (Math.floor(v / 10) << 4) | (v % 10);
  }

  private decode(value: number): number {
    if ((this.cmos[RTC_REG_B]! & REG_B_DM_BINARY) !== 0) return value;
    return (value >>> 4) * 10 + (value & 0x0f);
  }

  private encodeHour(hour: number): number {
    if ((this.cmos[RTC_REG_B]! & REG_B_24H) !== 0) return this.encode(hour);
    return this.encode(hour % 12 === 0 ? 12 : hour % 12) | (hour >= 12 ? 0x80 : 0);
  }

  private decodeHour(value: number): number {
    if ((this.cmos[RTC_REG_B]! & REG_B_24H) !== 0) return this.decode(value);
    return (this.decode(value & 0x7f) % 12) + ((value & 0x80) !== 0 ? 12 : 0);
  }

  /** Writes the time of Unix second `seconds` into the time registers. */
  private latchTime(seconds: number): void {
    const days = Math.floor(seconds / SECONDS_PER_DAY);
    const secondOfDay = seconds - days * SECONDS_PER_DAY;
    const date = civilFromDays(days);
    this.cmos[RTC_SECONDS] = this.encode(secondOfDay % 60);
    this.cmos[RTC_MINUTES] = this.encode(Math.floor(secondOfDay / 60) % 60);
    this.cmos[RTC_HOURS] = this.encodeHour(Math.floor(secondOfDay / 3600));
    this.cmos[RTC_DAY_OF_WEEK] = this.encode(weekdayOfDays(days) + 1);
    this.cmos[RTC_DAY_OF_MONTH] = this.encode(date.day);
    this.cmos[RTC_MONTH] = this.encode(date.month);
    this.cmos[RTC_YEAR] = this.encode(((date.year % 100) + 100) % 100);
    this.cmos[CMOS_CENTURY] = this.encode(Math.floor(date.year / 100));
  }

  private registersToSeconds(): number {
    const second = Math.min(this.decode(this.cmos[RTC_SECONDS]!), 59);
    const minute = Math.min(this.decode(this.cmos[RTC_MINUTES]!), 59);
    const hour = Math.min(this.decodeHour(this.cmos[RTC_HOURS]!), 23);
    const day = Math.max(1, Math.min(this.decode(this.cmos[RTC_DAY_OF_MONTH]!), 31));
    const month = Math.max(1, Math.min(this.decode(this.cmos[RTC_MONTH]!), 12));
    const year = Math.min(this.decode(this.cmos[RTC_YEAR]!), 99) + 100 * Math.min(this.decode(this.cmos[CMOS_CENTURY]!), 99);
    return daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
  }

  /** Periodic interrupt rate in Hz for the current rate select, or 0 when off. */
  private periodicRate(): number {
    const rs = this.cmos[RTC_REG_A]! & REG_A_RATE_MASK;
    if (rs === 0 || this.dividerInReset()) return 0;
    if (rs <= 2) return rs === 1 ? 256 : 128; // the 32.768 kHz time base's special cases
    return 32768 >>> (rs - 1);
  }

  private periodicCycle(): number {
    const rate = this.periodicRate();
    return rate === 0 ? 0 : cyclesAt(this.clock.now() - this.dividerStartNs, rate);
  }

  /** Sets PF, UF and AF for every period and second that passed since the last look. */
  private catchUp(): void {
    const cycle = this.periodicCycle();
    if (this.periodicRate() !== 0 && cycle > this.lastPeriodicCycle) this.flags |= REG_C_PF;
    this.lastPeriodicCycle = cycle;
    if (!this.running()) return;
    const second = this.currentSecond();
    if (second <= this.lastUpdateSecond) return;
    this.flags |= REG_C_UF;
    // A whole day covers every time of day, so at most one day of seconds needs checking.
    const first = Math.max(this.lastUpdateSecond + 1, second - SECONDS_PER_DAY + 1);
    for (let s = first; s <= second; s++) {
      if (this.alarmMatches(s)) {
        this.flags |= REG_C_AF;
        break;
      }
    }
    this.lastUpdateSecond = second;
  }

  private alarmMatches(seconds: number): boolean {
    const secondOfDay = ((seconds % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    return (
      alarmField(this.cmos[RTC_SECONDS_ALARM]!, this.encode(secondOfDay % 60)) &&
      alarmField(this.cmos[RTC_MINUTES_ALARM]!, this.encode(Math.floor(secondOfDay / 60) % 60)) &&
      alarmField(this.cmos[RTC_HOURS_ALARM]!, this.encodeHour(Math.floor(secondOfDay / 3600)))
    );
  }

  private interruptRequested(): boolean {
    const b = this.cmos[RTC_REG_B]!;
    return ((this.flags & REG_C_PF) !== 0 && (b & REG_B_PIE) !== 0) ||
      ((this.flags & REG_C_AF) !== 0 && (b & REG_B_AIE) !== 0) ||
      ((this.flags & REG_C_UF) !== 0 && (b & REG_B_UIE) !== 0);
  }

  private updateIrq(): void {
    const level = this.interruptRequested();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setLevel(level);
    }
    this.schedule();
  }

  /** Arms one timer for the next event that could raise IRQ8; none when no interrupt is enabled. */
  private schedule(): void {
    this.timer?.cancel();
    this.timer = null;
    const b = this.cmos[RTC_REG_B]!;
    let deadline = Number.POSITIVE_INFINITY;
    const rate = this.periodicRate();
    if ((b & REG_B_PIE) !== 0 && rate !== 0) {
      deadline = this.dividerStartNs + timeOfCycle(this.periodicCycle() + 1, rate);
    }
    if ((b & (REG_B_AIE | REG_B_UIE)) !== 0 && this.running()) {
      const next = this.baseNs + (Math.floor((this.clock.now() - this.baseNs) / NS_PER_SECOND) + 1) * NS_PER_SECOND;
      deadline = Math.min(deadline, next);
    }
    if (deadline !== Number.POSITIVE_INFINITY) this.timer = this.clock.setTimer(deadline, this.onTimer);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.catchUp();
    this.updateIrq();
  };

  saveState(): DeviceState {
    this.catchUp();
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        cmos: Array.from(this.cmos), index: this.index, nmiMasked: this.nmiMasked, baseSeconds: this.baseSeconds,
        baseNs: this.baseNs, dividerStartNs: this.dividerStartNs, flags: this.flags,
        lastPeriodicCycle: this.lastPeriodicCycle, lastUpdateSecond: this.lastUpdateSecond,
      },
    };
  }

  restoreState(state: DeviceState): void {
    const r = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const cmos = r.ints('cmos', 128, 0, 0xff);
    const index = r.int('index', 0, 0x7f);
    const nmiMasked = r.bool('nmiMasked');
    const baseSeconds = r.num('baseSeconds');
    const baseNs = r.num('baseNs');
    const dividerStartNs = r.num('dividerStartNs');
    const flags = r.int('flags', 0, REG_C_PF | REG_C_AF | REG_C_UF);
    const lastPeriodicCycle = r.num('lastPeriodicCycle');
    const lastUpdateSecond = r.num('lastUpdateSecond');
    this.cmos.set(cmos);
    this.index = index;
    this.nmiMasked = nmiMasked;
    this.baseSeconds = baseSeconds;
    this.baseNs = baseNs;
    this.dividerStartNs = dividerStartNs;
    this.flags = flags;
    this.lastPeriodicCycle = lastPeriodicCycle;
    this.lastUpdateSecond = lastUpdateSecond;
    this.irqLevel = this.interruptRequested();
    this.irq.setLevel(this.irqLevel);
    this.schedule();
  }
}

function isTimeRegister(index: number): boolean {
  return (index <= RTC_YEAR && index !== RTC_SECONDS_ALARM && index !== RTC_MINUTES_ALARM && index !== RTC_HOURS_ALARM) || index === CMOS_CENTURY;
}

function alarmField(alarm: number, current: number): boolean {
  return (alarm & 0xc0) === 0xc0 || alarm === current;
}

/** Where a PC BIOS records the memory size in CMOS, for the given amounts of RAM. */
export function pcCmosMemorySize(ramBelow4GiB: number, ramAbove4GiB = 0): Record<number, number> {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  const extendedKiB = Math.min(0xffff, Math.max(0, Math.floor((ramBelow4GiB - MiB) / KiB)));
  const above16M = Math.min(0xffff, Math.max(0, Math.floor((ramBelow4GiB - 16 * MiB) / (64 * KiB))));
  const above4G = Math.min(0xffffff, Math.max(0, Math.floor(ramAbove4GiB / (64 * KiB))));
  const baseKiB = Math.min(640, Math.floor(ramBelow4GiB / KiB));
  return {
    0x15: baseKiB & 0xff, 0x16: baseKiB >>> 8,
    0x17: extendedKiB & 0xff, 0x18: extendedKiB >>> 8,
    0x30: extendedKiB & 0xff, 0x31: extendedKiB >>> 8,
    0x34: above16M & 0xff, 0x35: above16M >>> 8,
    0x5b: above4G & 0xff, 0x5c: (above4G >>> 8) & 0xff, 0x5d: above4G >>> 16,
  };
}
