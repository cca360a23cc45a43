import type { AccessSize, Clock, DeviceState, IoRegion, IrqLine, Snapshottable, TimerHandle } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { cyclesAt, timeOfCycle } from './clock-math.js';
import { StateReader } from './device-state.js';

/** The 8254's input clock on a PC: 1.193182 MHz (the 14.31818 MHz crystal divided by 12). */
export const PIT_FREQUENCY_HZ = 1_193_182;

/** Register offsets in the 0x40-0x43 window. */
export const PIT_COUNTER0 = 0;
/** Counter 1 (DRAM refresh on old PCs). */
export const PIT_COUNTER1 = 1;
/** Counter 2 (speaker and port 0x61). */
export const PIT_COUNTER2 = 2;
/** The write-only control word register. */
export const PIT_CONTROL = 3;

/** Control word: select counter (SC1 SC0), 3 = read-back command. */
export const CW_SELECT_SHIFT = 6;
/** Control word: read/write access (RW1 RW0), 0 = counter latch command. */
export const CW_ACCESS_SHIFT = 4;
/** Control word: mode (M2 M1 M0). */
export const CW_MODE_SHIFT = 1;
/** Control word: BCD counting. */
export const CW_BCD = 0x01;
/** Read-back: 0 = latch the count of the selected counters. */
export const READBACK_NO_COUNT = 0x20;
/** Read-back: 0 = latch the status of the selected counters. */
export const READBACK_NO_STATUS = 0x10;
/** Status byte: the OUT pin. */
export const STATUS_OUTPUT = 0x80;
/** Status byte: null count (the last written count has not reached the counting element yet). */
export const STATUS_NULL_COUNT = 0x40;

/** Access modes (RW1 RW0). */
export const PitAccess = { Latch: 0, LsbOnly: 1, MsbOnly: 2, LsbThenMsb: 3 } as const;

/** Options of {@link Pit8254}. */
export interface Pit8254Options {
  /** The machine's virtual clock; the counters are computed from it, never ticked. */
  readonly clock: Clock;
  /** Counter 0's OUT pin, wired to IRQ0 (the PIC latches its rising edge). */
  readonly irq0?: IrqLine;
}

const STATE_KIND = 'pit-8254';
const STATE_VERSION = 1;
const NEVER = Number.POSITIVE_INFINITY;

/**
 * One counter. Instead of decrementing on every clock edge it remembers the clock edge at which its
 * count was loaded (`loadTick`), the edge from which it has counted without interruption
 * (`segmentStart`) and the decrements done before a gate pause (`accumulated`); every register value
 * and the OUT level follow from the current edge number.
 */
