/** `typevisor firecracker`: Firecracker's REST API for one microVM on a Unix socket. */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VmManager, createFirecrackerApiServer } from '@typevisor/vm-manager';
import { CliUsageError } from './errors.js';
import { FIRECRACKER_HELP } from './help.js';
import type { CommandOutput } from './run-command.js';

/** Serves until SIGINT/SIGTERM or until the guest stops; the guest's serial console is stdout. */
export async function firecrackerCommand(argv: readonly string[], output: CommandOutput): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { 'api-sock': { type: 'string' }, id: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new CliUsageError('firecracker', `${(error as Error).message} (typevisor firecracker --help)`);
  }
  if (values.help) {
    output.stdout.write(FIRECRACKER_HELP);
    return 0;
  }
  const socket = values['api-sock'];
  if (socket === undefined) throw new CliUsageError('--api-sock', 'required: the Unix socket to serve the API on, e.g. --api-sock /tmp/firecracker.socket');
  const manager = new VmManager();
  const server = createFirecrackerApiServer({ manager, instanceId: values.id ?? 'anonymous-instance', onConsoleOutput: (bytes) => output.stdout.write(bytes) });
  if (existsSync(socket)) rmSync(socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new CliUsageError('--api-sock', `cannot listen on ${socket}: ${error.message}`)));
    server.listen(socket, resolve);
  });
  output.stderr.write(`typevisor firecracker: API on ${socket}\n`);
  let status = 0;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    manager.onEvent((_vm, event) => {
      if (event.name === 'stateChanged' && (event.to === 'stopped' || event.to === 'failed')) {
        if (event.to === 'failed') status = 1;
        resolve();
      }
    });
  });
  await manager.shutdown();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(socket, { force: true });
  return status;
}
