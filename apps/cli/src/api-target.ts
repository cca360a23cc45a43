/** Where the manager API listens (`typevisor serve`) or is reached (`typevisor ctl`). */
import { CliUsageError } from './errors.js';

/** A Unix socket path or a TCP port on the loopback interface. */
export type ApiTarget = { readonly socketPath: string } | { readonly port: number; readonly host: string };

/** Default socket of `typevisor serve` and `typevisor ctl`. */
export const DEFAULT_SOCKET = '/tmp/typevisor.sock';

/** Reads `--socket PATH` / `--port N` (mutually exclusive; the default is {@link DEFAULT_SOCKET}). */
export function apiTarget(socket: string | undefined, port: string | undefined): ApiTarget {
  if (socket !== undefined && port !== undefined) throw new CliUsageError('--port', 'give either --socket or --port, not both');
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliUsageError('--port', `"${port}" is not a TCP port (1-65535)`);
    return { port: n, host: '127.0.0.1' };
  }
  return { socketPath: socket ?? DEFAULT_SOCKET };
}

/** How to show a target to a person. */
export function describeTarget(target: ApiTarget): string {
  return 'socketPath' in target ? target.socketPath : `http://${target.host}:${target.port}`;
}
