import type { AccessSize, CharBackend, Clock, DeviceState, IoRegion, IrqLine, Snapshottable, TimerHandle } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { DeviceStateError } from '../types.js';
import { StateReader } from './device-state.js';

// Register offsets (DLAB = 0 unless noted).
/** Receiver buffer (read) / transmitter holding register (write); divisor latch LSB with DLAB. */
export const UART_RBR_THR_DLL = 0;
/** Interrupt enable; divisor latch MSB with DLAB. */
export const UART_IER_DLM = 1;
/** Interrupt identification (read) / FIFO control (write). */
export const UART_IIR_FCR = 2;
/** Line control. */
export const UART_LCR = 3;
/** Modem control. */
export const UART_MCR = 4;
/** Line status. */
export const UART_LSR = 5;
/** Modem status. */
export const UART_MSR = 6;
/** Scratch. */
export const UART_SCR = 7;

// IER bits.
/** Enable received data available (and character timeout) interrupt. */
export const IER_ERBFI = 0x01;
/** Enable transmitter holding register empty interrupt. */
export const IER_ETBEI = 0x02;
/** Enable receiver line status interrupt. */
export const IER_ELSI = 0x04;
/** Enable modem status interrupt. */
export const IER_EDSSI = 0x08;

// IIR values.
/** No interrupt pending. */
export const IIR_NO_INTERRUPT = 0x01;
/** Receiver line status (highest priority). */
export const IIR_RECEIVER_LINE_STATUS = 0x06;
/** Received data available. */
export const IIR_RECEIVED_DATA = 0x04;
/** Character timeout (FIFO mode). */
export const IIR_CHARACTER_TIMEOUT = 0x0c;
/** Transmitter holding register empty. */
export const IIR_THR_EMPTY = 0x02;
/** Modem status (lowest priority). */
export const IIR_MODEM_STATUS = 0x00;
/** Both bits set while the FIFOs are enabled: what identifies a 16550A. */
export const IIR_FIFOS_ENABLED = 0xc0;

// FCR bits.
/** Enable the FIFOs. */
export const FCR_ENABLE = 0x01;
/** Clear the receive FIFO. */
export const FCR_CLEAR_RX = 0x02;
/** Clear the transmit FIFO. */
export const FCR_CLEAR_TX = 0x04;
/** DMA mode select. */
export const FCR_DMA_MODE = 0x08;

// LCR bits.
/** Divisor latch access bit. */
export const LCR_DLAB = 0x80;
/** Set break. */
export const LCR_BREAK = 0x40;
/** Parity enable. */
export const LCR_PARITY = 0x08;
/** Two stop bits (1.5 with five data bits). */
export const LCR_STOP = 0x04;

// MCR bits.
/** Data terminal ready. */
export const MCR_DTR = 0x01;
/** Request to send. */
export const MCR_RTS = 0x02;
/** OUT1. */
export const MCR_OUT1 = 0x04;
/** OUT2: on a PC it gates the interrupt output onto the ISA IRQ line. */
export const MCR_OUT2 = 0x08;
/** Local loopback. */
export const MCR_LOOP = 0x10;

// LSR bits.
/** Data ready. */
export const LSR_DR = 0x01;
/** Overrun error. */
export const LSR_OE = 0x02;
/** Parity error. */
export const LSR_PE = 0x04;
/** Framing error. */
export const LSR_FE = 0x08;
/** Break interrupt. */
export const LSR_BI = 0x10;
/** Transmitter holding register empty. */
export const LSR_THRE = 0x20;
/** Transmitter empty. */
export const LSR_TEMT = 0x40;
/** Error in receiver FIFO. */
export const LSR_RX_FIFO_ERROR = 0x80;

// MSR bits.
/** Delta clear to send. */
export const MSR_DCTS = 0x01;
/** Delta data set ready. */
export const MSR_DDSR = 0x02;
/** Trailing edge ring indicator. */
export const MSR_TERI = 0x04;
/** Delta data carrier detect. */
export const MSR_DDCD = 0x08;
/** Clear to send. */
export const MSR_CTS = 0x10;
/** Data set ready. */
export const MSR_DSR = 0x20;
/** Ring indicator. */
export const MSR_RI = 0x40;
/** Data carrier detect. */
export const MSR_DCD = 0x80;

/** Depth of the 16550A's receive and transmit FIFOs. */
export const UART_FIFO_SIZE = 16;
/** The PC's UART input clock: 1.8432 MHz, 16 clocks per bit. */
export const UART_INPUT_CLOCK_HZ = 1_843_200;

