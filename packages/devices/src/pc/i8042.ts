import type { AccessSize, DeviceState, IoRegion, IrqLine, Snapshottable } from '../types.js';
import { readBytewise, writeBytewise } from './byte-access.js';
import { StateReader } from './device-state.js';

// Status register (read at port 0x64).
/** Output buffer full. */
export const I8042_STATUS_OBF = 0x01;
/** Input buffer full (never set: commands complete at once). */
export const I8042_STATUS_IBF = 0x02;
/** System flag (command byte bit 2). */
export const I8042_STATUS_SYS = 0x04;
/** Last write went to the command port. */
export const I8042_STATUS_CMD = 0x08;
/** Keyboard not inhibited (keylock). */
export const I8042_STATUS_UNLOCKED = 0x10;
/** The output buffer holds a byte from the auxiliary (mouse) port. */
export const I8042_STATUS_AUXB = 0x20;

// Command byte (controller RAM byte 0).
/** Keyboard interrupt (IRQ1) enable. */
export const I8042_CB_KBD_INT = 0x01;
/** Auxiliary interrupt (IRQ12) enable. */
export const I8042_CB_AUX_INT = 0x02;
/** System flag. */
export const I8042_CB_SYS = 0x04;
/** Keyboard clock disabled. */
export const I8042_CB_KBD_DISABLE = 0x10;
/** Auxiliary clock disabled. */
export const I8042_CB_AUX_DISABLE = 0x20;
/** Translate scan code set 2 to set 1. */
export const I8042_CB_TRANSLATE = 0x40;

// Output port.
/** Output port bit 0: system reset line (0 resets the CPU). */
export const I8042_OUT_RESET = 0x01;
/** Output port bit 1: gate A20. */
export const I8042_OUT_A20 = 0x02;

/** Controller commands written to port 0x64. */
export const I8042Command = {
  ReadCommandByte: 0x20,
  WriteCommandByte: 0x60,
  PasswordInstalled: 0xa4,
  DisableAux: 0xa7,
  EnableAux: 0xa8,
  TestAux: 0xa9,
  SelfTest: 0xaa,
  TestKeyboard: 0xab,
  DisableKeyboard: 0xad,
  EnableKeyboard: 0xae,
  ReadInputPort: 0xc0,
  ReadOutputPort: 0xd0,
  WriteOutputPort: 0xd1,
  WriteKeyboardBuffer: 0xd2,
  WriteAuxBuffer: 0xd3,
  WriteToAux: 0xd4,
  DisableA20: 0xdd,
  EnableA20: 0xdf,
  ReadTestInputs: 0xe0,
  PulseReset: 0xfe,
} as const;

/** PS/2 device replies. */
export const PS2_ACK = 0xfa;
/** Self-test passed (after reset). */
export const PS2_SELF_TEST_PASSED = 0xaa;
/** Resend (unknown command). */
export const PS2_RESEND = 0xfe;

const SELF_TEST_OK = 0x55;
/** A PS/2 device buffers 16 bytes; extra host input is dropped. */
const DEVICE_QUEUE_LIMIT = 16;
const CONTROLLER_QUEUE_LIMIT = 16;
const STATE_KIND = 'i8042';
const STATE_VERSION = 1;

/** Options of {@link I8042Controller}. */
export interface I8042Options {
  /** IRQ1: keyboard data in the output buffer. */
  readonly irq1: IrqLine;
  /** IRQ12: mouse data in the output buffer. */
  readonly irq12: IrqLine;
  /** Called when the guest changes the A20 gate through the output port. */
  readonly onA20?: (enabled: boolean) => void;
  /** Called when the guest pulses the CPU reset line (command 0xFE, or output port bit 0 cleared). */
  readonly onReset?: () => void;
}