class PitCounter {
  mode = 0;
  bcd = false;
  access = PitAccess.LsbThenMsb as number;
  /** Low six bits of the last control word, for the status byte. */
  control = 0;
  /** The count last written (the CR), and the one in the counting element (modes 1 and 5 copy at the trigger). */
  reload = 0;
  active = 0;
  gate: boolean;
  /** A full count has been written since the last control word. */
  armed = false;
  /** Modes 1 and 5: a gate trigger has started the counting element. */
  triggered = false;
  loadTick = NEVER;
  segmentStart = 0;
  accumulated = 0;
  counting = false;
  /** The counting element's value while it is not defined by a count (after a control word). */
  held = 0;
  writeMsbNext = false;
  pendingLsb = 0;
  /** Mode 0 stops counting between the two bytes of a new count. */
  stoppedForWrite = false;
  readMsbNext = false;
  latched = false;
  latchedValue = 0;
  statusLatched = false;
  statusValue = 0;
  nullCount = true;
  nullClearTick = NEVER;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  /** Period of the counting element: a count of 0 is the largest, 2^16 or 10^4. */
  private span(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  private length(): number {
    const n = this.bcd ? fromBcd(this.active) : this.active;
    const length = n === 0 ? this.span() : n;
    // Modes 2 and 3 cannot divide by one; the datasheet calls a count of 1 illegal there.
    return (this.mode === 2 || this.mode === 3) && length < 2 ? 2 : length;
  }

  private running(): boolean {
    return this.mode === 1 || this.mode === 5 ? this.triggered : this.armed && !this.stoppedForWrite;
  }

  /** Decrements performed by edge `tick`. */
  private decrements(tick: number): number {
    if (this.counting && tick > this.segmentStart) return this.accumulated + (tick - this.segmentStart);
    return this.accumulated;
  }

  counterValue(tick: number): number {
    if (!this.running() || tick < this.loadTick) return this.held;
    const n = this.length();
    const d = this.decrements(tick);
    let value: number;
    switch (this.mode) {
      case 2:
        value = n - (d % n);
        break;
      case 3: {
        const phase = d % n;
        const high = Math.ceil(n / 2);
        // Decrements by two; an odd count shows one more while OUT is high.
        value = phase < high ? 2 * (high - phase) - (n & 1) : 2 * (n - phase);
        break;
      }
      default:
        value = (((n - d) % this.span()) + this.span()) % this.span();
    }
    return value === this.span() ? 0 : value;
  }

  output(tick: number): boolean {
    const loaded = this.running() && tick >= this.loadTick;
    switch (this.mode) {
      case 0:
        return loaded && this.decrements(tick) >= this.length();
      case 1:
        return !loaded || this.decrements(tick) >= this.length();
      case 2:
        if (!loaded || !this.gate) return true;
        return this.decrements(tick) % this.length() !== this.length() - 1;
      case 3:
        if (!loaded || !this.gate) return true;
        return this.decrements(tick) % this.length() < Math.ceil(this.length() / 2);
      default: // 4 and 5
        return !loaded || this.decrements(tick) !== this.length();
    }
  }

  /** The first edge after `tick` at which OUT changes, or infinity. */
  nextOutputChange(tick: number): number {
    if (!this.running() || !this.counting || this.loadTick === NEVER) return NEVER;
    const from = Math.max(tick, this.loadTick);
    const d = this.decrements(from);
    const n = this.length();
    let offset: number;
    switch (this.mode) {
      case 0:
      case 1:
        if (d >= n) return NEVER;
        offset = n - d;
        break;
      case 2: {
        const phase = d % n;
        offset = phase < n - 1 ? n - 1 - phase : 1;
        break;
      }
      case 3: {
        const phase = d % n;
        const high = Math.ceil(n / 2);
        offset = phase < high ? high - phase : n - phase;
        break;
      }
      default:
        if (d > n) return NEVER;
        offset = d < n ? n - d : 1;
    }
    return from + offset;
  }

  status(tick: number): number {
    let value = this.control;
    if (this.output(tick)) value |= STATUS_OUTPUT;
    if (this.nullCount && tick < this.nullClearTick) value |= STATUS_NULL_COUNT;
    return value;
  }

  writeControl(control: number, tick: number): void {
    this.held = this.counterValue(tick);
    this.control = control & 0x3f;
    this.access = (control >>> CW_ACCESS_SHIFT) & 3;
    const mode = (control >>> CW_MODE_SHIFT) & 7;
    this.mode = mode > 5 ? mode - 4 : mode; // 6 and 7 are aliases of 2 and 3
    this.bcd = (control & CW_BCD) !== 0;
    this.armed = false;
    this.triggered = false;
    this.stoppedForWrite = false;
    this.loadTick = NEVER;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latched = false;
    this.statusLatched = false;
    this.nullCount = true;
    this.nullClearTick = NEVER;
  }

  latchCount(tick: number): void {
    if (this.latched) return; // a second latch before the first is read is ignored
    this.latched = true;
    this.latchedValue = this.counterValue(tick);
  }

  latchStatus(tick: number): void {
    if (this.statusLatched) return;
    this.statusLatched = true;
    this.statusValue = this.status(tick);
  }

  readByte(tick: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.statusValue;
    }
    let value: number;
    if (this.latched) {
      value = this.latchedValue;
    } else {
      value = this.counterValue(tick);
    }
    if (this.bcd) value = toBcd(value);
    let byte: number;
    let last = true;
    switch (this.access) {
      case PitAccess.MsbOnly:
        byte = value >>> 8;
        break;
      case PitAccess.LsbThenMsb:
        byte = this.readMsbNext ? value >>> 8 : value & 0xff;
        last = this.readMsbNext;
        this.readMsbNext = !this.readMsbNext;
        break;
      default:
        byte = value & 0xff;
    }
    if (last) this.latched = false;
    return byte & 0xff;
  }

