import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VmManager, WORKER_OVERHEAD_MIB } from '@typevisor/vm-manager';
import type { VmEvent } from '@typevisor/vm-protocol';
import { buildWorker } from './build-worker.js';

let workerUrl: string;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-manager-'));
beforeAll(async () => {
  workerUrl = await buildWorker(new URL('./fixtures/fake-driver-worker.ts', import.meta.url).pathname);
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let manager: VmManager;
afterEach(async () => manager?.shutdown());

function newManager(options: { hostMemoryMiB?: number } = {}) {
  manager = new VmManager({ workerUrl, stopTimeoutMs: 300, ...options });
  return manager;
}

function consoleOf(m: VmManager, id: string) {
  let text = '';
  const session = m.attachConsole(id, (bytes) => (text += new TextDecoder().decode(bytes)), { write: true, replay: true });
  return {
    session,
    type: (s: string) => session.write(new TextEncoder().encode(s)),
    text: () => text,
    waitFor: async (needle: string, ms = 3000) => {
      const end = Date.now() + ms;
      while (!text.includes(needle)) {
        if (Date.now() > end) throw new Error(`console never showed ${JSON.stringify(needle)}; it has ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

describe('VmManager', () => {
  it('drives the lifecycle and reports every state change', async () => {
    const m = newManager();
    const events: string[] = [];
    m.onEvent((vm, e: VmEvent) => e.name === 'stateChanged' && events.push(`${vm}:${e.from}->${e.to}`));
    expect((await m.create('a', { memoryMiB: 16 })).state).toBe('created');
    expect((await m.start('a')).state).toBe('running');
    expect((await m.pause('a')).state).toBe('paused');
    expect((await m.resume('a')).state).toBe('running');
    expect((await m.stop('a')).state).toBe('stopped');
    expect(m.list().map((v) => [v.id, v.state])).toEqual([['a', 'stopped']]);
    await m.delete('a');
    expect(m.list()).toEqual([]);
    expect(events).toEqual(['a:created->running', 'a:running->paused', 'a:paused->running', 'a:running->stopped']);
  });

  it('refuses illegal commands with a typed error and changes nothing', async () => {
    const m = newManager();
    await m.create('a', { memoryMiB: 16 });
    await expect(m.pause('a')).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(m.create('a', { memoryMiB: 16 })).rejects.toMatchObject({ code: 'already_exists' });
    await expect(m.start('nope')).rejects.toThrow(/no VM named nope/);
    await expect(m.create('b', { memoryMiB: 16, surprise: 1 })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(m.snapshot('a', path.join(scratch, 'x'))).rejects.toMatchObject({ code: 'invalid_state' });
    expect(m.inspect('a').state).toBe('created');
    expect(m.list()).toHaveLength(1);
  });

  it('shares a console: every reader sees output, one writer at a time', async () => {
    const m = newManager();
    await m.create('a', { memoryMiB: 16 });
    await m.start('a');
    const writer = consoleOf(m, 'a');
    let second = '';
    m.attachConsole('a', (b) => (second += new TextDecoder().decode(b)));
    expect(() => m.attachConsole('a', () => undefined, { write: true })).toThrow(/another client is writing/);
    writer.type('hello\n');
    await writer.waitFor('echo hello #1');
    expect(second).toContain('echo hello #1');
    expect(writer.text()).toContain('fake guest booted');
    writer.session.detach();
    const next = m.attachConsole('a', () => undefined, { write: true });
    expect(next.writable).toBe(true);
  });

  it('stops a wedged VM within one second and leaves the others alone', async () => {
    const m = newManager();
    await m.create('wedged', { memoryMiB: 16 });
    await m.create('fine', { memoryMiB: 16 });
    await m.start('wedged');
    await m.start('fine');
    consoleOf(m, 'wedged').type('spin\n');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    expect((await m.stop('wedged')).state).toBe('stopped');
    expect(Date.now() - started).toBeLessThan(1000);
    const fine = consoleOf(m, 'fine');
    fine.type('still\n');
    await fine.waitFor('echo still');
    expect(m.inspect('fine').state).toBe('running');
  });

  it('marks a VM failed when its worker dies or its guest triple-faults, and only that VM', async () => {
    const m = newManager();
    const events: string[] = [];
    m.onEvent((vm, e) => events.push(`${vm}:${e.name}`));
    for (const id of ['crash', 'fault', 'fine']) {
      await m.create(id, { memoryMiB: 16 });
      await m.start(id);
    }
    consoleOf(m, 'crash').type('crash\n');
    consoleOf(m, 'fault').type('fault\n');
    for (let i = 0; i < 200 && (m.inspect('crash').state !== 'failed' || m.inspect('fault').state !== 'failed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(m.inspect('crash')).toMatchObject({ state: 'failed', failure: 'worker exited with code 3' });
    expect(m.inspect('fault')).toMatchObject({ state: 'failed', failure: 'triple fault at EIP dead' });
    expect(events).toContain('crash:workerDied');
    expect(events).toContain('fault:tripleFault');
    expect(m.inspect('fine').state).toBe('running');
    await expect(m.start('crash')).rejects.toMatchObject({ code: 'invalid_state' });
    await m.delete('crash');
  });

  it('snapshots a paused VM and restores it as a new VM that continues where it was', async () => {
    const m = newManager();
    await m.create('a', { memoryMiB: 16 });
    await m.start('a');
    const a = consoleOf(m, 'a');
    a.type('one\n');
    await a.waitFor('echo one #1');
    await m.pause('a');
    const file = path.join(scratch, 'a.snap');
    const written = await m.snapshot('a', file);
    expect(written.bytes).toBeLessThan(64 * 1024);
    expect((await m.restore('b', file)).state).toBe('paused');
    await m.resume('b');
    const b = consoleOf(m, 'b');
    b.type('two\n');
    await b.waitFor('echo two #2');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(path.join(scratch, 'bad.snap'), bytes);
    await expect(m.restore('c', path.join(scratch, 'bad.snap'))).rejects.toMatchObject({ code: 'snapshot_invalid' });
    expect(m.list().map((v) => v.id)).toEqual(['a', 'b']);
  });

  it('enforces the host memory budget: guest RAM plus the worker overhead', async () => {
    const m = newManager({ hostMemoryMiB: 2 * (64 + WORKER_OVERHEAD_MIB) });
    await m.create('a', { memoryMiB: 64 });
    await m.create('b', { memoryMiB: 64 });
    await expect(m.create('c', { memoryMiB: 16 })).rejects.toMatchObject({ code: 'resource_exhausted' });
    await m.delete('a');
    await m.create('c', { memoryMiB: 16 });
  });

  it('connects NICs on a named switch across workers', async () => {
    const m = newManager();
    await m.create('a', { memoryMiB: 17, nets: [{ switch: 'lan' }] });
    await m.create('b', { memoryMiB: 18, nets: [{ switch: 'lan' }] });
    await m.create('c', { memoryMiB: 19, nets: [{ switch: 'other' }] });
    for (const id of ['a', 'b', 'c']) await m.start(id);
    const b = consoleOf(m, 'b');
    const c = consoleOf(m, 'c');
    consoleOf(m, 'a').type('ping\n');
    await b.waitFor('nic0 got 60 bytes from 2:0:0:0:0:11');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.text()).not.toContain('nic0 got');
  });

  it('serializes concurrent requests on one VM', async () => {
    const m = newManager();
    await m.create('a', { memoryMiB: 16 });
    const results = await Promise.allSettled([m.start('a'), m.start('a'), m.pause('a'), m.resume('a'), m.stop('a')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(m.inspect('a').state).toBe('stopped');
  });
});
