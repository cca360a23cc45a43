/**
 * One error type for the whole control plane, with a closed set of codes, from the API edge to the
 * worker and back. Every failure a client can see is one of these codes plus a human message that
 * says what happened and what to do.
 */

/** Every error code the protocol can carry. */
export const ERROR_CODES = [
  'invalid_request',
  'unsupported_version',
  'payload_too_large',
  'not_found',
  'already_exists',
  'invalid_state',
  'resource_exhausted',
  'snapshot_invalid',
  'timeout',
  'guest_failed',
  'transport_closed',
  'internal',
] as const;

/** A protocol error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error as it travels in a message. */
export interface ErrorPayload {
  readonly code: ErrorCode;
  readonly message: string;
}

/** HTTP status for each code, used by the API servers (4xx: the caller's fault; 5xx: ours). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unsupported_version: 400,
  payload_too_large: 413,
  not_found: 404,
  already_exists: 409,
  invalid_state: 409,
  resource_exhausted: 429,
  snapshot_invalid: 422,
  timeout: 504,
  guest_failed: 409,
  transport_closed: 503,
  internal: 500,
};

/** The control plane's error. `code` is machine-readable; `message` is for people. */
export class VmError extends Error {
  override readonly name = 'VmError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** The form that travels in a message. */
  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds the error on the receiving side. */
  static fromPayload(payload: ErrorPayload): VmError {
    return new VmError(payload.code, payload.message);
  }

  /** Wraps anything thrown into a VmError, keeping a VmError as it is. */
  static from(error: unknown, fallback: ErrorCode = 'internal'): VmError {
    if (error instanceof VmError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new VmError(fallback, message, { cause: error });
  }
}

/** Whether `value` is one of the protocol's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
