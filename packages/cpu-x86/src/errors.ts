/**
 * A bug in the interpreter (never guest behaviour): a host exception escaped an instruction handler.
 * Carries where the guest was so the failing instruction can be reproduced.
 */
export class CpuInternalError extends Error {
  override readonly name = 'CpuInternalError';
  /** EIP of the instruction that was executing. */
  readonly eip: number;
  /** Up to 15 bytes at CS:EIP (empty if they could not be read). */
  readonly instructionBytes: Uint8Array;
  constructor(eip: number, instructionBytes: Uint8Array, cause: unknown) {
    const hex = Array.from(instructionBytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    super(`internal interpreter error at EIP=0x${(eip >>> 0).toString(16)} [${hex}]: ${String(cause)}. ` +
      'This is a typevisor bug; please report it with these bytes.', { cause });
    this.eip = eip;
    this.instructionBytes = instructionBytes;
  }
}

/** The CPU was constructed with options it cannot work with. */
export class CpuConfigurationError extends Error {
  override readonly name = 'CpuConfigurationError';
}