/**
 * An Intel 8042-compatible keyboard controller with a PS/2 keyboard and a minimal PS/2 mouse (it
 * answers every probe and never moves). The data port is port 0x60 and the command/status port
 * 0x64; they are separate windows because port 0x61 lies between them.
 *
 * @example
 * ```ts
 * declare const pic: DualPic, cpu: { setA20(on: boolean): void }, machine: { reset(): void };
 * declare const io: { map(base: number, size: number, region: IoRegion): void };   // the VMM's port bus
 * const kbc = new I8042Controller({ irq1: pic.irqLine(1), irq12: pic.irqLine(12),
 *   onA20: (on) => cpu.setA20(on), onReset: () => machine.reset() });
 * io.map(0x60, 1, kbc.dataPort); io.map(0x64, 1, kbc.commandPort);
 * kbc.sendKeyboardBytes([0x1e, 0x9e]); // "a" pressed and released (set 1)
 * ```
 */
export class I8042Controller implements Snapshottable {
  /** Port 0x60. */
  readonly dataPort: IoRegion;
  /** Port 0x64 (status on read, command on write). */
  readonly commandPort: IoRegion;

  private readonly irq1: IrqLine;
  private readonly irq12: IrqLine;
  private readonly onA20: ((enabled: boolean) => void) | undefined;
  private readonly onReset: (() => void) | undefined;

  /** Controller RAM; byte 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  private outputPort = I8042_OUT_RESET | I8042_OUT_A20;
  private lastWriteWasCommand = false;
  /** Controller command waiting for its data byte, or 0. */
  private pendingCommand = 0;
  /** The byte in the output buffer, -1 when empty, and whether it came from the aux port. */
  private output = -1;
  private outputIsAux = false;
  private lastOutput = 0;
  private controllerQueue: number[] = []; // byte | 0x100 when it is aux data
  private keyboardQueue: number[] = [];
  private auxQueue: number[] = [];

  // Keyboard.
  private keyboardScanning = true;
  private keyboardPendingCommand = 0;
  private keyboardLeds = 0;
  private keyboardScanCodeSet = 2;
  private keyboardTypematic = 0x0b;
  // Mouse.
  private mouseReporting = false;
  private mousePendingCommand = 0;
  private mouseSampleRate = 100;
  private mouseResolution = 2;
  private mouseScaling = false;

  private irq1Level = false;
  private irq12Level = false;

  constructor(options: I8042Options) {
    this.irq1 = options.irq1;
    this.irq12 = options.irq12;
    this.onA20 = options.onA20;
    this.onReset = options.onReset;
    this.ram[0] = I8042_CB_KBD_INT | I8042_CB_SYS | I8042_CB_TRANSLATE;
    const readData = (offset: number): number => (offset === 0 ? this.readData() : 0xff);
    const writeData = (offset: number, value: number): void => {
      if (offset === 0) this.writeData(value);
    };
    const readStatus = (offset: number): number => (offset === 0 ? this.status() : 0xff);
    const writeCommand = (offset: number, value: number): void => {
      if (offset === 0) this.writeCommand(value);
    };
    this.dataPort = {
      read: (offset: number, size: AccessSize) => readBytewise(readData, offset, size),
      write: (offset: number, size: AccessSize, value: number) => writeBytewise(writeData, offset, size, value),
    };
    this.commandPort = {
      read: (offset: number, size: AccessSize) => readBytewise(readStatus, offset, size),
      write: (offset: number, size: AccessSize, value: number) => writeBytewise(writeCommand, offset, size, value),
    };
  }

