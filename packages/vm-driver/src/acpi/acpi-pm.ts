import type { AccessSize, Clock, IoRegion, IrqLine } from '@typevisor/devices';
import { SLP_TYP_S5 } from './acpi-tables.js';

/** Bits of PM1 status/enable (ACPI "PM1 Event Grouping"). */
export const Pm1Event = { timer: 1 << 0, powerButton: 1 << 8, wake: 1 << 15 } as const;
/** Bits of PM1 control. */
export const Pm1Control = { sciEnable: 1 << 0, sleepTypeShift: 10, sleepTypeMask: 0x7 << 10, sleepEnable: 1 << 13 } as const;
/** Frequency of the ACPI PM timer. */
export const PM_TIMER_HZ = 3_579_545;

/** Register offsets in the 12-port window (event block, control block, timer). */
const STATUS = 0;
const ENABLE = 2;
const CONTROL = 4;
const TIMER = 8;

/**
 * The fixed-feature ACPI hardware of the microVM, as one 12-port window: PM1a status/enable
 * (0..3), PM1a control (4..5) and the 24-bit PM timer (8..11). The machine is always in ACPI mode
 * (SCI_EN reads 1). Writing SLP_TYP = S5 with SLP_EN powers off; other sleep states are not offered
 * (the DSDT only has `\_S5`), so they are ignored. The SCI is raised while an enabled status bit is
 * set; the timer's overflow event is not generated (TMR_STS never sets).
 */
export class AcpiPmDevice implements IoRegion {
  private status = 0;
  private enable = 0;
  private sleepType = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sci: IrqLine,
    private readonly onPowerOff: () => void,
  ) {}

  /** Presses the power button: the guest sees PWRBTN_STS and an SCI if it enabled that event. */
  pressPowerButton(): void {
    this.status |= Pm1Event.powerButton;
    this.updateSci();
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.readByte(offset + i) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  private readByte(offset: number): number {
    if (offset >= STATUS && offset < STATUS + 2) return (this.status >>> (8 * (offset - STATUS))) & 0xff;
    if (offset >= ENABLE && offset < ENABLE + 2) return (this.enable >>> (8 * (offset - ENABLE))) & 0xff;
    if (offset >= CONTROL && offset < CONTROL + 2) {
      const control = Pm1Control.sciEnable | (this.sleepType << Pm1Control.sleepTypeShift);
      return (control >>> (8 * (offset - CONTROL))) & 0xff;
    }
    if (offset >= TIMER && offset < TIMER + 4) {
      const ticks = Math.floor((this.clock.now() * PM_TIMER_HZ) / 1e9) % 0x100_0000;
      return (ticks >>> (8 * (offset - TIMER))) & 0xff;
    }
    return 0xff;
  }

  private writeByte(offset: number, byte: number): void {
    if (offset >= STATUS && offset < STATUS + 2) {
      this.status &= ~(byte << (8 * (offset - STATUS))); // write 1 to clear
      this.updateSci();
    } else if (offset >= ENABLE && offset < ENABLE + 2) {
      const shift = 8 * (offset - ENABLE);
      this.enable = (this.enable & ~(0xff << shift)) | (byte << shift);
      this.updateSci();
    } else if (offset === CONTROL + 1) {
      const control = byte << 8;
      this.sleepType = (control & Pm1Control.sleepTypeMask) >>> Pm1Control.sleepTypeShift;
      if ((control & Pm1Control.sleepEnable) !== 0 && this.sleepType === SLP_TYP_S5) this.onPowerOff();
    }
  }

  private updateSci(): void {
    this.sci.setLevel((this.status & this.enable) !== 0);
  }
}