const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const LINE_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;
/** Host input waiting "on the wire" beyond this is dropped, bounding memory. */
const MAX_LINE_QUEUE = 1 << 16;
const STATE_KIND = 'uart16550';
const STATE_VERSION = 1;

/** Options of {@link Uart16550}. */
export interface Uart16550Options {
  /** The interrupt line (IRQ4 for COM1, IRQ3 for COM2). */
  readonly irq: IrqLine;
  /** Virtual time: paces received characters at the programmed baud rate and times the FIFO timeout. */
  readonly clock: Clock;
  /** Transmitted bytes go here; bytes it delivers arrive at the receiver, one per character time. */
  readonly backend?: CharBackend;
  /**
   * PC wiring: the interrupt reaches the IRQ line only while MCR OUT2 is set (and not in loopback,
   * where OUT2 is internal). Default true; false drives the line straight from the interrupt logic.
   */
  readonly irqGatedByOut2?: boolean;
}

/**
 * A National Semiconductor 16550A UART: the eight registers with the divisor latch, 16-byte FIFOs
 * with receive trigger levels and the character timeout, the four prioritised interrupt sources,
 * line and modem status with loopback, and the scratch register. Linux's 8250 driver identifies it as
 * a 16550A. Transmission is immediate; reception is paced at the programmed baud rate, and a byte
 * that finds the receive FIFO full is lost with an overrun error, as on the chip.
 *
 * @example
 * ```ts
 * declare const clock: Clock, pic: DualPic, stdio: CharBackend;
 * declare const io: { map(base: number, size: number, region: IoRegion): void };   // the VMM's port bus
 * const com1 = new Uart16550({ irq: pic.irqLine(4), clock, backend: stdio });
 * io.map(0x3f8, 8, com1);
 * ```
 */
export class Uart16550 implements IoRegion, Snapshottable {
  private readonly irq: IrqLine;
  private readonly clock: Clock;
  private readonly backend: CharBackend | undefined;
  private readonly gated: boolean;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  /** Latched line errors (OE, PE, FE, BI) until LSR is read. */
  private lineErrors = 0;
  private msr = 0;
  private scr = 0;
  private divisor = 1;
  private fifoEnabled = false;
  private fcrBits = 0;
  private triggerLevel = 1;
  private thrEmptyInterrupt = false;
  private timeoutInterrupt = false;
  private lastRead = 0;

  private readonly rxData = new Uint8Array(UART_FIFO_SIZE);
  private readonly rxFlags = new Uint8Array(UART_FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;

  /** Host bytes still travelling on the serial line. */
  private line: number[] = [];
  private lineHead = 0;
  private arrivalTimer: TimerHandle | null = null;
  private arrivalDeadline = -1;
  private timeoutTimer: TimerHandle | null = null;
  private timeoutDeadline = -1;
  private irqLevel = false;

  constructor(options: Uart16550Options) {
    this.irq = options.irq;
    this.clock = options.clock;
    this.backend = options.backend;
    this.gated = options.irqGatedByOut2 ?? true;
    this.msr = this.modemInputs();
    this.backend?.setReceiver((bytes) => this.receiveFromHost(bytes));
  }

  read(offset: number, size: AccessSize): number {
    return readBytewise(this.readByte, offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    writeBytewise(this.writeByte, offset, size, value);
  }

  /** Queues a break condition (a zero character with BI and FE) as if the line had been held low. */
  injectBreak(): void {
    this.pushReceived(0, LSR_BI | LSR_FE);
    this.updateIrq();
  }

  private readonly readByte = (offset: number): number => {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR_THR_DLL:
        return dlab ? this.divisor & 0xff : this.readReceiver();
      case UART_IER_DLM:
        return dlab ? (this.divisor >>> 8) & 0xff : this.ier;
      case UART_IIR_FCR:
        return this.readInterruptIdentification();
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR:
        return this.readLineStatus();
      case UART_MSR: {
        const value = this.msr;
        this.msr &= 0xf0;
        this.updateIrq();
        return value;
      }
      case UART_SCR:
        return this.scr;
      default:
        return 0xff;
    }
  };

  private readonly writeByte = (offset: number, value: number): void => {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR_THR_DLL:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.transmit(value);
        break;
      case UART_IER_DLM:
        if (dlab) {
          this.divisor = (this.divisor & 0xff) | (value << 8);
        } else {
          const enabledThre = (value & IER_ETBEI) !== 0 && (this.ier & IER_ETBEI) === 0;
          this.ier = value & 0x0f;
          // Enabling the THRE interrupt while the holding register is empty raises it at once.
          if (enabledThre) this.thrEmptyInterrupt = true;
        }
        break;
      case UART_IIR_FCR:
        this.writeFifoControl(value);
        break;
      case UART_LCR:
        this.lcr = value;
        break;
      case UART_MCR:
        this.writeModemControl(value & 0x1f);
        break;
      case UART_SCR:
        this.scr = value;
        break;
      default:
        return; // LSR and MSR are read-only
    }
    this.updateIrq();
  };

