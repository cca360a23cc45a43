import { runBenchCommand } from './bench/index.js';
import { ctlCommand } from './ctl-command.js';
import { CliUsageError } from './errors.js';
import { firecrackerCommand } from './firecracker-command.js';
import { serveCommand } from './serve-command.js';
import { MAIN_HELP, RUN_HELP } from './help.js';
import { parseRunArgs } from './run-args.js';
import { runCommand } from './run-command.js';
import type { CommandOutput } from './run-command.js';

/** Version printed by `--version`. */
export const VERSION = '0.1.0';

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
    if (command === 'serve') return await serveCommand(rest, output);
    if (command === 'ctl') return await ctlCommand(rest, output);
    if (command === 'firecracker') return await firecrackerCommand(rest, output);
    if (command === 'bench') return await runBenchCommand(rest);
    throw new CliUsageError(command, 'unknown command; use run, serve, ctl, firecracker or bench (typevisor --help)');
  } catch (error) {
    if (error instanceof CliUsageError) {
      output.stderr.write(`typevisor: ${error.message}\n`);
      return 2;
    }
    output.stderr.write(`typevisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
