import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmManager, createManagerApiServer } from '@typevisor/vm-manager';
import { main } from '../src/index.js';

// The manager runs a scripted fake machine (the vm-manager test fixture) so that these tests check
// the command line and the HTTP round trips, not a Linux boot.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'typevisor-ctl-'));
const socket = join(dir, 'api.sock');
let manager: VmManager;
let server: Server;

beforeAll(async () => {
  const workerFile = join(dir, 'fake-worker.mjs');
  const alias: Record<string, string> = {};
  for (const name of ['devices', 'mmu', 'vm-protocol', 'vm-driver', 'vm-manager', 'cpu-x86', 'perf-model']) alias[`@typevisor/${name}`] = join(root, 'packages', name, 'src/index.ts');
  alias['@typevisor/vm-driver/node'] = join(root, 'packages/vm-driver/src/node/index.ts');
  await build({ entryPoints: [join(root, 'packages/vm-manager/test/fixtures/fake-driver-worker.ts')], bundle: true, platform: 'node', format: 'esm', outfile: workerFile, alias, logLevel: 'silent' });
  manager = new VmManager({ workerUrl: workerFile, stopTimeoutMs: 300 });
  server = createManagerApiServer(manager);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
}, 60_000);
afterAll(async () => {
  server.close();
  await manager.shutdown();
});

async function ctl(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(['ctl', '--socket', socket, ...args], {
    stdout: { write: (c: string | Uint8Array) => ((out += typeof c === 'string' ? c : new TextDecoder().decode(c)), true) },
    stderr: { write: (c: string) => ((err += c), true) },
  });
  return { status, out, err };
}

describe('typevisor ctl against typevisor serve', () => {
  it('creates, lists, drives, snapshots, restores and deletes VMs', async () => {
    expect(await ctl('create', 'web', '--mem', '16M', '--net', 'switch:lan')).toMatchObject({ status: 0, out: 'web: created\n' });
    expect(manager.inspect('web').config).toMatchObject({ memoryMiB: 16, nets: [{ switch: 'lan' }] });
    expect(await ctl('start', 'web')).toMatchObject({ status: 0, out: 'web: running\n' });
    const list = await ctl('ls');
    expect(list.out).toMatch(/^ID\s+STATE\s+MEMORY\s+UPTIME\nweb\s+running\s+16 MiB\s+\d+\.\d s\n$/);
    expect(await ctl('pause', 'web')).toMatchObject({ status: 0, out: 'web: paused\n' });
    const file = join(dir, 'web.snap');
    expect((await ctl('snapshot', 'web', file)).out).toMatch(/^web: snapshot written to .*web\.snap \(\d+ bytes\)\n$/);
    expect(await ctl('restore', 'web2', file)).toMatchObject({ status: 0, out: 'web2: paused\n' });
    expect(JSON.parse((await ctl('inspect', 'web2')).out)).toMatchObject({ id: 'web2', state: 'paused' });
    expect(await ctl('delete', 'web2')).toMatchObject({ status: 0, out: 'web2: deleted\n' });
    expect(await ctl('delete', 'web')).toMatchObject({ status: 0, out: 'web: deleted\n' });
    expect((await ctl('ls')).out).toBe('no VMs\n');
  });

  it('reports the server\'s typed errors and exits 1', async () => {
    expect(await ctl('start', 'ghost')).toMatchObject({ status: 1, err: 'typevisor ctl: not_found: no VM named ghost\n' });
    await ctl('create', 'x', '--mem', '16M');
    expect(await ctl('resume', 'x')).toMatchObject({ status: 1, err: 'typevisor ctl: invalid_state: resume is not allowed while VM x is created\n' });
    expect(await ctl('create', 'bad id', '--mem', '16M')).toMatchObject({ status: 1 });
    await ctl('delete', 'x');
  });

  it('names mistakes in its own arguments', async () => {
    expect((await ctl('frobnicate')).err).toMatch(/frobnicate: unknown ctl command/);
    expect((await ctl('start')).err).toMatch(/start: expects a VM id/);
    expect((await ctl('create', 'y', '--net', 'tap0')).err).toMatch(/--net: "tap0" is not a network/);
  });
});