  private readReceiver(): number {
    this.timeoutInterrupt = false;
    if (this.rxCount === 0) return this.lastRead;
    const value = this.rxData[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % UART_FIFO_SIZE;
    this.rxCount--;
    this.lastRead = value;
    if (this.rxCount > 0) this.lineErrors |= this.rxFlags[this.rxHead]!;
    this.restartTimeout();
    this.updateIrq();
    this.resumeHostInput();
    return value;
  }

  private readInterruptIdentification(): number {
    const id = this.pendingInterrupt();
    // Reading IIR while it reports THRE is one of the two ways to clear that source.
    if (id === IIR_THR_EMPTY) {
      this.thrEmptyInterrupt = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? IIR_FIFOS_ENABLED : 0);
  }

  private readLineStatus(): number {
    let value = this.lineErrors | LSR_THRE | LSR_TEMT;
    if (this.rxCount > 0) value |= LSR_DR;
    if (this.fifoEnabled && this.fifoHasError()) value |= LSR_RX_FIFO_ERROR;
    this.lineErrors = 0;
    this.updateIrq();
    return value;
  }

  private fifoHasError(): boolean {
    for (let i = 0; i < this.rxCount; i++) {
      if (this.rxFlags[(this.rxHead + i) % UART_FIFO_SIZE] !== 0) return true;
    }
    return false;
  }

  private pendingInterrupt(): number {
    if ((this.ier & IER_ELSI) !== 0 && this.lineErrors !== 0) return IIR_RECEIVER_LINE_STATUS;
    if ((this.ier & IER_ERBFI) !== 0) {
      if (this.rxCount >= (this.fifoEnabled ? this.triggerLevel : 1)) return IIR_RECEIVED_DATA;
      if (this.timeoutInterrupt) return IIR_CHARACTER_TIMEOUT;
    }
    if ((this.ier & IER_ETBEI) !== 0 && this.thrEmptyInterrupt) return IIR_THR_EMPTY;
    if ((this.ier & IER_EDSSI) !== 0 && (this.msr & 0x0f) !== 0) return IIR_MODEM_STATUS;
    return IIR_NO_INTERRUPT;
  }

  private transmit(value: number): void {
    if ((this.mcr & MCR_LOOP) !== 0) {
      this.pushReceived(value, 0);
    } else {
      this.backend?.write(Uint8Array.of(value));
    }
    // The byte leaves the holding register at once, so it is empty again: a new THRE event.
    this.thrEmptyInterrupt = true;
  }

  private writeFifoControl(value: number): void {
    const enable = (value & FCR_ENABLE) !== 0;
    if (enable !== this.fifoEnabled) {
      this.clearReceiveFifo();
      this.fifoEnabled = enable;
    }
    if (!enable) {
      this.fcrBits = 0;
      this.triggerLevel = 1;
      return; // with FCR0 = 0 the other bits are not programmed
    }
    if ((value & FCR_CLEAR_RX) !== 0) this.clearReceiveFifo();
    if ((value & FCR_CLEAR_TX) !== 0) this.thrEmptyInterrupt = true;
    this.fcrBits = value & (FCR_DMA_MODE | 0xc0);
    this.triggerLevel = TRIGGER_LEVELS[value >>> 6]!;
  }

  private clearReceiveFifo(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.timeoutInterrupt = false;
    this.cancelTimeout();
    this.resumeHostInput();
  }

  private writeModemControl(value: number): void {
    this.mcr = value;
    const inputs = this.modemInputs();
    const old = this.msr;
    let deltas = old & 0x0f;
    const changed = old ^ inputs;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if (old & MSR_RI && !(inputs & MSR_RI)) deltas |= MSR_TERI;
    this.msr = inputs | deltas;
    this.resumeHostInput(); // leaving loopback reconnects the line
  }

  /** The modem status inputs: in loopback the outputs fed back, otherwise a connected terminal. */
  private modemInputs(): number {
    if ((this.mcr & MCR_LOOP) === 0) return MSR_CTS | MSR_DSR | MSR_DCD;
    let inputs = 0;
    if (this.mcr & MCR_RTS) inputs |= MSR_CTS;
    if (this.mcr & MCR_DTR) inputs |= MSR_DSR;
    if (this.mcr & MCR_OUT1) inputs |= MSR_RI;
    if (this.mcr & MCR_OUT2) inputs |= MSR_DCD;
    return inputs;
  }

  private pushReceived(value: number, flags: number): void {
    const capacity = this.fifoEnabled ? UART_FIFO_SIZE : 1;
    if (this.rxCount >= capacity) {
      this.lineErrors |= LSR_OE;
      if (this.fifoEnabled) return; // the character in the shift register is lost
      // 16450 mode: the new character overwrites the holding register.
      this.rxData[this.rxHead] = value;
      this.rxFlags[this.rxHead] = flags;
    } else {
      const slot = (this.rxHead + this.rxCount) % UART_FIFO_SIZE;
      this.rxData[slot] = value;
      this.rxFlags[slot] = flags;
      this.rxCount++;
    }
    if (this.rxCount === 1) this.lineErrors |= this.rxFlags[this.rxHead]!;
    this.restartTimeout();
  }

  /** Nanoseconds one character takes on the line with the current LCR and divisor. */
  private characterTime(): number {
    const dataBits = 5 + (this.lcr & 3);
    let bits = 1 + dataBits + ((this.lcr & LCR_PARITY) !== 0 ? 1 : 0);
    bits += (this.lcr & LCR_STOP) === 0 ? 1 : dataBits === 5 ? 1.5 : 2;
    const divisor = this.divisor === 0 ? 0x10000 : this.divisor;
    return (bits * 16 * divisor * 1e9) / UART_INPUT_CLOCK_HZ;
  }

  /** The FIFO timeout: four character times after the last character in or out of the FIFO. */
  private restartTimeout(): void {
    this.cancelTimeout();
    this.timeoutInterrupt = false;
    if (!this.fifoEnabled || this.rxCount === 0) return;
    this.armTimeout(this.clock.now() + 4 * this.characterTime());
  }

  private armTimeout(deadline: number): void {
    this.timeoutDeadline = deadline;
    this.timeoutTimer = this.clock.setTimer(deadline, this.onTimeout);
  }

  private cancelTimeout(): void {
    this.timeoutTimer?.cancel();
    this.timeoutTimer = null;
    this.timeoutDeadline = -1;
  }

  private readonly onTimeout = (): void => {
    this.timeoutTimer = null;
    this.timeoutDeadline = -1;
    if (this.fifoEnabled && this.rxCount > 0) {
      this.timeoutInterrupt = true;
      this.updateIrq();
    }
  };

  private receiveFromHost(bytes: Uint8Array): void {
    const room = MAX_LINE_QUEUE - (this.line.length - this.lineHead);
    const count = Math.min(room, bytes.length);
    for (let i = 0; i < count; i++) this.line.push(bytes[i]!);
    if (this.arrivalTimer === null && this.line.length > this.lineHead) {
      this.armArrival(this.clock.now() + this.characterTime());
    }
  }

  private armArrival(deadline: number): void {
    this.arrivalDeadline = deadline;
    this.arrivalTimer = this.clock.setTimer(deadline, this.onArrival);
  }

  private receiverFull(): boolean {
    return this.rxCount >= (this.fifoEnabled ? UART_FIFO_SIZE : 1);
  }

  /**
   * Host input is flow-controlled, as if the host end used RTS/CTS: while the receiver is full the
   * next byte waits on the host side instead of overrunning, so a slow guest never loses pasted or
   * scripted input (QEMU's character backends hold input back the same way). Called whenever the
   * receiver gains room.
   */
  private resumeHostInput(): void {
    if (this.arrivalTimer === null && this.lineHead < this.line.length && !this.receiverFull()) {
      this.armArrival(this.clock.now() + this.characterTime());
    }
  }

  private readonly onArrival = (): void => {
    this.arrivalTimer = null;
    this.arrivalDeadline = -1;
    if (this.lineHead >= this.line.length) return;
    // Loopback ignores the line; otherwise a full receiver holds the byte back (resumeHostInput).
    if ((this.mcr & MCR_LOOP) === 0 && this.receiverFull()) return;
    const value = this.line[this.lineHead++]!;
    if (this.lineHead > 4096 && this.lineHead * 2 > this.line.length) {
      this.line = this.line.slice(this.lineHead);
      this.lineHead = 0;
    }
    // In loopback the receiver listens to the transmitter, not to the line.
    if ((this.mcr & MCR_LOOP) === 0) {
      this.pushReceived(value, 0);
      this.updateIrq();
    }
    if (this.lineHead < this.line.length) this.armArrival(this.clock.now() + this.characterTime());
  };

  private irqOutput(): boolean {
    if (this.gated && ((this.mcr & MCR_OUT2) === 0 || (this.mcr & MCR_LOOP) !== 0)) return false;
    return this.pendingInterrupt() !== IIR_NO_INTERRUPT;
  }

  private updateIrq(): void {
    const level = this.irqOutput();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setLevel(level);
    }
  }

