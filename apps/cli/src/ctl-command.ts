/** `typevisor ctl`: the command-line client of `typevisor serve`. */
import http from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { apiTarget, describeTarget, type ApiTarget } from './api-target.js';
import { CliUsageError } from './errors.js';
import { CTL_HELP } from './help.js';
import { parseSize } from './run-args.js';
import type { CommandOutput } from './run-command.js';

/** The byte that starts an escape sequence on an attached console (Ctrl-A), as in `typevisor run`. */
const ESCAPE = 0x01;

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

function request(target: ApiTarget, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        ...('socketPath' in target ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', (error) => reject(new CliUsageError('--socket', `cannot reach typevisor serve at ${describeTarget(target)}: ${error.message} (is it running?)`)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The server's typed error, as one line. */
function failure(reply: Reply): string {
  const error = (reply.body as { error?: { code?: string; message?: string } } | null)?.error;
  return error ? `${error.code}: ${error.message}` : `HTTP ${reply.status}`;
}

interface VmRow {
  id: string;
  state: string;
  config: { memoryMiB: number };
  uptimeMs: number;
  failure?: string;
}

function formatList(vms: readonly VmRow[]): string {
  if (vms.length === 0) return 'no VMs\n';
  const rows = [['ID', 'STATE', 'MEMORY', 'UPTIME'], ...vms.map((vm) => [vm.id, vm.state + (vm.failure ? ` (${vm.failure})` : ''), `${vm.config.memoryMiB} MiB`, `${(vm.uptimeMs / 1000).toFixed(1)} s`])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n') + '\n';
}

function createConfig(argv: readonly string[]): { id: string; config: Record<string, unknown> } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      mem: { type: 'string', short: 'm' }, kernel: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' },
      bios: { type: 'string' }, disk: { type: 'string', multiple: true }, net: { type: 'string', multiple: true }, clock: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new CliUsageError('create', 'give exactly one VM id: typevisor ctl create ID [options]');
  const config: Record<string, unknown> = { memoryMiB: Math.round(parseSize('--mem', values.mem ?? '128M') / (1024 * 1024)) };
  if (values.kernel !== undefined) config.kernel = resolvePath(values.kernel);
  if (values.initrd !== undefined) config.initrd = resolvePath(values.initrd);
  if (values.append !== undefined) config.cmdline = values.append;
  if (values.bios !== undefined) config.bios = resolvePath(values.bios);
  if (values.clock !== undefined) config.clock = values.clock;
  if (values.disk) {
    config.disks = values.disk.map((spec) => {
      const readOnly = spec.endsWith(',ro');
      return { path: resolvePath(readOnly ? spec.slice(0, -3) : spec), readOnly };
    });
  }
  if (values.net) {
    config.nets = values.net.map((spec) => {
      if (!spec.startsWith('switch:')) throw new CliUsageError('--net', `"${spec}" is not a network; use switch:NAME`);
      return { switch: spec.slice(7) };
    });
  }
  return { id: positionals[0], config };
}

/** Attaches the terminal to a VM console until Ctrl-A X or the connection ends. */
function attachConsole(target: ApiTarget, id: string, write: boolean, output: CommandOutput): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      ...('socketPath' in target ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
      path: `/v1/vms/${encodeURIComponent(id)}/console${write ? '?write=1' : ''}`,
      headers: { connection: 'Upgrade', upgrade: 'typevisor-console' },
    });
    req.on('error', (error) => reject(new CliUsageError('--socket', `cannot reach typevisor serve at ${describeTarget(target)}: ${error.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        output.stderr.write(`typevisor ctl: ${failure({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') })}\n`);
        resolve(1);
      });
    });
    req.on('upgrade', (_res, socket, head: Buffer) => {
      const stdin = process.stdin;
      const raw = stdin.isTTY === true;
      if (raw) stdin.setRawMode(true);
      output.stderr.write(`[attached to ${id}${write ? '' : ' (read-only)'}; Ctrl-A X detaches]\r\n`);
      if (head.length) output.stdout.write(head);
      socket.on('data', (chunk: Buffer) => output.stdout.write(chunk));
      let escaped = false;
      const onInput = (chunk: Buffer) => {
        for (const byte of chunk) {
          if (escaped) {
            escaped = false;
            if (byte === 0x78 || byte === 0x58) return detach(0);
            if (write) socket.write(Uint8Array.of(byte));
          } else if (byte === ESCAPE) escaped = true;
          else if (write) socket.write(Uint8Array.of(byte));
        }
      };
      const detach = (status: number) => {
        stdin.off('data', onInput);
        if (raw) stdin.setRawMode(false);
        stdin.pause();
        socket.destroy();
        resolve(status);
      };
      stdin.on('data', onInput);
      stdin.resume();
      socket.on('close', () => detach(0));
    });
    req.end();
  });
}

