import type { AccessSize, Clock, DeviceState, IoRegion, Snapshottable } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { StateReader } from './device-state.js';
import type { Pit8254 } from './pit8254.js';

/** Port 0x61 bit 0: GATE input of PIT counter 2. */
export const PORTB_TIMER2_GATE = 0x01;
/** Bit 1: speaker data enable (ANDed with counter 2's OUT on the way to the speaker). */
export const PORTB_SPEAKER_DATA = 0x02;
/** Bit 2: parity check disable (stored). */
export const PORTB_PARITY_CHECK_DISABLE = 0x04;
/** Bit 3: channel check disable (stored). */
export const PORTB_CHANNEL_CHECK_DISABLE = 0x08;
/** Bit 4 (read-only): toggles every 15.085 microseconds (the old DRAM refresh request). */
export const PORTB_REFRESH_TOGGLE = 0x10;
/** Bit 5 (read-only): OUT of PIT counter 2. */
export const PORTB_TIMER2_OUTPUT = 0x20;

/** Half period of the refresh toggle in nanoseconds. */
export const REFRESH_TOGGLE_NS = 15_085;

const WRITABLE = PORTB_TIMER2_GATE | PORTB_SPEAKER_DATA | PORTB_PARITY_CHECK_DISABLE | PORTB_CHANNEL_CHECK_DISABLE;
const STATE_KIND = 'system-control-port-b';
const STATE_VERSION = 1;

/** Options of {@link SystemControlPortB}. */
export interface SystemControlPortBOptions {
  /** The PIT whose counter 2 gate and OUT this port exposes. */
  readonly pit: Pit8254;
  /** The virtual clock, for the refresh toggle bit. */
  readonly clock: Clock;
  /** Called when the speaker would sound or fall silent (gate and data bits both set). */
  readonly onSpeaker?: (enabled: boolean) => void;
}

/**
 * System control port B (port 0x61): PIT counter 2's gate and speaker enable, and counter 2's OUT
 * and the refresh toggle to read. Linux calibrates the TSC by starting counter 2 in mode 0 through
 * bit 0 and polling bit 5.
 */
export class SystemControlPortB implements IoRegion, Snapshottable {
  private value = 0;
  private readonly pit: Pit8254;
  private readonly clock: Clock;
  private readonly onSpeaker: ((enabled: boolean) => void) | undefined;

  constructor(options: SystemControlPortBOptions) {
    this.pit = options.pit;
    this.clock = options.clock;
    this.onSpeaker = options.onSpeaker;
    this.pit.setGate(2, false);
  }

  read(offset: number, size: AccessSize): number {
    return readBytewise(this.readByte, offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    writeBytewise(this.writeByte, offset, size, value);
  }

  private readonly readByte = (offset: number): number => {
    if (offset !== 0) return 0xff;
    let value = this.value;
    if (Math.floor(this.clock.now() / REFRESH_TOGGLE_NS) & 1) value |= PORTB_REFRESH_TOGGLE;
    if (this.pit.output(2)) value |= PORTB_TIMER2_OUTPUT;
    return value;
  };

  private readonly writeByte = (offset: number, value: number): void => {
    if (offset !== 0) return;
    const before = this.speakerEnabled();
    this.value = value & WRITABLE;
    this.pit.setGate(2, (value & PORTB_TIMER2_GATE) !== 0);
    const after = this.speakerEnabled();
    if (before !== after) this.onSpeaker?.(after);
  };

  private speakerEnabled(): boolean {
    return (this.value & (PORTB_TIMER2_GATE | PORTB_SPEAKER_DATA)) === (PORTB_TIMER2_GATE | PORTB_SPEAKER_DATA);
  }

  saveState(): DeviceState {
    return { kind: STATE_KIND, version: STATE_VERSION, data: { value: this.value } };
  }

  /** Restores the latched bits; restore the PIT afterwards (it carries counter 2's gate). */
  restoreState(state: DeviceState): void {
    this.value = StateReader.open(state, STATE_KIND, STATE_VERSION).int('value', 0, WRITABLE);
  }
}
