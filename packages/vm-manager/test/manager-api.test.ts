import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_UPGRADE, MAX_BODY_BYTES, VmManager, createManagerApiServer } from '@typevisor/vm-manager';
import { buildWorker } from './build-worker.js';
import { listen, requester } from './http-client.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-api-'));
let manager: VmManager;
let server: http.Server;
let call: ReturnType<typeof requester>;
let port: number;

beforeAll(async () => {
  manager = new VmManager({ workerUrl: await buildWorker(new URL('./fixtures/fake-driver-worker.ts', import.meta.url).pathname), stopTimeoutMs: 300 });
  server = createManagerApiServer(manager);
  port = await listen(server);
  call = requester({ port });
});
afterAll(async () => {
  server.close();
  await manager.shutdown();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('multi-VM HTTP API', () => {
  it('creates, lists, acts on, snapshots, restores and deletes VMs', async () => {
    const created = await call('POST', '/v1/vms', { id: 'web', config: { memoryMiB: 16 } });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ id: 'web', state: 'created' });
    expect((await call('GET', '/v1/vms')).json()).toHaveLength(1);
    expect((await call('POST', '/v1/vms/web/actions', { action: 'start' })).json()).toMatchObject({ state: 'running' });
    expect((await call('POST', '/v1/vms/web/actions', { action: 'pause' })).json()).toMatchObject({ state: 'paused' });
    const file = path.join(scratch, 'web.snap');
    expect((await call('POST', '/v1/vms/web/snapshot', { path: file })).json()).toMatchObject({ path: file });
    expect((await call('POST', '/v1/vms/restore', { id: 'web2', path: file })).json()).toMatchObject({ id: 'web2', state: 'paused' });
    expect((await call('DELETE', '/v1/vms/web2')).status).toBe(204);
    expect((await call('DELETE', '/v1/vms/web')).status).toBe(204);
    expect((await call('GET', '/v1/vms/web')).status).toBe(404);
  });

  it('answers mistakes with typed 4xx errors', async () => {
    expect((await call('POST', '/v1/vms/none/actions', { action: 'start' })).json()).toEqual({ error: { code: 'not_found', message: 'no VM named none' } });
    await call('POST', '/v1/vms', { id: 'x', config: { memoryMiB: 16 } });
    const illegal = await call('POST', '/v1/vms/x/actions', { action: 'resume' });
    expect([illegal.status, (illegal.json() as { error: { code: string } }).error.code]).toEqual([409, 'invalid_state']);
    expect((await call('GET', '/v1/nothing')).status).toBe(404);
    expect((await call('POST', '/v1/vms', '{"id":')).json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect((await call('POST', '/v1/vms', 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413);
    await call('DELETE', '/v1/vms/x');
  });

  it('serves an OpenAPI document generated from the protocol schemas', async () => {
    const doc = (await call('GET', '/openapi.json')).json() as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/vms/{id}/actions');
    expect(Object.keys(doc.components.schemas.VmConfig.properties ?? {})).toEqual(expect.arrayContaining(['memoryMiB', 'kernel', 'disks', 'nets']));
  });

  it('streams a console over an upgraded connection in both directions', async () => {
    await call('POST', '/v1/vms', { id: 'con', config: { memoryMiB: 16 } });
    await call('POST', '/v1/vms/con/actions', { action: 'start' });
    const text = await new Promise<string>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path: '/v1/vms/con/console?write=1', headers: { connection: 'Upgrade', upgrade: CONSOLE_UPGRADE } });
      request.on('upgrade', (_res, socket, head: Buffer) => {
        let seen = head.toString();
        socket.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('echo over-http')) {
            socket.destroy();
            resolve(seen);
          }
        });
        socket.write('over-http\n');
      });
      request.on('error', reject);
      request.end();
    });
    expect(text).toContain('fake guest booted');
    await call('DELETE', '/v1/vms/con');
  });

  it('also serves over a Unix socket', async () => {
    const socketPath = path.join(scratch, 'api.sock');
    const unixServer = createManagerApiServer(manager);
    await new Promise<void>((r) => unixServer.listen(socketPath, r));
    try {
      expect((await requester({ socketPath })('GET', '/v1/vms')).status).toBe(200);
    } finally {
      unixServer.close();
    }
  });

  it('fuzz: malformed, oversized, unknown-field, wrong-type and polluting bodies get 4xx and change nothing', async () => {
    await call('POST', '/v1/vms', { id: 'keep', config: { memoryMiB: 16 } });
    const snapshot = () => JSON.stringify(manager.list().map(({ id, state, config }) => ({ id, state, config })));
    const before = snapshot();
    const body = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ id: fc.string(), config: fc.jsonValue() }).map((v) => JSON.stringify(v)),
      fc.record({ id: fc.constant('keep'), config: fc.record({ memoryMiB: fc.oneof(fc.integer(), fc.string()), extra: fc.jsonValue() }) }).map((v) => JSON.stringify(v)),
      fc.constantFrom('{"__proto__":{"polluted":1},"id":"p","config":{"memoryMiB":16}}', '{"id":"p","config":{"memoryMiB":16,"constructor":{"prototype":{"x":1}}}}', '{"action":"start","__proto__":{}}'),
      fc.constant('['.repeat(5000)),
    );
    const target = fc.constantFrom(['POST', '/v1/vms'], ['POST', '/v1/vms/keep/actions'], ['POST', '/v1/vms/keep/snapshot'], ['POST', '/v1/vms/restore'], ['POST', '/v1/vms/nope/actions']);
    await fc.assert(
      fc.asyncProperty(target, body, async ([method, url], payload) => {
        const result = await call(method, url, payload);
        expect(result.status, `${method} ${url} ${payload.slice(0, 80)} -> ${result.body}`).toBeGreaterThanOrEqual(400);
        expect(result.status).toBeLessThan(500);
        expect(result.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }),
      { seed: 42, numRuns: 300 },
    );
    expect(snapshot()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