/** Runs one `typevisor ctl` subcommand; resolves with the exit status. */
export async function ctlCommand(argv: readonly string[], output: CommandOutput): Promise<number> {
  const globals: string[] = [];
  let rest = [...argv];
  while (rest.length > 0 && rest[0].startsWith('-')) {
    const flag = rest[0];
    if (flag === '--help' || flag === '-h') {
      output.stdout.write(CTL_HELP);
      return 0;
    }
    if (flag !== '--socket' && flag !== '--port') throw new CliUsageError(flag, 'unknown option before the subcommand; use --socket PATH or --port N (typevisor ctl --help)');
    if (rest.length < 2) throw new CliUsageError(flag, 'needs a value');
    globals.push(flag, rest[1]);
    rest = rest.slice(2);
  }
  const socket = globals[globals.indexOf('--socket') + 1];
  const port = globals[globals.indexOf('--port') + 1];
  const target = apiTarget(globals.includes('--socket') ? socket : undefined, globals.includes('--port') ? port : undefined);
  const [sub, ...args] = rest;
  if (sub === undefined) {
    output.stdout.write(CTL_HELP);
    return 2;
  }
  const needId = (count = 1): string[] => {
    if (args.length !== count) throw new CliUsageError(sub, `expects ${count === 1 ? 'a VM id' : `${count} arguments`}: see typevisor ctl --help`);
    return args;
  };
  const show = (reply: Reply, ok: number, render: (body: unknown) => string): number => {
    if (reply.status !== ok) {
      output.stderr.write(`typevisor ctl: ${failure(reply)}\n`);
      return 1;
    }
    output.stdout.write(render(reply.body));
    return 0;
  };
  const stateLine = (body: unknown) => `${(body as VmRow).id}: ${(body as VmRow).state}\n`;
  switch (sub) {
    case 'ls':
    case 'list':
      return show(await request(target, 'GET', '/v1/vms'), 200, (body) => formatList(body as VmRow[]));
    case 'inspect': {
      const [id] = needId();
      return show(await request(target, 'GET', `/v1/vms/${encodeURIComponent(id)}`), 200, (body) => `${JSON.stringify(body, null, 2)}\n`);
    }
    case 'create': {
      const { id, config } = createConfig(args);
      return show(await request(target, 'POST', '/v1/vms', { id, config }), 201, stateLine);
    }
    case 'start':
    case 'pause':
    case 'resume':
    case 'stop':
    case 'reboot':
    case 'ctrl-alt-del': {
      const [id] = needId();
      const action = sub === 'ctrl-alt-del' ? 'sendCtrlAltDel' : sub;
      return show(await request(target, 'POST', `/v1/vms/${encodeURIComponent(id)}/actions`, { action }), 200, stateLine);
    }
    case 'delete': {
      const [id] = needId();
      return show(await request(target, 'DELETE', `/v1/vms/${encodeURIComponent(id)}`), 204, () => `${id}: deleted\n`);
    }
    case 'snapshot': {
      const [id, path] = needId(2);
      return show(await request(target, 'POST', `/v1/vms/${encodeURIComponent(id)}/snapshot`, { path: resolvePath(path) }), 200, (body) => `${id}: snapshot written to ${(body as { path: string }).path} (${(body as { bytes: number }).bytes} bytes)\n`);
    }
    case 'restore': {
      const [id, path] = needId(2);
      return show(await request(target, 'POST', '/v1/vms/restore', { id, path: resolvePath(path) }), 201, stateLine);
    }
    case 'console': {
      const readOnly = args.includes('--read-only');
      const ids = args.filter((a) => a !== '--read-only');
      if (ids.length !== 1) throw new CliUsageError('console', 'expects a VM id: typevisor ctl console ID [--read-only]');
      return attachConsole(target, ids[0], !readOnly, output);
    }
    default:
      throw new CliUsageError(sub, 'unknown ctl command; use ls, create, start, pause, resume, stop, reboot, ctrl-alt-del, delete, inspect, snapshot, restore or console');
  }
}