  writeByte(value: number, tick: number): void {
    switch (this.access) {
      case PitAccess.LsbOnly:
        this.loadCount(value, tick);
        return;
      case PitAccess.MsbOnly:
        this.loadCount(value << 8, tick);
        return;
      case PitAccess.LsbThenMsb:
        if (!this.writeMsbNext) {
          this.pendingLsb = value;
          this.writeMsbNext = true;
          if (this.mode === 0 && this.armed) {
            // Writing the first byte stops the count; OUT goes low.
            this.held = this.counterValue(tick);
            this.stoppedForWrite = true;
          }
          return;
        }
        this.writeMsbNext = false;
        this.loadCount(this.pendingLsb | (value << 8), tick);
        return;
      default:
        return; // no access mode programmed yet
    }
  }

  private loadCount(count: number, tick: number): void {
    this.reload = count;
    this.nullCount = true;
    this.stoppedForWrite = false;
    this.armed = true;
    if (this.mode === 1 || this.mode === 5) {
      // Waits for a gate trigger; a running one-shot keeps its count.
      this.nullClearTick = NEVER;
      return;
    }
    // The count reaches the counting element on the next clock edge (modes 2 and 3 restart at once
    // here; the chip would finish the current period first).
    this.active = count;
    this.loadTick = tick + 1;
    this.nullClearTick = tick + 1;
    this.segmentStart = this.loadTick;
    this.accumulated = 0;
    this.counting = this.gate;
  }

  setGate(level: boolean, tick: number): void {
    if (level === this.gate) return;
    this.gate = level;
    switch (this.mode) {
      case 1:
      case 5:
        if (level && this.armed) this.trigger(tick);
        return;
      case 2:
      case 3:
        if (level) {
          // A rising gate reloads the count on the next clock.
          if (this.armed) {
            this.loadTick = tick + 1;
            this.segmentStart = tick + 1;
            this.accumulated = 0;
          }
          this.counting = true;
        } else {
          this.pause(tick);
        }
        return;
      default:
        if (level) {
          this.counting = true;
          this.segmentStart = Math.max(tick, this.loadTick === NEVER ? tick : this.loadTick);
        } else {
          this.pause(tick);
        }
    }
  }

  private pause(tick: number): void {
    if (this.counting) this.accumulated = this.decrements(Math.max(tick, this.segmentStart));
    this.counting = false;
  }

  private trigger(tick: number): void {
    this.active = this.reload;
    this.triggered = true;
    this.loadTick = tick + 1;
    this.segmentStart = tick + 1;
    this.accumulated = 0;
    this.counting = true;
    if (this.nullCount && this.nullClearTick === NEVER) this.nullClearTick = tick + 1;
  }

  save(): Record<string, number | boolean> {
    return {
      mode: this.mode, bcd: this.bcd, access: this.access, control: this.control, reload: this.reload,
      active: this.active, gate: this.gate, armed: this.armed, triggered: this.triggered,
      loadTick: this.loadTick === NEVER ? -1 : this.loadTick, segmentStart: this.segmentStart,
      accumulated: this.accumulated, counting: this.counting, held: this.held, writeMsbNext: this.writeMsbNext,
      pendingLsb: this.pendingLsb, stoppedForWrite: this.stoppedForWrite, readMsbNext: this.readMsbNext,
      latched: this.latched, latchedValue: this.latchedValue, statusLatched: this.statusLatched,
      statusValue: this.statusValue, nullCount: this.nullCount,
      nullClearTick: this.nullClearTick === NEVER ? -1 : this.nullClearTick,
    };
  }

