import type { AccessSize, DeviceState, IoRegion, Snapshottable } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { StateReader } from './device-state.js';

/** Port 0x92 bit 0: fast reset (writing 1 resets the CPU). */
export const PORTA_FAST_RESET = 0x01;
/** Port 0x92 bit 1: fast A20 gate. */
export const PORTA_FAST_A20 = 0x02;

const STATE_KIND = 'system-control-port-a';
const STATE_VERSION = 1;

/** Options of {@link SystemControlPortA}. */
export interface SystemControlPortAOptions {
  /** Called when the A20 gate bit changes. */
  readonly onA20?: (enabled: boolean) => void;
  /** Called when the guest writes 1 to the fast reset bit. */
  readonly onReset?: () => void;
  /** A20 as the firmware left it (default true). */
  readonly a20Enabled?: boolean;
}

/**
 * System control port A (port 0x92, "fast A20"): bit 1 gates A20, a 1 written to bit 0 resets the
 * CPU. The machine ORs this A20 gate with the keyboard controller's.
 */
export class SystemControlPortA implements IoRegion, Snapshottable {
  private value: number;
  private readonly onA20: ((enabled: boolean) => void) | undefined;
  private readonly onReset: (() => void) | undefined;

  constructor(options: SystemControlPortAOptions = {}) {
    this.onA20 = options.onA20;
    this.onReset = options.onReset;
    this.value = (options.a20Enabled ?? true) ? PORTA_FAST_A20 : 0;
  }

  /** The current A20 gate bit. */
  get a20Enabled(): boolean {
    return (this.value & PORTA_FAST_A20) !== 0;
  }

  read(offset: number, size: AccessSize): number {
    return readBytewise((o) => (o === 0 ? this.value : 0xff), offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    writeBytewise((o, v) => {
      if (o !== 0) return;
      const previous = this.value;
      // Bit 0 is a pulse: it reads back as 0 once the reset has been issued.
      this.value = v & ~PORTA_FAST_RESET & 0xff;
      if (((previous ^ this.value) & PORTA_FAST_A20) !== 0) this.onA20?.((this.value & PORTA_FAST_A20) !== 0);
      if ((v & PORTA_FAST_RESET) !== 0) this.onReset?.();
    }, offset, size, value);
  }

  saveState(): DeviceState {
    return { kind: STATE_KIND, version: STATE_VERSION, data: { value: this.value } };
  }

  restoreState(state: DeviceState): void {
    this.value = StateReader.open(state, STATE_KIND, STATE_VERSION).int('value', 0, 0xfe);
  }
}
