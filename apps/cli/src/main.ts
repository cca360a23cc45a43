import { CliUsageError } from './errors.js';
import { MAIN_HELP, RUN_HELP } from './help.js';
import { parseRunArgs } from './run-args.js';
import { runCommand } from './run-command.js';
import type { CommandOutput } from './run-command.js';

/** Version printed by `--version`. */
export const VERSION = '0.1.0';

/** Subcommands that exist in the command set but are not implemented yet, with what they wait for. */
const NOT_YET: Readonly<Record<string, string>> = {
  serve: 'serve (the VM manager API server) waits on the @typevisor/vm-manager server work',
  ctl: 'ctl (the client of typevisor serve) waits on the @typevisor/vm-manager server work',
  bench: 'bench (the benchmark suite) waits on the @typevisor/perf-model benchmark runner',
};

/** Runs the CLI with `argv` (without node and script) and resolves with the exit status. */
export async function main(argv: readonly string[], output: CommandOutput = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      output.stdout.write(MAIN_HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      output.stdout.write(`typevisor ${VERSION}\n`);
      return 0;
    }
    if (command === 'run') {
      const options = parseRunArgs(rest);
      if (options.help) {
        output.stdout.write(RUN_HELP);
        return 0;
      }
      return await runCommand(options, output);
    }
    const pending = NOT_YET[command];
    if (pending !== undefined) {
      output.stderr.write(`typevisor: not available yet: ${pending}\n`);
      return 2;
    }
    throw new CliUsageError(command, 'unknown command; use run, serve, ctl or bench (typevisor --help)');
  } catch (error) {
    if (error instanceof CliUsageError) {
      output.stderr.write(`typevisor: ${error.message}\n`);
      return 2;
    }
    output.stderr.write(`typevisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