  restore(r: StateReader): void {
    const big = Number.MAX_SAFE_INTEGER;
    this.mode = r.int('mode', 0, 5); this.bcd = r.bool('bcd'); this.access = r.int('access', 0, 3);
    this.control = r.int('control', 0, 0x3f); this.reload = r.int('reload', 0, 0xffff);
    this.active = r.int('active', 0, 0xffff); this.gate = r.bool('gate'); this.armed = r.bool('armed');
    this.triggered = r.bool('triggered');
    const loadTick = r.int('loadTick', -1, big);
    this.loadTick = loadTick < 0 ? NEVER : loadTick;
    this.segmentStart = r.int('segmentStart', -big, big); this.accumulated = r.int('accumulated', 0, big);
    this.counting = r.bool('counting'); this.held = r.int('held', 0, 0xffff);
    this.writeMsbNext = r.bool('writeMsbNext'); this.pendingLsb = r.int('pendingLsb', 0, 0xff);
    this.stoppedForWrite = r.bool('stoppedForWrite'); this.readMsbNext = r.bool('readMsbNext');
    this.latched = r.bool('latched'); this.latchedValue = r.int('latchedValue', 0, 0xffff);
    this.statusLatched = r.bool('statusLatched'); this.statusValue = r.int('statusValue', 0, 0xff);
    this.nullCount = r.bool('nullCount');
    const nullClear = r.int('nullClearTick', -1, big);
    this.nullClearTick = nullClear < 0 ? NEVER : nullClear;
  }
}

function fromBcd(value: number): number {
  return ((value >>> 12) & 0xf) * 1000 + ((value >>> 8) & 0xf) * 100 + ((value >>> 4) & 0xf) * 10 + (value & 0xf);
}

