/**
 * The `typevisor` command as a library: argument parsing and the commands, for tests and embedding.
 *
 * @packageDocumentation
 */
export { CliUsageError } from './errors.js';
export type { CharTarget, NetTarget, RunOptions } from './run-args.js';
export { DEFAULT_MEMORY_BYTES, parseRunArgs, parseSize } from './run-args.js';
export type { CommandOutput } from './run-command.js';
export { exitStatusOf, runCommand } from './run-command.js';
export type { DefaultGuest } from './default-guest.js';
export { DEFAULT_GUEST_CMDLINE, findDefaultGuest } from './default-guest.js';
export { MAIN_HELP, RUN_HELP } from './help.js';
export { VERSION, main } from './main.js';
