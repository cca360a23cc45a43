/**
 * Why a virtqueue could not be used. The queue reports these as small integers on the hot path (no
 * exception, no allocation); {@link describeQueueError} turns one into a sentence for logs and stats.
 */
export const QueueError = {
  /** No error. */
  NONE: 0,
  /** A descriptor index (a head from the avail ring or a `next` field) is >= the queue size. */
  DESCRIPTOR_INDEX_OUT_OF_RANGE: 1,
  /** More descriptors walked than the queue (or indirect table) holds: a loop or an over-long chain. */
  CHAIN_TOO_LONG: 2,
  /** An indirect descriptor inside an indirect table (spec 2.7.5.3.1 forbids nesting). */
  NESTED_INDIRECT: 3,
  /** An indirect table whose length is zero, not a multiple of 16, or larger than allowed. */
  BAD_INDIRECT_LENGTH: 4,
  /** INDIRECT used without VIRTIO_F_RING_INDIRECT_DESC negotiated, or together with NEXT. */
  INDIRECT_NOT_ALLOWED: 5,
  /** A buffer whose address + length does not fit in the 32-bit guest-physical space. */
  ADDRESS_OVERFLOW: 6,
  /** The readable or writable byte total overflows 2^32 or exceeds the device's limit. */
  CHAIN_TOO_LARGE: 7,
  /** A device-readable descriptor after a device-writable one (spec 2.7.4.2). */
  READABLE_AFTER_WRITABLE: 8,
  /** avail->idx moved more than the queue size ahead of what the device consumed. */
  AVAIL_INDEX_JUMP: 9,
  /** A ring or descriptor table lies (partly) outside guest RAM, e.g. in an MMIO hole. */
  RING_FAULT: 10,
  /** A data buffer lies (partly) outside guest RAM, e.g. in an MMIO hole. */
  BUFFER_FAULT: 11,
  /** The request inside a well-formed chain is malformed for this device (e.g. too short). */
  BAD_REQUEST: 12,
} as const;

/** One of the {@link QueueError} codes. */
export type QueueErrorCode = (typeof QueueError)[keyof typeof QueueError];

const descriptions: readonly string[] = [
  'no error',
  'descriptor index out of range',
  'descriptor chain longer than the queue (loop or over-long chain)',
  'nested indirect descriptor table',
  'indirect table length is zero, not a multiple of 16, or too large',
  'indirect descriptor not negotiated or combined with NEXT',
  'buffer address + length beyond 4 GiB',
  'descriptor chain byte total too large',
  'device-readable descriptor after a device-writable one',
  'avail index jumped more than the queue size',
  'ring or descriptor table outside guest RAM',
  'buffer outside guest RAM',
  'malformed device request',
];

/** A human-readable explanation of a queue error code. */
export function describeQueueError(code: QueueErrorCode): string {
  return descriptions[code] ?? `unknown queue error ${code}`;
}