function toBcd(value: number): number {
  const v = value % 10000;
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

/**
 * The Intel 8254 programmable interval timer: three 16-bit counters with six modes each, binary or
 * BCD, the LSB/MSB access modes, counter latch and read-back commands and gate inputs. Counter 0's
 * OUT drives IRQ0; counter 2's gate and OUT are reached through {@link SystemControlPortB}.
 *
 * Counter values are computed from the virtual {@link Clock} at each access; the only timer the PIT
 * sets is for the next change of counter 0's OUT, so the PIC sees every rising edge.
 *
 * @example
 * ```ts
 * declare const clock: Clock, pic: DualPic;
 * declare const io: { map(base: number, size: number, region: IoRegion): void };   // the VMM's port bus
 * const pit = new Pit8254({ clock, irq0: pic.irqLine(0) });
 * io.map(0x40, 4, pit);
 * io.map(0x61, 1, new SystemControlPortB({ pit, clock }));
 * ```
 */
export class Pit8254 implements IoRegion, Snapshottable {
  private readonly clock: Clock;
  private readonly irq0: IrqLine | undefined;
  private readonly counters = [new PitCounter(true), new PitCounter(true), new PitCounter(false)] as const;
  private irqLevel = false;
  private irqSyncedTick = 0;
  private timer: TimerHandle | null = null;

  constructor(options: Pit8254Options) {
    this.clock = options.clock;
    this.irq0 = options.irq0;
    this.irqSyncedTick = this.tick();
    this.irqLevel = this.counters[0].output(this.irqSyncedTick);
    this.irq0?.setLevel(this.irqLevel);
  }

  read(offset: number, size: AccessSize): number {
    return readBytewise(this.readByte, offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    writeBytewise(this.writeByte, offset, size, value);
  }

  /** Sets the GATE input of `channel` (0-2). On a PC only counter 2's gate is wired (port 0x61). */
  setGate(channel: number, level: boolean): void {
    const counter = this.counters[channel];
    if (counter === undefined) return;
    if (channel === 0) this.syncIrq0();
    counter.setGate(level, this.tick());
    if (channel === 0) this.syncIrq0();
  }

  /** The GATE input of `channel`. */
  gate(channel: number): boolean {
    return this.counters[channel]?.gate ?? false;
  }

  /** The OUT pin of `channel` (0-2) now. */
  output(channel: number): boolean {
    return this.counters[channel]?.output(this.tick()) ?? false;
  }

  private tick(): number {
    return cyclesAt(this.clock.now(), PIT_FREQUENCY_HZ);
  }

  private readonly readByte = (offset: number): number => {
    const counter = this.counters[offset];
    if (counter === undefined) return 0xff; // the control word register cannot be read
    return counter.readByte(this.tick());
  };

  private readonly writeByte = (offset: number, value: number): void => {
    const tick = this.tick();
    if (offset === PIT_CONTROL) {
      this.writeControl(value, tick);
      return;
    }
    const counter = this.counters[offset];
    if (counter === undefined) return;
    if (offset === 0) this.syncIrq0();
    counter.writeByte(value, tick);
    if (offset === 0) this.syncIrq0();
  };

  private writeControl(value: number, tick: number): void {
    const select = value >>> CW_SELECT_SHIFT;
    if (select === 3) {
      for (let channel = 0; channel < 3; channel++) {
        if ((value & (2 << channel)) === 0) continue;
        const counter = this.counters[channel]!;
        // Status first: if both are latched, the status byte is read before the count.
        if ((value & READBACK_NO_STATUS) === 0) counter.latchStatus(tick);
        if ((value & READBACK_NO_COUNT) === 0) counter.latchCount(tick);
      }
      return;
    }
    const counter = this.counters[select]!;
    if (((value >>> CW_ACCESS_SHIFT) & 3) === PitAccess.Latch) {
      counter.latchCount(tick);
      return;
    }
    if (select === 0) this.syncIrq0();
    counter.writeControl(value, tick);
    if (select === 0) this.syncIrq0();
  }

  /**
   * Brings IRQ0 up to date: replays the rising edge of counter 0's OUT if one happened since the last
   * sync (the PIC must see it even if OUT has fallen again), then sets the current level and arms a
   * timer for the next change.
   */
  private syncIrq0(): void {
    if (this.irq0 === undefined) return;
    const counter = this.counters[0];
    const now = this.tick();
    let rising = false;
    const first = counter.nextOutputChange(this.irqSyncedTick);
    // OUT alternates, so a rising edge is either the first change or the one after it.
    if (first <= now) rising = counter.output(first) || counter.nextOutputChange(first) <= now;
    if (rising) {
      if (this.irqLevel) this.irq0.setLevel(false);
      this.irq0.setLevel(true);
      this.irqLevel = true;
    }
    const level = counter.output(now);
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq0.setLevel(level);
    }
    this.irqSyncedTick = now;
    this.timer?.cancel();
    this.timer = null;
    const next = counter.nextOutputChange(now);
    if (next !== NEVER) {
      this.timer = this.clock.setTimer(timeOfCycle(next, PIT_FREQUENCY_HZ), this.onTimer);
    }
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.syncIrq0();
  };

  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        counters: this.counters.map((c) => c.save()),
        irqLevel: this.irqLevel,
        irqSyncedTick: this.irqSyncedTick,
      },
    };
  }

  restoreState(state: DeviceState): void {
    const reader = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const parts = reader.list('counters', 3);
    const syncedTick = reader.int('irqSyncedTick', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const irqLevel = reader.bool('irqLevel');
    // Validate everything before changing anything.
    const scratch = [new PitCounter(true), new PitCounter(true), new PitCounter(false)];
    scratch.forEach((c, i) => c.restore(parts[i]!));
    this.counters.forEach((c, i) => c.restore(parts[i]!));
    this.irqSyncedTick = syncedTick;
    this.irqLevel = irqLevel;
    this.irq0?.setLevel(irqLevel);
    this.syncIrq0();
  }
}
