/**
 * Node.js host backends for a typevisor machine: disk image files, the terminal, output files.
 *
 * @packageDocumentation
 */
export type { FileBlockBackendOptions, FileSystemCalls } from './file-block-backend.js';
export { FileBlockBackend } from './file-block-backend.js';
export { FileCharBackend } from './file-char-backend.js';
export type { StdioCharBackendOptions, StdioStreams } from './stdio-char-backend.js';
export { ESCAPE_BYTE, StdioCharBackend } from './stdio-char-backend.js';
export type { DefaultGuest } from './default-guest.js';
export { DEFAULT_GUEST_CMDLINE, DefaultGuestNotFoundError, findDefaultGuest } from './default-guest.js';
export { GUEST_ENGINE_FLAGS, tuneEngineForGuests } from './engine-tuning.js';
