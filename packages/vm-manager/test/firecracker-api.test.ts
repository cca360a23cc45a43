import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VmManager, createFirecrackerApiServer } from '@typevisor/vm-manager';
import { buildWorker } from './build-worker.js';
import { listen, requester } from './http-client.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-fc-'));
let workerUrl: string;
beforeAll(async () => {
  workerUrl = await buildWorker(new URL('./fixtures/fake-driver-worker.ts', import.meta.url).pathname);
});

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function firecracker() {
  const manager = new VmManager({ workerUrl, stopTimeoutMs: 300 });
  let consoleText = '';
  const server: http.Server = createFirecrackerApiServer({ manager, instanceId: 'fc1', onConsoleOutput: (b) => (consoleText += new TextDecoder().decode(b)) });
  const port = await listen(server);
  cleanup = async () => {
    server.close();
    await manager.shutdown();
  };
  return { call: requester({ port }), manager, console: () => consoleText };
}

const kernel = path.join(scratch, 'vmlinux');
fs.writeFileSync(kernel, 'kernel');

describe('Firecracker API', () => {
  it('configures and boots a microVM the way Firecracker clients do', async () => {
    const { call, manager } = await firecracker();
    expect((await call('GET', '/')).json()).toEqual({ id: 'fc1', state: 'Not started', vmm_version: '1.10.0', app_name: 'typevisor' });
    expect((await call('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 64 })).status).toBe(204);
    expect((await call('PUT', '/boot-source', { kernel_image_path: kernel, boot_args: 'console=ttyS0' })).status).toBe(204);
    expect((await call('PUT', '/drives/rootfs', { drive_id: 'rootfs', path_on_host: kernel, is_root_device: true, is_read_only: true })).status).toBe(204);
    expect((await call('PUT', '/network-interfaces/eth0', { iface_id: 'eth0', host_dev_name: 'lan', guest_mac: 'AA:FC:00:00:00:01' })).status).toBe(204);
    expect((await call('PUT', '/actions', { action_type: 'InstanceStart' })).status).toBe(204);
    expect((await call('GET', '/')).json()).toMatchObject({ state: 'Running' });
    expect(manager.inspect('fc1').config).toEqual({
      memoryMiB: 64, kernel, cmdline: 'console=ttyS0', disks: [{ path: kernel, readOnly: true }], nets: [{ switch: 'lan', mac: 'aa:fc:00:00:00:01' }],
    });
    expect((await call('PATCH', '/vm', { state: 'Paused' })).status).toBe(204);
    expect((await call('GET', '/')).json()).toMatchObject({ state: 'Paused' });
    const snap = path.join(scratch, 'fc.snap');
    expect((await call('PUT', '/snapshot/create', { snapshot_type: 'Full', snapshot_path: snap, mem_file_path: `${snap}.mem` })).status).toBe(204);
    expect(fs.statSync(snap).size).toBeGreaterThan(0);
    expect((await call('PATCH', '/vm', { state: 'Resumed' })).status).toBe(204);
    expect((await call('GET', '/machine-config')).json()).toEqual({ vcpu_count: 1, mem_size_mib: 64, smt: false, track_dirty_pages: false });
  });

  it('loads a snapshot into a fresh instance and resumes it', async () => {
    const first = await firecracker();
    await first.call('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 32 });
    await first.call('PUT', '/boot-source', { kernel_image_path: kernel });
    await first.call('PUT', '/actions', { action_type: 'InstanceStart' });
    await first.call('PATCH', '/vm', { state: 'Paused' });
    const snap = path.join(scratch, 'load.snap');
    await first.call('PUT', '/snapshot/create', { snapshot_path: snap, mem_file_path: `${snap}.mem` });
    await cleanup?.();
    const second = await firecracker();
    expect((await second.call('PUT', '/snapshot/load', { snapshot_path: snap, mem_backend: { backend_type: 'File', backend_path: `${snap}.mem` }, resume_vm: true })).status).toBe(204);
    expect((await second.call('GET', '/')).json()).toMatchObject({ state: 'Running' });
    expect(second.manager.inspect('fc1').config.memoryMiB).toBe(32);
  });

  it('answers errors as Firecracker does: 400 with fault_message, nothing changed', async () => {
    const { call } = await firecracker();
    const fault = async (method: string, url: string, body?: object | string) => {
      const r = await call(method, url, body);
      expect(r.status).toBe(400);
      return (r.json() as { fault_message: string }).fault_message;
    };
    expect(await fault('PUT', '/actions', { action_type: 'InstanceStart' })).toMatch(/PUT \/boot-source first/);
    expect(await fault('PUT', '/drives/a', { drive_id: 'b', path_on_host: kernel, is_root_device: false })).toMatch(/does not match/);
    expect(await fault('PUT', '/boot-source', { kernel_image_path: kernel, surprise: true })).toMatch(/invalid request/);
    expect(await fault('PUT', '/machine-config', { vcpu_count: 'two', mem_size_mib: 64 })).toMatch(/vcpu_count/);
    expect(await fault('GET', '/nope')).toMatch(/Invalid request method and\/or path/);
    await call('PUT', '/machine-config', { vcpu_count: 2, mem_size_mib: 64 });
    await call('PUT', '/boot-source', { kernel_image_path: kernel });
    expect(await fault('PUT', '/actions', { action_type: 'InstanceStart' })).toMatch(/one vCPU/);
    await call('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 64 });
    await call('PUT', '/actions', { action_type: 'InstanceStart' });
    expect(await fault('PUT', '/boot-source', { kernel_image_path: kernel })).toMatch(/not supported after starting/);
    expect(await fault('PUT', '/snapshot/create', { snapshot_path: 's', mem_file_path: 'm' })).toMatch(/not paused/);
  });

  it('fuzz: arbitrary bodies to every endpoint get 4xx (or are valid no-ops) and leave the configuration as it was', async () => {
    const { call } = await firecracker();
    await call('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 64 });
    const before = (await call('GET', '/vm/config')).body;
    const endpoints = fc.constantFrom(['PUT', '/boot-source'], ['PUT', '/machine-config'], ['PATCH', '/machine-config'], ['PUT', '/drives/d1'], ['PUT', '/network-interfaces/e1'], ['PUT', '/actions'], ['PATCH', '/vm'], ['PUT', '/snapshot/load'], ['PUT', '/logger']);
    const bodies = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom('{"__proto__":{"x":1}}', '{"kernel_image_path":"/k","constructor":{"prototype":{"x":1}}}', '{"vcpu_count":1,"mem_size_mib":64,"extra":1}', '{"drive_id":"d1","path_on_host":5,"is_root_device":true}', '{', '{"state":"Frozen"}', '{"action_type":"Explode"}'),
    );
    await fc.assert(
      fc.asyncProperty(endpoints, bodies, async ([method, url], body) => {
        const r = await call(method, url, body);
        // A random body can happen to be a valid no-op (`{}` for PATCH /machine-config or PUT /logger).
        if (r.status === 204) return;
        expect(r.status, `${method} ${url} ${body.slice(0, 60)} -> ${r.body}`).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.json()).toEqual({ fault_message: expect.any(String) });
      }),
      { seed: 5, numRuns: 300 },
    );
    expect((await call('GET', '/vm/config')).body).toBe(before);
  });
});