  /** Bytes from the host keyboard, already in the scan code set the guest expects (set 1 when translating). */
  sendKeyboardBytes(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) {
      if (this.keyboardScanning) this.queueFromKeyboard(bytes[i]! & 0xff);
    }
    this.refill();
  }

  private get commandByte(): number {
    return this.ram[0]!;
  }

  private status(): number {
    let value = I8042_STATUS_UNLOCKED;
    if (this.output >= 0) value |= I8042_STATUS_OBF;
    if (this.output >= 0 && this.outputIsAux) value |= I8042_STATUS_AUXB;
    if ((this.commandByte & I8042_CB_SYS) !== 0) value |= I8042_STATUS_SYS;
    if (this.lastWriteWasCommand) value |= I8042_STATUS_CMD;
    return value;
  }

  private readData(): number {
    if (this.output >= 0) {
      this.lastOutput = this.output;
      this.output = -1;
      // Lower the IRQ before the next byte comes in, so the PIC sees a fresh edge for it.
      this.updateIrqs();
      this.refill();
    }
    // An empty buffer reads as the last byte, as on the real controller.
    return this.lastOutput;
  }

  private writeData(value: number): void {
    this.lastWriteWasCommand = false;
    const command = this.pendingCommand;
    this.pendingCommand = 0;
    if (command >= 0x60 && command <= 0x7f) {
      this.ram[command & 0x1f] = value;
    } else {
      switch (command) {
        case I8042Command.WriteOutputPort:
          this.writeOutputPort(value);
          break;
        case I8042Command.WriteKeyboardBuffer:
          this.queueController(value, false);
          break;
        case I8042Command.WriteAuxBuffer:
          this.queueController(value, true);
          break;
        case I8042Command.WriteToAux:
          this.ram[0] = this.commandByte & ~I8042_CB_AUX_DISABLE; // sending to the mouse enables its clock
          this.mouseCommand(value);
          break;
        default:
          this.ram[0] = this.commandByte & ~I8042_CB_KBD_DISABLE;
          this.keyboardCommand(value);
      }
    }
    this.refill();
  }

  private writeCommand(value: number): void {
    this.lastWriteWasCommand = true;
    this.pendingCommand = 0;
    if (value >= 0x20 && value <= 0x3f) {
      this.queueController(this.ram[value & 0x1f]!, false);
    } else if (value >= 0x60 && value <= 0x7f) {
      this.pendingCommand = value;
    } else if (value >= 0xf0) {
      // Pulse output port bits whose command bit is 0; bit 0 is the CPU reset line.
      if ((value & 0x01) === 0) this.onReset?.();
    } else {
      switch (value) {
        case I8042Command.PasswordInstalled:
          this.queueController(0xf1, false);
          break;
        case I8042Command.DisableAux:
          this.ram[0] = this.commandByte | I8042_CB_AUX_DISABLE;
          break;
        case I8042Command.EnableAux:
          this.ram[0] = this.commandByte & ~I8042_CB_AUX_DISABLE;
          break;
        case I8042Command.TestAux:
        case I8042Command.TestKeyboard:
          this.queueController(0x00, false);
          break;
        case I8042Command.SelfTest:
          this.queueController(SELF_TEST_OK, false);
          break;
        case I8042Command.DisableKeyboard:
          this.ram[0] = this.commandByte | I8042_CB_KBD_DISABLE;
          break;
        case I8042Command.EnableKeyboard:
          this.ram[0] = this.commandByte & ~I8042_CB_KBD_DISABLE;
          break;
        case I8042Command.ReadInputPort:
          this.queueController(0x80, false); // keyboard not inhibited
          break;
        case I8042Command.ReadOutputPort: {
          let port = this.outputPort & 0x0f;
          if (this.output >= 0 && !this.outputIsAux) port |= 0x10;
          if (this.output >= 0 && this.outputIsAux) port |= 0x20;
          this.queueController(port, false);
          break;
        }
        case I8042Command.WriteOutputPort:
        case I8042Command.WriteKeyboardBuffer:
        case I8042Command.WriteAuxBuffer:
        case I8042Command.WriteToAux:
          this.pendingCommand = value;
          break;
        case I8042Command.DisableA20:
          this.writeOutputPort(this.outputPort & ~I8042_OUT_A20);
          break;
        case I8042Command.EnableA20:
          this.writeOutputPort(this.outputPort | I8042_OUT_A20);
          break;
        case I8042Command.ReadTestInputs:
          this.queueController(0x00, false);
          break;
        default:
          break; // unknown commands are ignored
      }
    }
    this.refill();
  }

  private writeOutputPort(value: number): void {
    const previous = this.outputPort;
    this.outputPort = value & 0x0f;
    if (((previous ^ value) & I8042_OUT_A20) !== 0) this.onA20?.((value & I8042_OUT_A20) !== 0);
    if ((value & I8042_OUT_RESET) === 0) {
      this.outputPort |= I8042_OUT_RESET; // the reset is a pulse; the line comes back
      this.onReset?.();
    }
  }

  private keyboardCommand(value: number): void {
    const pending = this.keyboardPendingCommand;
    if (pending !== 0) {
      this.keyboardPendingCommand = 0;
      switch (pending) {
        case 0xed:
          this.keyboardLeds = value & 7;
          this.queueFromKeyboard(PS2_ACK);
          return;
        case 0xf3:
          this.keyboardTypematic = value & 0x7f;
          this.queueFromKeyboard(PS2_ACK);
          return;
        case 0xf0:
          this.queueFromKeyboard(PS2_ACK);
          if (value === 0) {
            // Set 2 reads back as 0x41 through translation.
            const set = this.keyboardScanCodeSet;
            this.queueFromKeyboard((this.commandByte & I8042_CB_TRANSLATE) !== 0 ? [0, 0x43, 0x41, 0x3f][set]! : set);
          } else if (value <= 3) {
            this.keyboardScanCodeSet = value;
          }
          return;
        default:
          break;
      }
    }
    switch (value) {
      case 0xed: // set LEDs
      case 0xf3: // set typematic rate
      case 0xf0: // get/set scan code set
        this.keyboardPendingCommand = value;
        this.queueFromKeyboard(PS2_ACK);
        return;
      case 0xee: // echo
        this.queueFromKeyboard(0xee);
        return;
      case 0xf2: // identify
        this.queueFromKeyboard(PS2_ACK);
        this.queueFromKeyboard(0xab);
        this.queueFromKeyboard((this.commandByte & I8042_CB_TRANSLATE) !== 0 ? 0x41 : 0x83);
        return;
      case 0xf4: // enable scanning
        this.keyboardQueue = [];
        this.keyboardScanning = true;
        this.queueFromKeyboard(PS2_ACK);
        return;
      case 0xf5: // disable scanning and restore defaults
        this.keyboardQueue = [];
        this.keyboardScanning = false;
        this.keyboardTypematic = 0x0b;
        this.queueFromKeyboard(PS2_ACK);
        return;
      case 0xf6: // set defaults
        this.keyboardTypematic = 0x0b;
        this.queueFromKeyboard(PS2_ACK);
        return;
      case 0xff: // reset
        this.keyboardQueue = [];
        this.keyboardScanning = true;
        this.keyboardLeds = 0;
        this.keyboardScanCodeSet = 2;
        this.queueFromKeyboard(PS2_ACK);
        this.queueFromKeyboard(PS2_SELF_TEST_PASSED);
        return;
      default:
        if (value >= 0xf7 && value <= 0xfd) {
          this.queueFromKeyboard(PS2_ACK); // set-3 key type commands: accepted and ignored
        } else {
          this.queueFromKeyboard(PS2_RESEND);
        }
    }
  }

  private mouseCommand(value: number): void {
    const pending = this.mousePendingCommand;
    if (pending !== 0) {
      this.mousePendingCommand = 0;
      if (pending === 0xf3) this.mouseSampleRate = value;
      else this.mouseResolution = value & 3;
      this.queueFromAux(PS2_ACK);
      return;
    }
    switch (value) {
      case 0xe6:
        this.mouseScaling = false;
        this.queueFromAux(PS2_ACK);
        return;
      case 0xe7:
        this.mouseScaling = true;
        this.queueFromAux(PS2_ACK);
        return;
      case 0xe8: // set resolution
      case 0xf3: // set sample rate
        this.mousePendingCommand = value;
        this.queueFromAux(PS2_ACK);
        return;
      case 0xe9: // status request
        this.queueFromAux(PS2_ACK);
        this.queueFromAux((this.mouseReporting ? 0x20 : 0) | (this.mouseScaling ? 0x10 : 0));
        this.queueFromAux(this.mouseResolution);
        this.queueFromAux(this.mouseSampleRate);
        return;
      case 0xeb: // read data: a packet with no movement
        this.queueFromAux(PS2_ACK);
        this.queueFromAux(0x08);
        this.queueFromAux(0);
        this.queueFromAux(0);
        return;
      case 0xf2: // identify: a standard PS/2 mouse
        this.queueFromAux(PS2_ACK);
        this.queueFromAux(0x00);
        return;
      case 0xf4:
        this.mouseReporting = true;
        this.queueFromAux(PS2_ACK);
        return;
      case 0xf5:
        this.mouseReporting = false;
        this.queueFromAux(PS2_ACK);
        return;
      case 0xf6:
        this.resetMouseDefaults();
        this.queueFromAux(PS2_ACK);
        return;
      case 0xff:
        this.resetMouseDefaults();
        this.auxQueue = [];
        this.queueFromAux(PS2_ACK);
        this.queueFromAux(PS2_SELF_TEST_PASSED);
        this.queueFromAux(0x00);
        return;
      case 0xea: // stream mode
      case 0xf0: // remote mode
        this.queueFromAux(PS2_ACK);
        return;
      default:
        this.queueFromAux(PS2_RESEND);
    }
  }

  private resetMouseDefaults(): void {
    this.mouseReporting = false;
    this.mouseSampleRate = 100;
    this.mouseResolution = 2;
    this.mouseScaling = false;
  }

  private queueController(value: number, aux: boolean): void {
    if (this.controllerQueue.length < CONTROLLER_QUEUE_LIMIT) this.controllerQueue.push(value | (aux ? 0x100 : 0));
  }

  private queueFromKeyboard(value: number): void {
    if (this.keyboardQueue.length < DEVICE_QUEUE_LIMIT) this.keyboardQueue.push(value);
  }

  private queueFromAux(value: number): void {
    if (this.auxQueue.length < DEVICE_QUEUE_LIMIT) this.auxQueue.push(value);
  }

  /** Moves the next byte into an empty output buffer and updates IRQ1/IRQ12. */
  private refill(): void {
    if (this.output < 0) {
      if (this.controllerQueue.length > 0) {
        const entry = this.controllerQueue.shift()!;
        this.output = entry & 0xff;
        this.outputIsAux = entry > 0xff;
      } else if (this.keyboardQueue.length > 0 && (this.commandByte & I8042_CB_KBD_DISABLE) === 0) {
        this.output = this.keyboardQueue.shift()!;
        this.outputIsAux = false;
      } else if (this.auxQueue.length > 0 && (this.commandByte & I8042_CB_AUX_DISABLE) === 0) {
        this.output = this.auxQueue.shift()!;
        this.outputIsAux = true;
      }
    }
    this.updateIrqs();
  }

  private updateIrqs(): void {
    const full = this.output >= 0;
    const level1 = full && !this.outputIsAux && (this.commandByte & I8042_CB_KBD_INT) !== 0;
    const level12 = full && this.outputIsAux && (this.commandByte & I8042_CB_AUX_INT) !== 0;
    if (level1 !== this.irq1Level) {
      this.irq1Level = level1;
      this.irq1.setLevel(level1);
    }
    if (level12 !== this.irq12Level) {
      this.irq12Level = level12;
      this.irq12.setLevel(level12);
    }
  }

  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        ram: Array.from(this.ram), outputPort: this.outputPort, lastWriteWasCommand: this.lastWriteWasCommand,
        pendingCommand: this.pendingCommand, output: this.output, outputIsAux: this.outputIsAux, lastOutput: this.lastOutput,
        controllerQueue: [...this.controllerQueue], keyboardQueue: [...this.keyboardQueue], auxQueue: [...this.auxQueue],
        keyboardScanning: this.keyboardScanning, keyboardPendingCommand: this.keyboardPendingCommand,
        keyboardLeds: this.keyboardLeds, keyboardScanCodeSet: this.keyboardScanCodeSet,
        keyboardTypematic: this.keyboardTypematic, mouseReporting: this.mouseReporting,
        mousePendingCommand: this.mousePendingCommand, mouseSampleRate: this.mouseSampleRate,
        mouseResolution: this.mouseResolution, mouseScaling: this.mouseScaling,
      },
    };
  }

  restoreState(state: DeviceState): void {
    const r = StateReader.open(state, STATE_KIND, STATE_VERSION);
    const ram = r.ints('ram', 32, 0, 0xff);
    const v = {
      outputPort: r.int('outputPort', 0, 0x0f), lastWriteWasCommand: r.bool('lastWriteWasCommand'),
      pendingCommand: r.int('pendingCommand', 0, 0xff), output: r.int('output', -1, 0xff), outputIsAux: r.bool('outputIsAux'),
      lastOutput: r.int('lastOutput', 0, 0xff), controllerQueue: r.ints('controllerQueue', -1, 0, 0x1ff),
      keyboardQueue: r.ints('keyboardQueue', -1, 0, 0xff), auxQueue: r.ints('auxQueue', -1, 0, 0xff),
      keyboardScanning: r.bool('keyboardScanning'), keyboardPendingCommand: r.int('keyboardPendingCommand', 0, 0xff),
      keyboardLeds: r.int('keyboardLeds', 0, 7), keyboardScanCodeSet: r.int('keyboardScanCodeSet', 1, 3),
      keyboardTypematic: r.int('keyboardTypematic', 0, 0x7f), mouseReporting: r.bool('mouseReporting'),
      mousePendingCommand: r.int('mousePendingCommand', 0, 0xff), mouseSampleRate: r.int('mouseSampleRate', 0, 0xff),
      mouseResolution: r.int('mouseResolution', 0, 3), mouseScaling: r.bool('mouseScaling'),
    };
    this.ram.set(ram);
    this.outputPort = v.outputPort;
    this.lastWriteWasCommand = v.lastWriteWasCommand;
    this.pendingCommand = v.pendingCommand;
    this.output = v.output;
    this.outputIsAux = v.outputIsAux;
    this.lastOutput = v.lastOutput;
    this.controllerQueue = v.controllerQueue.slice(0, CONTROLLER_QUEUE_LIMIT);
    this.keyboardQueue = v.keyboardQueue.slice(0, DEVICE_QUEUE_LIMIT);
    this.auxQueue = v.auxQueue.slice(0, DEVICE_QUEUE_LIMIT);
    this.keyboardScanning = v.keyboardScanning;
    this.keyboardPendingCommand = v.keyboardPendingCommand;
    this.keyboardLeds = v.keyboardLeds;
    this.keyboardScanCodeSet = v.keyboardScanCodeSet;
    this.keyboardTypematic = v.keyboardTypematic;
    this.mouseReporting = v.mouseReporting;
    this.mousePendingCommand = v.mousePendingCommand;
    this.mouseSampleRate = v.mouseSampleRate;
    this.mouseResolution = v.mouseResolution;
    this.mouseScaling = v.mouseScaling;
    this.refill();
    // Drive both lines to the restored level even if this instance already believed it.
    this.irq1.setLevel(this.irq1Level);
    this.irq12.setLevel(this.irq12Level);
  }
}
