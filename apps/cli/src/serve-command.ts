/** `typevisor serve`: the multi-VM manager and its HTTP API. */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VmManager, createManagerApiServer } from '@typevisor/vm-manager';
import { apiTarget, describeTarget } from './api-target.js';
import { CliUsageError } from './errors.js';
import { SERVE_HELP } from './help.js';
import type { CommandOutput } from './run-command.js';

/** Runs the API server until SIGINT/SIGTERM; resolves with the exit status. */
export async function serveCommand(argv: readonly string[], output: CommandOutput): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { socket: { type: 'string' }, port: { type: 'string' }, 'host-memory': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new CliUsageError('serve', `${(error as Error).message} (typevisor serve --help)`);
  }
  if (values.help) {
    output.stdout.write(SERVE_HELP);
    return 0;
  }
  const target = apiTarget(values.socket, values.port);
  let hostMemoryMiB: number | undefined;
  if (values['host-memory'] !== undefined) {
    hostMemoryMiB = Number(values['host-memory']);
    if (!Number.isInteger(hostMemoryMiB) || hostMemoryMiB < 64) throw new CliUsageError('--host-memory', `"${values['host-memory']}" is not a number of MiB (at least 64)`);
  }
  const manager = new VmManager(hostMemoryMiB === undefined ? {} : { hostMemoryMiB });
  const server = createManagerApiServer(manager);
  if ('socketPath' in target && existsSync(target.socketPath)) rmSync(target.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new CliUsageError('socketPath' in target ? '--socket' : '--port', `cannot listen on ${describeTarget(target)}: ${error.message}`)));
    if ('socketPath' in target) server.listen(target.socketPath, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  output.stderr.write(`typevisor serve: listening on ${describeTarget(target)} (OpenAPI document at /openapi.json)\n`);
  manager.onEvent((vm, event) => {
    if (event.name === 'stateChanged') output.stderr.write(`typevisor serve: ${vm}: ${event.from} -> ${event.to}${event.reason ? ` (${event.reason})` : ''}\n`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  output.stderr.write('typevisor serve: stopping every VM\n');
  await manager.shutdown();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if ('socketPath' in target) rmSync(target.socketPath, { force: true });
  return 0;
}