  saveState(): DeviceState {
    const rx: number[] = [];
    const rxFlags: number[] = [];
    for (let i = 0; i < this.rxCount; i++) {
      rx.push(this.rxData[(this.rxHead + i) % UART_FIFO_SIZE]!);
      rxFlags.push(this.rxFlags[(this.rxHead + i) % UART_FIFO_SIZE]!);
    }
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        ier: this.ier, lcr: this.lcr, mcr: this.mcr, lineErrors: this.lineErrors, msr: this.msr, scr: this.scr,
        divisor: this.divisor, fifoEnabled: this.fifoEnabled, fcrBits: this.fcrBits, thrEmptyInterrupt: this.thrEmptyInterrupt,
        timeoutInterrupt: this.timeoutInterrupt, lastRead: this.lastRead, rx, rxFlags,
        line: this.line.slice(this.lineHead), arrivalDeadline: this.arrivalDeadline, timeoutDeadline: this.timeoutDeadline,
      },
    };
  }

  restoreState(state: DeviceState): void {
    const r = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const values = {
      ier: r.int('ier', 0, 0x0f), lcr: r.int('lcr', 0, 0xff), mcr: r.int('mcr', 0, 0x1f),
      lineErrors: r.int('lineErrors', 0, LINE_ERRORS), msr: r.int('msr', 0, 0xff), scr: r.int('scr', 0, 0xff),
      divisor: r.int('divisor', 0, 0xffff), fifoEnabled: r.bool('fifoEnabled'), fcrBits: r.int('fcrBits', 0, 0xff),
      thrEmptyInterrupt: r.bool('thrEmptyInterrupt'), timeoutInterrupt: r.bool('timeoutInterrupt'),
      lastRead: r.int('lastRead', 0, 0xff), rx: r.ints('rx', -1, 0, 0xff), rxFlags: r.ints('rxFlags', -1, 0, LINE_ERRORS),
      line: r.ints('line', -1, 0, 0xff), arrivalDeadline: r.num('arrivalDeadline'), timeoutDeadline: r.num('timeoutDeadline'),
    };
    if (values.rx.length > UART_FIFO_SIZE || values.rxFlags.length !== values.rx.length || values.line.length > MAX_LINE_QUEUE) {
      throw new DeviceStateError('uart16550 state has an oversized or inconsistent receive FIFO or line queue');
    }
    this.ier = values.ier;
    this.lcr = values.lcr;
    this.mcr = values.mcr;
    this.lineErrors = values.lineErrors;
    this.msr = values.msr;
    this.scr = values.scr;
    this.divisor = values.divisor;
    this.fifoEnabled = values.fifoEnabled;
    this.fcrBits = values.fcrBits;
    this.triggerLevel = TRIGGER_LEVELS[values.fcrBits >>> 6]!;
    this.thrEmptyInterrupt = values.thrEmptyInterrupt;
    this.timeoutInterrupt = values.timeoutInterrupt;
    this.lastRead = values.lastRead;
    this.rxHead = 0;
    this.rxCount = values.rx.length;
    this.rxData.set(values.rx);
    this.rxFlags.set(values.rxFlags);
    this.line = [...values.line];
    this.lineHead = 0;
    this.arrivalTimer?.cancel();
    this.arrivalTimer = null;
    this.arrivalDeadline = -1;
    this.cancelTimeout();
    if (values.arrivalDeadline >= 0 && this.line.length > 0) this.armArrival(values.arrivalDeadline);
    else this.resumeHostInput();
    if (values.timeoutDeadline >= 0) this.armTimeout(values.timeoutDeadline);
    this.irqLevel = this.irqOutput();
    this.irq.setLevel(this.irqLevel);
  }
}
