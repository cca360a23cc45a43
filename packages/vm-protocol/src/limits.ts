/** Version and size limits of the protocol. */

/** The protocol version this package speaks. A message with another `v` is rejected. */
export const PROTOCOL_VERSION = 1;

/** Largest encoded message accepted from a peer, in bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Largest console chunk in one message, in bytes before base64. */
export const MAX_CONSOLE_CHUNK_BYTES = 64 * 1024;

/** Guest memory bounds, in MiB (an i686 guest without PAE high memory). */
export const MIN_MEMORY_MIB = 16;
/** @see MIN_MEMORY_MIB */
export const MAX_MEMORY_MIB = 3072;
