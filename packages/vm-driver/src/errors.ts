/**
 * The typed errors of the machine. Each says what is wrong and what to do about it, so that the CLI
 * (or any other front end) can show the message as is.
 */

/** Raised by {@link validateMachineConfig} when a field of a {@link MachineConfig} is unusable. */
export class MachineConfigError extends Error {
  override readonly name = 'MachineConfigError';
  /** Dotted path of the offending field, e.g. `"memorySize"` or `"disks[1].backend"`. */
  readonly field: string;
  /** What to change to make the configuration valid. */
  readonly fix: string;

  constructor(field: string, problem: string, fix: string) {
    super(`invalid machine config: ${field}: ${problem}; ${fix}`);
    this.field = field;
    this.fix = fix;
  }
}

/** Why a boot image was rejected. */
export type BootImageErrorCode =
  /** The bytes are not a kernel this loader understands. */
  | 'not-a-kernel'
  /** A Linux kernel whose boot protocol is older than 2.06. */
  | 'protocol-too-old'
  /** The image asks for something this machine does not offer (e.g. no LOADED_HIGH). */
  | 'unsupported'
  /** The file ends before a structure its header promises. */
  | 'truncated'
  /** Kernel, initrd and tables do not fit in guest RAM. */
  | 'too-big'
  /** The image header contains contradictory values. */
  | 'malformed';

/** Raised by the boot loaders before anything runs when a kernel, initrd or ROM image is unusable. */
export class BootImageError extends Error {
  override readonly name = 'BootImageError';
  readonly code: BootImageErrorCode;

  constructor(code: BootImageErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Raised when a machine operation is not legal in the machine's current run state. */
export class MachineStateError extends Error {
  override readonly name = 'MachineStateError';
}
